// raw_tracepoint.c: raw tracepoint programs, which BPF_PROG_TEST_RUN runs with the arguments it
// is given (zero here) as the context; one reads them, one calls a helper.
// RUN: --prog on_sys_enter --prog bare_raw_tp --prog on_sys_enter --get first_argument --get calls --get cpu_in_range
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

long first_argument = -1;
int calls, cpu_in_range;

SEC("raw_tp/sys_enter") int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	first_argument = ctx->args[0] + ctx->args[1];
	calls++;
	return calls + 10;
}

SEC("raw_tracepoint") int bare_raw_tp(void *ctx)
{
	cpu_in_range = bpf_get_smp_processor_id() < 4096;
	return 7;
}
