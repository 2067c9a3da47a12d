// memmove.c: __builtin_memmove between overlapping ranges, the destination after the source
// (a forward copy would smear the first bytes) and before it, on the stack and in globals,
// odd sizes and offsets, and a move onto itself.
// RUN: --prog stack_up --prog stack_down --prog global_up --prog global_down --prog longs_up --prog onto_itself --get checksum
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

unsigned char buffer[40];
unsigned long checksum;

static void fill(unsigned char *p, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + 1);
}

static unsigned long sum(const unsigned char *p, int n)
{
	unsigned long s = 0;
	for (int i = 0; i < n; i++)
		s = s * 31 + p[i];
	return s;
}

SEC("syscall") int stack_up(void *ctx)
{
	unsigned char s[16];
	fill(s, 16);
	__builtin_memmove(s + 3, s, 10);
	return (int)(sum(s, 16) % 100000);
}

SEC("syscall") int stack_down(void *ctx)
{
	unsigned char s[16];
	fill(s, 16);
	__builtin_memmove(s, s + 5, 11);
	return (int)(sum(s, 16) % 100000);
}

SEC("syscall") int global_up(void *ctx)
{
	fill(buffer, 40);
	__builtin_memmove(buffer + 1, buffer, 37);
	checksum += sum(buffer, 40);
	return buffer[37] * 100 + buffer[1];
}

SEC("syscall") int global_down(void *ctx)
{
	fill(buffer, 40);
	__builtin_memmove(buffer + 2, buffer + 9, 29);
	checksum += sum(buffer, 40);
	return buffer[2] * 100 + buffer[30];
}

SEC("syscall") int longs_up(void *ctx)
{
	long s[8];
	for (int i = 0; i < 8; i++)
		s[i] = i * 1000 + 1;
	__builtin_memmove(s + 1, s, 6 * sizeof(long));
	return (int)(s[6] + s[1] * 10 + s[7] * 100);
}

SEC("syscall") int onto_itself(void *ctx)
{
	fill(buffer, 40);
	__builtin_memmove(buffer + 4, buffer + 4, 20);
	return (int)(sum(buffer, 40) % 100000);
}
