// floating_point.c: BPF has no floating point; a double variable must be rejected.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

SEC("syscall") int prog(void *ctx)
{
	double ratio = 0.5; // ERROR: (floating|float|double)
	return (int)ratio;
}
