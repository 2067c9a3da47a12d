#!/usr/bin/env bash
# Builds the kernel scripts/vm/run.sh boots, into .build/vm/bzImage: Linux 6.12 from Debian's
# linux-source-6.12, `make tinyconfig` plus scripts/vm/kernel.config. Does nothing when the image
# is already built from the same configuration and source. About 15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$PWD/.build/vm
tarball=/usr/src/linux-source-6.12.tar.xz
[ -f "$tarball" ] || { echo "error: no $tarball: run scripts/install-deps.sh" >&2; exit 1; }

stamp="$(sha256sum scripts/vm/kernel.config | cut -c1-16) $(dpkg-query -W -f='${Version}' linux-source-6.12)"
if [ -f "$out/bzImage" ] && [ "$(cat "$out/bzImage.stamp" 2>/dev/null)" = "$stamp" ]; then
    exit 0
fi

mkdir -p "$out"
if [ ! -f "$out/src/Makefile" ]; then
    echo "extracting $tarball"
    rm -rf "$out/src"
    mkdir -p "$out/src"
    tar -xf "$tarball" -C "$out/src" --strip-components=1
fi
echo "building the virtual machine's kernel (log: $out/kernel-build.log)"
obj=$out/obj
mkdir -p "$obj"
{
    make -C "$out/src" O="$obj" tinyconfig
    "$out/src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" scripts/vm/kernel.config
    make -C "$out/src" O="$obj" olddefconfig
} >"$out/kernel-build.log" 2>&1
# merge_config only warns when an option did not take; a kernel without one of them would fail the
# tests later and far from the cause.
missing=$(grep -v '^#' scripts/vm/kernel.config | grep . | while read -r line; do
    grep -qx "$line" "$obj/.config" || echo "$line"
done)
if [ -n "$missing" ]; then
    echo "error: the kernel configuration lacks:" $missing >&2
    exit 1
fi
if ! make -C "$out/src" O="$obj" -j"$(nproc)" bzImage >>"$out/kernel-build.log" 2>&1; then
    tail -30 "$out/kernel-build.log" >&2
    echo "error: the kernel did not build" >&2
    exit 1
fi
cp "$obj/arch/x86/boot/bzImage" "$out/bzImage"
echo "$stamp" >"$out/bzImage.stamp"
