#!/usr/bin/env bash
# The main job: installs what is missing, builds swiftbpfcc, then compiles each sample and runs it
# natively (cc) and in the kernel (swiftbpfcc + the swiftbpf loader), printing the results side by
# side; for the arena samples also what user space reads from the BPF-built data in the arena.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
scripts/install-deps.sh
swift build -c release 2>&1 | tail -n 1
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run_sample FILE.c SETS... -- RUN-ARGS...: native driver and BPF run, side by side.
run_sample() {
	local source=$1 name
	name=$(basename "$source" .c)
	shift
	local runargs=("$@")
	# The native driver calls the programs in the same order and prints the same lines.
	{
		echo "#include \"$PWD/$source\""
		echo "#include \"$PWD/Tests/Support/native_driver.h\""
		echo "int main(void) {"
		local i=0
		while [ $i -lt ${#runargs[@]} ]; do
			case "${runargs[$i]}" in
			--set) echo "  ${runargs[$((i + 1))]/=/ = };" ;;
			--prog) echo "  SWIFTBPF_RUN(${runargs[$((i + 1))]});" ;;
			--get) echo "  SWIFTBPF_GET(${runargs[$((i + 1))]});" ;;
			esac
			i=$((i + 2))
		done
		echo "  return 0;"
		echo "}"
	} >"$work/$name-native.c"
	cc -O2 -I include -o "$work/$name-native" "$work/$name-native.c"
	"$work/$name-native" >"$work/$name-native.out"
	"$bin/swiftbpfcc" -O2 -g -I include "$source" -o "$work/$name.o"
	"$bin/swiftbpf" run "$work/$name.o" "${runargs[@]}" >"$work/$name-bpf.out"
	echo
	echo "== $source: swiftbpf run ${runargs[*]}"
	printf '%-36s %s\n' "native (cc -O2)" "BPF (swiftbpfcc, in the kernel)"
	paste -d '\n' "$work/$name-native.out" "$work/$name-bpf.out" | while IFS= read -r native && IFS= read -r bpf; do
		mark="  "
		[ "$native" = "$bpf" ] || mark="!="
		printf '%-36s %s %s\n' "$native" "$mark" "$bpf"
	done
	cmp -s "$work/$name-native.out" "$work/$name-bpf.out" && echo "same result" || { echo "RESULTS DIFFER"; return 1; }
}

run_sample samples/hello.c --set n=20 --prog hello --get sum_of_squares --get digest

# run_arena_sample SOURCE DRIVER COUNTS...: the driver prints native, kernel and user-space results.
run_arena_sample() {
	local source=$1 driver=$2 name
	name=$(basename "$source" .c)
	shift 2
	"$bin/swiftbpfcc" -O2 -g -I include "$source" -o "$work/$name.o"
	echo
	echo "== $source: the same C natively (heap) and in the kernel (arena), and user space reading the arena"
	"$bin/$driver" "$work/$name.o" "$@"
}

# The arena samples need a kernel that creates arena maps; some refuse them (EPERM) although
# bpf() works. The probe says which, and why.
cc -O2 -Wall -Werror -o "$work/kernel-probe" scripts/kernel-probe.c
granted=$("$work/kernel-probe" 2>"$work/kernel-probe.err")
if [[ " $granted " == *" arena "* ]]; then
	run_arena_sample samples/arena_list/arena_list.c arena-list 100 5000
	run_arena_sample samples/arena_htab/arena_htab.c arena-htab 1000 10000
else
	echo
	echo "== arena samples not run: this kernel refuses arena maps ($(grep -i arena "$work/kernel-probe.err" | sed 's/^kernel-probe: //'))"
	for sample in samples/arena_list/arena_list.c samples/arena_htab/arena_htab.c; do
		"$bin/swiftbpfcc" -O2 -g -I include "$sample" -o "$work/$(basename "$sample" .c).o"
		echo "   $sample compiles; loading it needs arena maps"
	done
fi
