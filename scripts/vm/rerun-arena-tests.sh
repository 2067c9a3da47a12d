#!/usr/bin/env bash
# Runs again, in a virtual machine booted from a kernel of our own (Linux 6.12 from
# linux-source-6.12, which grants arena maps), the test functions that the kernel test log LOG
# shows skipped because the host kernel refuses arena maps; there, each of their test cases that
# needs arena maps runs, and only those (SWIFTBPF_KERNEL_RERUN). They must all run, and pass.
#
#     scripts/vm/rerun-arena-tests.sh .build/kernel-tests.log
#
# Expects `swift build --build-tests` to have run; builds the kernel when it is not built yet.
set -euo pipefail
log=$(realpath "$1")
cd "$(dirname "$0")/../.."
export PATH="$PATH:/opt/swift/usr/bin"

mapfile -t functions < <(awk -F'\t' '$1 == "skipped" && $2 == "arena" {
    sub(/\/[^\/]*\.swift:[0-9]+:[0-9]+$/, "", $3); print $3 }' "$log" | sort -u)
skipped=$(grep -c '^skipped	arena	' "$log" || true)
[ "$skipped" -gt 0 ] || exit 0

scripts/vm/build-kernel.sh
filters=()
for function in "${functions[@]}"; do
    filters+=(--filter "^$(printf '%s' "$function" | sed 's/[][().*+?^$|\\{}]/\\&/g')")
done
bin=$(swift build --show-bin-path)
vm_log=$PWD/.build/kernel-tests-vm.log
rm -f "$vm_log"
touch "$vm_log"
echo "running the arena test cases of ${#functions[@]} test functions again in a virtual machine"
status=0
# The machine is emulated (scripts/vm/run.sh): the tests' time limits are ten times theirs.
SWIFTBPF_REQUIRE_KERNEL="bpf arena" SWIFTBPF_KERNEL_RERUN=arena SWIFTBPF_KERNEL_TEST_LOG=$vm_log \
    SWIFTBPF_BIN_DIR=$bin SWIFTBPF_TIMEOUT_SCALE=10 \
    scripts/vm/run.sh "$bin/swiftbpfccPackageTests.xctest" --testing-library swift-testing "${filters[@]}" ||
    status=1
ran=$(grep -c '^ran	arena	' "$vm_log" || true)
echo "kernel tests in the virtual machine: $ran arena test cases ran; $skipped skipped on the host"
if grep -v '^ran	arena	' "$vm_log" >&2 || [ "$ran" -lt "$skipped" ]; then
    echo "error: the arena test cases skipped on the host did not all run in the virtual machine" >&2
    status=1
fi
exit $status
