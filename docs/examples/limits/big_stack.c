// big_stack.c: a histogram in a local array of 200 longs (1600 bytes).
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

unsigned char samples[64];
long most;

SEC("syscall") int histogram(void *ctx)
{
	long counts[200] = {};

	for (int i = 0; i < 64; i++)
		counts[samples[i] % 200]++;
	most = 0;
	for (int i = 0; i < 200; i++)
		if (counts[i] > most)
			most = counts[i];
	return 0;
}
