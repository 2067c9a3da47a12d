// varargs.c: a sum of any number of arguments, like printf takes any number.
#include <stdarg.h>
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

long result;

static long sum(int count, ...)
{
	va_list args;
	long s = 0;

	va_start(args, count);
	for (int i = 0; i < count; i++)
		s += va_arg(args, long);
	va_end(args);
	return s;
}

SEC("syscall") int total(void *ctx)
{
	result = sum(3, 1L, 2L, 3L);
	return 0;
}
