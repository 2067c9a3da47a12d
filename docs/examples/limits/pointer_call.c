// pointer_call.c: picks an operation through a function pointer.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int which;
long result;

static long twice(long x) { return 2 * x; }
static long square(long x) { return x * x; }

SEC("syscall") int apply(void *ctx)
{
	long (*op)(long) = which ? square : twice;

	result = op(21);
	return 0;
}
