#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then the whole Swift test suite (unit tests
# per stage and the end-to-end corpus, which loads programs into the running kernel).
#
# A kernel test skips only where the kernel refuses what it needs. This script probes the kernel
# itself first (scripts/kernel-probe.c) and passes what works in SWIFTBPF_REQUIRE_KERNEL, which
# makes a test that would skip for a working capability fail instead. Each kernel test case logs
# one line to .build/kernel-tests.log; the summary at the end counts them, and the run fails when
# none ran where bpf() works or one skipped for a capability that works.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
scripts/install-deps.sh
swift build

mkdir -p .build
cc -O2 -Wall -Werror -o .build/kernel-probe scripts/kernel-probe.c
export SWIFTBPF_REQUIRE_KERNEL
SWIFTBPF_REQUIRE_KERNEL=$(.build/kernel-probe)
echo "the kernel grants: ${SWIFTBPF_REQUIRE_KERNEL:-nothing}"
export SWIFTBPF_KERNEL_TEST_LOG="$PWD/.build/kernel-tests.log"
rm -f "$SWIFTBPF_KERNEL_TEST_LOG"
touch "$SWIFTBPF_KERNEL_TEST_LOG"

status=0
swift test || status=$?

# The log's lines: OUTCOME<tab>CAPABILITY<tab>TEST[<tab>REASON], OUTCOME being ran, skipped or
# failed (refused although required).
log=$SWIFTBPF_KERNEL_TEST_LOG
ran=$(grep -c '^ran	' "$log" || true)
skipped=$(grep -c '^skipped	' "$log" || true)
refused=$(grep -c '^failed	' "$log" || true)
echo "kernel tests: $ran test cases ran in the kernel, $skipped skipped, $refused refused although the probe found the capability working"
awk -F'\t' '$1 != "ran" { print $1 " (" $2 "): " $4 }' "$log" | sort | uniq -c | sed 's/^ */  /'
for capability in $SWIFTBPF_REQUIRE_KERNEL; do
    if awk -F'\t' -v c="$capability" '$1 != "ran" && $2 == c { found = 1 } END { exit !found }' "$log"; then
        echo "error: kernel tests skipped or refused for '$capability', which works here" >&2
        status=1
    fi
done
if [[ " $SWIFTBPF_REQUIRE_KERNEL " == *" bpf "* && $ran -eq 0 ]]; then
    echo "error: bpf() works here, yet no test ran in the kernel" >&2
    status=1
fi

# Where bpf() works but this kernel refuses arena maps, the test functions that skipped for want of
# them run again in a virtual machine whose kernel grants them.
if [[ " $SWIFTBPF_REQUIRE_KERNEL " == *" bpf "* && " $SWIFTBPF_REQUIRE_KERNEL " != *" arena "* ]]; then
    scripts/vm/rerun-arena-tests.sh "$log" || status=1
fi
exit $status
