#!/usr/bin/env bash
# Runs one command inside a virtual machine booted from the kernel scripts/vm/build-kernel.sh
# built, and exits with the command's status. The machine's root is the host's (9p, read-write),
# so the command sees this checkout, its build and every installed tool where the host has them;
# only the kernel differs. Used where the host kernel refuses something the kernel tests need
# (arena maps, here), never instead of the host kernel where it grants it.
#
#     scripts/vm/run.sh COMMAND [ARG...]
#
# The machine is emulated (qemu's TCG), some ten times slower than the host. Not KVM: on the
# machines this project is built on, /dev/kvm exists but the CPU has no VMX, and a guest under it
# hangs before the kernel prints anything.
set -euo pipefail
here=$PWD
cd "$(dirname "$0")/../.."
root=$PWD
kernel=$root/.build/vm/bzImage
[ -f "$kernel" ] || { echo "error: no $kernel: run scripts/vm/build-kernel.sh first" >&2; exit 1; }
[ $# -gt 0 ] || { echo "usage: scripts/vm/run.sh COMMAND [ARG...]" >&2; exit 1; }

job=$(mktemp "$root/.build/vm/job.XXXXXX")
trap 'rm -f "$job" "$job.rc"' EXIT
{
    echo "cd $(printf %q "$here")"
    # The environment the command would have had here, but for what names the host's terminal
    # and session.
    while IFS= read -r -d '' pair; do
        name=${pair%%=*}
        case $name in
            TERM|SHLVL|_|PWD|OLDPWD|SSH_*|DISPLAY|XDG_*|BASH_FUNC_*) continue ;;
        esac
        [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
        printf 'export %s=%q\n' "$name" "${pair#*=}"
    done < <(env -0)
    printf '%q ' "$@"
    echo
} >"$job"

# Without ACPI there is no HPET, and the kernel would keep time by jiffies (4 ms steps); the
# emulated TSC is steady enough to time a benchmark by.
cmdline=(console=ttyS0 quiet panic=-1 tsc=reliable clocksource=tsc root=/dev/root rootfstype=9p rw
         rootflags=trans=virtio,version=9p2000.L,msize=524288,cache=loose
         "init=$root/scripts/vm/init.sh" -- "$job")
memory=$(awk '/MemAvailable/ { m = int($2 / 1024 / 2); print (m > 8192 ? 8192 : m) }' /proc/meminfo)
qemu-system-x86_64 -accel tcg -cpu max -smp "$(nproc)" -m "${memory}M" \
    -nographic -no-reboot -serial mon:stdio -nodefaults \
    -kernel "$kernel" \
    -fsdev local,id=root,path=/,security_model=passthrough,multidevs=remap \
    -device virtio-9p-pci,fsdev=root,mount_tag=/dev/root \
    -append "${cmdline[*]}" </dev/null
[ -f "$job.rc" ] || { echo "error: the virtual machine stopped before the command ended" >&2; exit 1; }
exit "$(cat "$job.rc")"
