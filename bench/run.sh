#!/usr/bin/env bash
# Benchmarks swiftbpfcc against clang-19 -target bpf -O2 -g on the same sources, in one run:
# instructions emitted (slots of each program as loaded, sub-programs included), instructions the
# verifier processed (the kernel's verified_insns; for objects that need an arena map, where this
# kernel refuses them, in scripts/vm's virtual machine), and compile time; each as ours/clang, over
# the corpus, the samples and the libbpf-style programs of bench/programs (bpf_printk with and
# without global data). Then the compile time of a program including the running kernel's
# vmlinux.h (bpftool generates it), on a first build (empty prefix cache) and a repeat one. Then
# bench/compile_time.sh: compile time against the size of one function. Last,
# bench/arena_runtime.sh: the arena samples' run time in the kernel (or, where it refuses arena
# maps, in scripts/vm's virtual machine) against the native build, ours and clang's.
#
#     bench/run.sh            # every corpus program, the samples and bench/programs
#
# Ratios below 1.00 mean we emit or cost less than clang. Needs root (bpf()) for the verifier
# columns and the run times.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

# Sums the insns= and verified= columns of a `swiftbpf stats` output.
stats() {
	awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); t[kv[1]] += kv[2] } }
		END { printf "%d %d\n", t["insns"], t["verified"] }' "$1"
}

