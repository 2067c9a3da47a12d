#!/bin/sh
# PID 1 of the virtual machine scripts/vm/run.sh boots. The root is the host's own (9p), so every
# binary, library and build folder is where the host has it, /tmp included (a checkout may live
# there); this kernel's own views of processes, devices, BPF objects and tracing are mounted over
# the host's. Runs the job the kernel command line names (after `--`), leaves its exit status
# beside it, and reboots, which ends qemu.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
hostname vm
# Foundation's run loop wakes itself through a loopback socket.
ip link set lo up

job=$1
/bin/sh "$job"
echo $? >"$job.rc"
sync
echo b >/proc/sysrq-trigger
