// kconfig_ksyms.c: externs the loader resolves from the running kernel. __kconfig values come
// from its build configuration (each kind: bool, tristate, int, u64, char, char array; weak ones
// it lacks read 0) and from libbpf's LINUX_* values; __ksym kfuncs are found in its BTF, and weak
// kfuncs and variables it lacks have address 0, so that bpf_ksym_exists() is false and the call
// it guards is dead code. ExternTests checks the values against uname and the config file.
// RUN: --prog read_config --get kernel_version --get syscall_wrapper --get bpf_cookie --get bpf_syscall --get hz --get nr_cpus --get jit_letter --get hostname_head --get absent_option --get absent_linux --get kfunc_exists --get absent_kfunc_exists --get absent_variable_exists
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) ({ _Static_assert(!__builtin_constant_p(!!sym), #sym " should be marked as __weak"); !!sym; })
#endif

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern _Bool LINUX_HAS_BPF_COOKIE __kconfig __weak;
extern enum libbpf_tristate CONFIG_BPF_SYSCALL __kconfig;
extern int CONFIG_HZ __kconfig;
extern unsigned long long CONFIG_NR_CPUS __kconfig __weak;
extern char CONFIG_BPF_JIT __kconfig __weak;
extern char CONFIG_DEFAULT_HOSTNAME[4] __kconfig __weak;
extern _Bool CONFIG_SWIFTBPF_NO_SUCH_OPTION __kconfig __weak;
extern int LINUX_SWIFTBPF_NO_SUCH_VALUE __kconfig __weak;

extern void bpf_rcu_read_lock(void) __ksym __weak;
extern void bpf_rcu_read_unlock(void) __ksym __weak;
extern int bpf_swiftbpf_no_such_kfunc(int value) __ksym __weak;
extern const int swiftbpf_no_such_variable __ksym __weak;

unsigned int kernel_version;
int syscall_wrapper, bpf_cookie, bpf_syscall, hz, jit_letter, hostname_head, absent_option, absent_linux;
unsigned long long nr_cpus;
int kfunc_exists, absent_kfunc_exists, absent_variable_exists, absent_kfunc_result;

SEC("syscall") int read_config(void *ctx)
{
	kernel_version = LINUX_KERNEL_VERSION;
	syscall_wrapper = LINUX_HAS_SYSCALL_WRAPPER;
	bpf_cookie = LINUX_HAS_BPF_COOKIE;
	bpf_syscall = CONFIG_BPF_SYSCALL;
	hz = CONFIG_HZ;
	nr_cpus = CONFIG_NR_CPUS;
	jit_letter = CONFIG_BPF_JIT;
	/* The first four bytes as written, the terminating NUL included when shorter. */
	hostname_head = CONFIG_DEFAULT_HOSTNAME[0] | CONFIG_DEFAULT_HOSTNAME[1] << 8 |
			CONFIG_DEFAULT_HOSTNAME[2] << 16 | CONFIG_DEFAULT_HOSTNAME[3] << 24;
	absent_option = CONFIG_SWIFTBPF_NO_SUCH_OPTION;
	absent_linux = LINUX_SWIFTBPF_NO_SUCH_VALUE;
	kfunc_exists = bpf_ksym_exists(bpf_rcu_read_lock);
	if (bpf_ksym_exists(bpf_rcu_read_lock) && bpf_ksym_exists(bpf_rcu_read_unlock)) {
		bpf_rcu_read_lock();
		bpf_rcu_read_unlock();
	}
	absent_kfunc_exists = bpf_ksym_exists(bpf_swiftbpf_no_such_kfunc);
	if (bpf_ksym_exists(bpf_swiftbpf_no_such_kfunc))
		absent_kfunc_result = bpf_swiftbpf_no_such_kfunc(1);
	absent_variable_exists = &swiftbpf_no_such_variable != 0;
	return CONFIG_BPF_SYSCALL == TRI_YES ? 1 : 2;
}
