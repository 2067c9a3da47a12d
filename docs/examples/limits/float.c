// float.c: an average, computed with a double.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

long total = 7, count = 2;
long average;

SEC("syscall") int mean(void *ctx)
{
	double a = (double)total / count;

	average = (long)a;
	return 0;
}
