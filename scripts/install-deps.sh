#!/usr/bin/env bash
# Installs the Debian 12 packages swiftbpfcc needs, only those missing. Swift itself is expected
# at /opt/swift (or on PATH).
set -euo pipefail

# zlib1g-dev: our loader reads /proc/config.gz for __kconfig values. linux-source-6.12 and
# libelf-dev: the kernel 6.12 arena selftests and the libbpf 1.5 they are run with, built from that
# tarball (Tests/EndToEndTests/KernelCompatTests.swift). chromium: the page `swiftbpf explain --html`
# writes is tested in a headless browser (Tests/EndToEndTests/HeadlessChromium.swift).
# qemu-system-x86, and flex, bison, bc and dwarves (pahole, for BTF) to build a kernel from
# linux-source-6.12: where the host kernel refuses arena maps, their tests run in a virtual machine
# (scripts/vm).
packages=(libclang-19-dev clang-19 llvm-19 bpftool libbpf-dev zlib1g-dev gcc make csmith libcsmith-dev
          linux-source-6.12 libelf-dev chromium qemu-system-x86 flex bison bc dwarves)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${missing[@]}"
fi

if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        echo "note: add /opt/swift/usr/bin to PATH" >&2
    else
        echo "error: Swift 6.1 or newer is needed (https://swift.org/install)" >&2
        exit 1
    fi
fi
