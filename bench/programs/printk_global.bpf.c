// The same program with global data: the process to watch is a global, and bpf_printk's format
// a static const array in .rodata.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

int watched_tgid = 0;

SEC("tp/syscalls/sys_enter_write")
int on_write(void *ctx)
{
	int tgid = bpf_get_current_pid_tgid() >> 32;

	if (tgid != watched_tgid)
		return 1;
	bpf_printk("write() seen from process %d.\n", tgid);
	return 0;
}
