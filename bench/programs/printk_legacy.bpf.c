// A tracepoint program for kernels without global data (BPF_NO_GLOBAL_DATA, as libbpf-bootstrap's
// minimal_legacy): the process to watch comes from a one-element array map, and bpf_printk's
// format is a local array, built on the stack.
#define BPF_NO_GLOBAL_DATA
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, int);
} watched SEC(".maps");

SEC("tp/syscalls/sys_enter_write")
int on_write(void *ctx)
{
	__u32 zero = 0;
	int tgid = bpf_get_current_pid_tgid() >> 32;
	int *want = bpf_map_lookup_elem(&watched, &zero);

	if (!want || *want != tgid)
		return 1;
	bpf_printk("write() seen from process %d.\n", tgid);
	return 0;
}
