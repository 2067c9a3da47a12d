/* kernel-probe: what the running kernel grants the kernel tests, found out by scripts/test.sh
 * before `swift test`, independently of the tests' own probe (KernelTestSupport), so that a
 * mistaken probe in the tests cannot turn their kernel tests into skips unnoticed.
 *
 * Prints on stdout the capabilities the kernel grants, as SWIFTBPF_REQUIRE_KERNEL lists them:
 *   bpf    bpf() loads a BPF_PROG_TYPE_SYSCALL program
 *   arena  BPF_MAP_CREATE makes a BPF_MAP_TYPE_ARENA map
 * and on stderr why each other one is refused. Only EPERM and ENOSYS are refusals; any other
 * error means the probe itself is wrong for this kernel, and it exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

/* Linux 6.9's enum bpf_map_type; Debian 12's headers predate it. */
enum { MAP_TYPE_ARENA = 33 };

static int bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* 1 when granted, 0 when refused (the reason printed), -1 on any other error. */
static int outcome(int fd, const char *what)
{
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	const char *name = errno == EPERM ? "EPERM" : errno == ENOSYS ? "ENOSYS" : NULL;
	if (!name) {
		fprintf(stderr, "kernel-probe: %s failed unexpectedly: %s\n", what, strerror(errno));
		return -1;
	}
	fprintf(stderr, "kernel-probe: %s → %s\n", what, name);
	return 0;
}

static int probe_bpf(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SYSCALL;
	attr.insn_cnt = 2;
	attr.insns = (__u64)(unsigned long)insns;
	attr.license = (__u64)(unsigned long)"GPL";
	attr.prog_flags = BPF_F_SLEEPABLE; /* syscall programs must be */
	return outcome(bpf(BPF_PROG_LOAD, &attr), "BPF_PROG_LOAD(BPF_PROG_TYPE_SYSCALL)");
}

static int probe_arena(void)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.map_type = MAP_TYPE_ARENA;
	attr.max_entries = 10; /* pages */
	attr.map_flags = BPF_F_MMAPABLE;
	return outcome(bpf(BPF_MAP_CREATE, &attr), "BPF_MAP_CREATE(BPF_MAP_TYPE_ARENA)");
}

int main(void)
{
	int bpf_granted = probe_bpf();
	if (bpf_granted < 0)
		return 1;
	if (!bpf_granted)
		return 0; /* without bpf(), nothing else can be granted */
	int arena_granted = probe_arena();
	if (arena_granted < 0)
		return 1;
	printf(arena_granted ? "bpf arena\n" : "bpf\n");
	return 0;
}