# First every program is compiled by both compilers (timed) and loaded here. Where this kernel
# refuses arena maps, the objects that need one are loaded again, all in one boot of scripts/vm's
# virtual machine (Linux 6.12): their rows are marked `(vm)`, ours and clang's measured in the
# same kernel.
sources=(Tests/EndToEndTests/Corpus/*.c samples/hello.c samples/arena_list/arena_list.c samples/arena_htab/arena_htab.c
	bench/programs/printk_*.bpf.c)
cc -O2 -o "$work/kernel-probe" scripts/kernel-probe.c
arena_here=$("$work/kernel-probe" 2>/dev/null | grep -qw arena && echo yes || echo no)
in_vm=()
for source in "${sources[@]}"; do
	name=$(basename "$source")
	name=${name%%.*}
	cflags=$(sed -n 's|^// CFLAGS: ||p' "$source")
	cflags=${cflags:--mcpu=v3}
	clang_cmd=(clang-19 -target bpf -O2 -g $cflags -I include -I /usr/include/x86_64-linux-gnu -c "$source" -o "$work/$name-clang.o")
	ours_cmd=("$bin/swiftbpfcc" -O2 -g $cflags -I include "$source" -o "$work/$name-ours.o")
	if ! "${clang_cmd[@]}" 2>"$work/$name-clang.err"; then
		continue
	fi
	best_time "${clang_cmd[@]}" >"$work/$name-clang.us"
	best_time "${ours_cmd[@]}" >"$work/$name-ours.us"
	for side in clang ours; do
		"$bin/swiftbpf" stats "$work/$name-$side.o" >"$work/$name-$side.stats" 2>"$work/$name-$side.load" || true
	done
	if [ "$arena_here" = no ] && grep -q "creating map.*EPERM" "$work/$name-clang.load" "$work/$name-ours.load"; then
		in_vm+=("$name")
	fi
done
if [ ${#in_vm[@]} -gt 0 ]; then
	for name in "${in_vm[@]}"; do
		for side in clang ours; do
			echo "\"$bin/swiftbpf\" stats \"$work/$name-$side.o\" >\"$work/$name-$side.stats\" 2>\"$work/$name-$side.load\" || true"
		done
	done >"$work/load-in-vm.sh"
	scripts/vm/build-kernel.sh >/dev/null
	scripts/vm/run.sh bash "$work/load-in-vm.sh" >"$work/vm.log" 2>&1 || { cat "$work/vm.log" >&2; exit 1; }
fi

printf '%-22s %8s %8s %6s   %9s %9s %6s   %9s %9s %6s\n' program emitted "" "" verified "" "" "compile" "(us)" ""
printf '%-22s %8s %8s %6s   %9s %9s %6s   %9s %9s %6s\n' "" clang ours ratio clang ours ratio clang ours ratio
# Rows where either object cannot be compiled or loaded say why and stay out of the totals.
totals=(0 0 0 0 0 0)
log_sums=(0 0 0)
count=0
# Programs above 1.5x clang in emitted and in verified instructions (issue 11's target: none).
above=(0 0)
for source in "${sources[@]}"; do
	name=$(basename "$source")
	name=${name%%.*}
	if [ ! -f "$work/$name-clang.us" ]; then
		printf '%-22s clang-19 cannot compile it: %s\n' "$name" "$(grep -m1 error: "$work/$name-clang.err" | sed 's/.*error: //')"
		continue
	fi
	label=$name
	if [[ " ${in_vm[*]} " == *" $name "* ]]; then label="$name (vm)"; fi
	failed=""
	for side in clang ours; do
		if [ ! -s "$work/$name-$side.stats" ]; then
			# The loader's own failures (EPERM creating an arena map) have no "error:" line.
			failed="$failed $side's object fails to load: $({ grep -m1 'error:' "$work/$name-$side.load" ||
				tail -1 "$work/$name-$side.load"; } | sed 's/.*error: //')"
		fi
	done
	if [ -n "$failed" ]; then
		printf '%-22s%s\n' "$label" "$failed"
		continue
	fi
	read -r clang_insns clang_verified < <(stats "$work/$name-clang.stats")
	read -r ours_insns ours_verified < <(stats "$work/$name-ours.stats")
	clang_us=$(cat "$work/$name-clang.us")
	ours_us=$(cat "$work/$name-ours.us")
	printf '%-22s %8d %8d %6s   %9d %9d %6s   %9d %9d %6s\n' "$label" \
		"$clang_insns" "$ours_insns" "$(ratio "$ours_insns" "$clang_insns")" \
		"$clang_verified" "$ours_verified" "$(ratio "$ours_verified" "$clang_verified")" \
		"$clang_us" "$ours_us" "$(ratio "$ours_us" "$clang_us")"
	totals=($((totals[0] + clang_insns)) $((totals[1] + ours_insns)) $((totals[2] + clang_verified))
		$((totals[3] + ours_verified)) $((totals[4] + clang_us)) $((totals[5] + ours_us)))
	log_sums=($(awk -v s0="${log_sums[0]}" -v s1="${log_sums[1]}" -v s2="${log_sums[2]}" \
		-v a="$ours_insns" -v b="$clang_insns" -v c="$ours_verified" -v d="$clang_verified" -v e="$ours_us" -v f="$clang_us" \
		'BEGIN { printf "%f %f %f", s0 + log(a / b), s1 + log(c / d), s2 + log(e / f) }'))
	count=$((count + 1))
	if awk -v a="$ours_insns" -v b="$clang_insns" 'BEGIN { exit !(a > 1.5 * b) }'; then above[0]=$((above[0] + 1)); fi
	if awk -v a="$ours_verified" -v b="$clang_verified" 'BEGIN { exit !(a > 1.5 * b) }'; then above[1]=$((above[1] + 1)); fi
done
printf '%-22s %8d %8d %6s   %9d %9d %6s   %9d %9d %6s\n' "total" \
	"${totals[0]}" "${totals[1]}" "$(ratio "${totals[1]}" "${totals[0]}")" \
	"${totals[2]}" "${totals[3]}" "$(ratio "${totals[3]}" "${totals[2]}")" \
	"${totals[4]}" "${totals[5]}" "$(ratio "${totals[5]}" "${totals[4]}")"
awk -v n="$count" -v a="${log_sums[0]}" -v b="${log_sums[1]}" -v c="${log_sums[2]}" \
	'BEGIN { printf "%-22s %17s %6.2f   %19s %6.2f   %19s %6.2f\n", "geometric mean", "", exp(a / n), "", exp(b / n), "", exp(c / n) }'
printf '%-22s %17s %6s   %19s %6s\n' "target" "" "<=0.95" "" "<=1.00"
printf '%-22s %17s %6d   %19s %6d   (target: 0)\n' "programs above 1.5x" "" "${above[0]}" "" "${above[1]}"

echo
vmlinux="$work/vmlinux"
mkdir -p "$vmlinux"
bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$vmlinux/vmlinux.h"
cp bench/programs/vmlinux_minimal.bpf.c "$vmlinux/"
cache="$work/cache"
ours_vmlinux=(env XDG_CACHE_HOME="$cache" "$bin/swiftbpfcc" -O2 -g -c "$vmlinux/vmlinux_minimal.bpf.c" -o "$vmlinux/ours.o")
clang_us=$(best_time clang-19 -target bpf -O2 -g -I /usr/include/x86_64-linux-gnu -c "$vmlinux/vmlinux_minimal.bpf.c" \
	-o "$vmlinux/clang.o")
# A first build finds the cache empty and starts the process that fills it, which is waited for
# (not timed) so that it does not slow the next measurement down.
first_us=0
for _ in 1 2 3; do
	rm -rf "$cache"
	start=$(now_ns)
	"${ours_vmlinux[@]}"
	end=$(now_ns)
	elapsed=$(((end - start) / 1000))
	if [ "$first_us" -eq 0 ] || [ "$elapsed" -lt "$first_us" ]; then first_us=$elapsed; fi
	for _ in $(seq 600); do
		if compgen -G "$cache/swiftbpfcc/*.prefix" >/dev/null; then break; fi
		sleep 0.1
	done
done
repeat_us=$(best_time "${ours_vmlinux[@]}")
echo "Compile time with vmlinux.h ($(($(stat -c %s "$vmlinux/vmlinux.h") / 1024)) KiB), bench/programs/vmlinux_minimal.bpf.c, best of three (us)"
printf '%-22s %9s %9s %6s\n' build clang ours ratio
printf '%-22s %9d %9d %6s\n' "first (empty cache)" "$clang_us" "$first_us" "$(ratio "$first_us" "$clang_us")"
printf '%-22s %9d %9d %6s\n' "repeat" "$clang_us" "$repeat_us" "$(ratio "$repeat_us" "$clang_us")"

echo
bench/compile_time.sh

echo
bench/arena_runtime.sh
