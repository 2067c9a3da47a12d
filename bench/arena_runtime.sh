#!/usr/bin/env bash
# The arena samples at run time: swiftbpfcc's object and clang-19's, each run by the sample's
# driver against the same C built by cc -O2 on the heap (native); the machine code the JIT made
# of each program (`swiftbpf stats`' jited bytes); and, for the hash table's lookup loop, the
# machine instructions of each C line in the JIT's code of both objects and in cc's (lines.awk).
# Where this kernel refuses arena maps, the drivers run in the virtual machine of scripts/vm
# instead: emulated, so its times are only good for ratios (kernel against native, ours against
# clang's), not as absolute figures.
#
#     bench/arena_runtime.sh            # run by bench/run.sh too
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

mkdir -p .build/bench
out=$PWD/.build/bench/arena
rm -rf "$out"
mkdir -p "$out"
for sample in arena_list arena_htab; do
	"$bin/swiftbpfcc" -O2 -g -I include "samples/$sample/$sample.c" -o "$out/$sample-ours.o"
	clang-19 -target bpf -O2 -g -mcpu=v3 -I include -I /usr/include/x86_64-linux-gnu -c "samples/$sample/$sample.c" \
		-o "$out/$sample-clang.o"
done

# Runs the drivers and `swiftbpf stats` on each object, here or in the virtual machine.
# A failure (the verifier rejecting clang's object, say) is reported and the rest still runs.
cat >"$out/run.sh" <<SCRIPT
for side in ours clang; do
	echo "== \$side"
	"$bin/swiftbpf" stats "$out/arena_list-\$side.o" 2>&1 | grep -E "insns=|error:"
	"$bin/swiftbpf" stats "$out/arena_htab-\$side.o" 2>&1 | grep -E "insns=|error:"
	"$bin/arena-list" "$out/arena_list-\$side.o" 5000 2>&1 | grep -E "time-per-insert|rejected"
	"$bin/arena-htab" "$out/arena_htab-\$side.o" 16 1000 10000 2>&1 | grep -E "lookups-per-second|disagreements|rejected"
	"$bin/swiftbpf" dump "$out/arena_htab-\$side.o" --jited --prog htab_lookup_all >"$out/htab_lookup_all-\$side.jit" 2>&1
done
exit 0
SCRIPT
cc -O2 -o "$work/kernel-probe" scripts/kernel-probe.c
if "$work/kernel-probe" 2>/dev/null | grep -qw arena; then
	echo "Arena samples at run time, in this kernel"
	bash "$out/run.sh" >"$out/report.txt"
else
	echo "Arena samples at run time, in the virtual machine of scripts/vm (this kernel refuses arena maps;"
	echo "the machine is emulated: compare ratios only)"
	scripts/vm/build-kernel.sh
	scripts/vm/run.sh bash "$out/run.sh" >"$out/report.txt" 2>"$out/vm.log" || { cat "$out/report.txt" "$out/vm.log" >&2; exit 1; }
fi
cat "$out/report.txt"

cc -O2 -g -I include -I samples/arena_htab/native/include -c samples/arena_htab/native/arena_htab_native.c \
	-o "$out/arena_htab_native.o"
objdump -d -l --no-show-raw-insn "$out/arena_htab_native.o" | awk '/<htab_lookup_all>:/,/^$/' >"$out/htab_lookup_all-native.lst"
echo
echo "htab_lookup_all, machine instructions per C line: the JIT's code of our object and of clang's, and cc -O2's"
echo "(the whole function; the listings are in $out)"
awk -f bench/lines.awk -v names="ours clang native" "$out/htab_lookup_all-ours.jit" "$out/htab_lookup_all-clang.jit" \
	"$out/htab_lookup_all-native.lst"
