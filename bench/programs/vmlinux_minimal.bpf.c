// A tracing program in the usual libbpf style, against the running kernel's vmlinux.h (which
// bench/run.sh generates with bpftool): the compile time of a program is that header's.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

int watched_tgid = 0;
long writes = 0;

SEC("tp/syscalls/sys_enter_write")
int count_writes(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int tgid = 0;

	bpf_probe_read_kernel(&tgid, sizeof(tgid), &task->tgid);
	if (tgid != watched_tgid)
		return 0;
	__sync_fetch_and_add(&writes, 1);
	bpf_printk("write(%ld) from %d", ctx->args[0], tgid);
	return 0;
}
