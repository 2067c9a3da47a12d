// stack_sharing.c: locals whose lifetimes do not overlap share stack bytes, as clang's stack
// coloring has them: three 200-byte arrays in disjoint scopes and three inlined calls each with a
// 200-byte local need 600 + 600 bytes if each gets its own, far over BPF's 512-byte frame. And
// locals whose lifetimes do overlap keep their values: an array read after another scope's
// array, one carried from loop iteration to iteration, and one reached only through a pointer
// stored in a struct.
// RUN: --set seed=7 --prog disjoint_scopes --prog overlapping --get out --get kept
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int seed;
unsigned long out;
unsigned long kept;

static unsigned long churn(int salt)
{
	unsigned char scratch[200];
	for (int i = 0; i < 200; i++)
		scratch[i] = (unsigned char)(salt * i + seed);
	unsigned long s = 0;
	for (int i = 0; i < 200; i += 3)
		s = s * 5 + scratch[(i * 7) & 127];
	return s;
}

SEC("syscall") int disjoint_scopes(void *ctx)
{
	unsigned long total = 0;
	{
		char a[200];
		for (int i = 0; i < 200; i++)
			a[i] = (char)(i ^ seed);
		for (int i = 0; i < 200; i += 7)
			total = total * 3 + a[(i * 5) & 127];
	}
	total += churn(3);
	{
		long b[25];
		for (int i = 0; i < 25; i++)
			b[i] = (long)i * seed - 100;
		for (int i = 0; i < 25; i++)
			total = total * 3 + b[(i * 7) & 15];
	}
	total += churn(5);
	{
		int c[50];
		for (int i = 0; i < 50; i++)
			c[i] = i - seed;
		for (int i = 0; i < 50; i++)
			total = total * 3 + c[(i * 3) & 31];
	}
	total += churn(11);
	out = total;
	return (int)(total & 0x7fffffff);
}

struct holder {
	int *values;
	long tag;
};

SEC("syscall") int overlapping(void *ctx)
{
	unsigned long total = 0;
	/* `early` is written first and read after `middle`'s scope ends. */
	int early[40];
	for (int i = 0; i < 40; i++)
		early[i] = i * seed + 1;
	{
		int middle[40];
		for (int i = 0; i < 40; i++)
			middle[i] = -i * seed;
		for (int i = 0; i < 40; i++)
			total += middle[(i * 3) & 31];
	}
	for (int i = 0; i < 40; i++)
		total = total * 3 + early[i];

	/* `carried` holds what the previous iteration left while each iteration's `fresh` is used. */
	int carried[8] = { 0 };
	for (int k = 0; k < 6; k++) {
		if (k > 0)
			total = total * 5 + carried[(k - 1) & 7];
		int fresh[16];
		for (int i = 0; i < 16; i++)
			fresh[i] = k * 100 + i;
		long s = 0;
		for (int i = 0; i < 16; i++)
			s += fresh[(i * 5) & 15];
		carried[k & 7] = (int)s;
	}

	/* `hidden` is reached only through the pointer stored in `h` after `noise` is used. */
	int hidden[30];
	for (int i = 0; i < 30; i++)
		hidden[i] = i * i + seed;
	struct holder h = { hidden, 3 };
	{
		int noise[30];
		for (int i = 0; i < 30; i++)
			noise[i] = -1000 - i;
		for (int i = 0; i < 30; i++)
			total += noise[(i * 7) & 15];
	}
	for (int i = 0; i < 30; i++)
		total = total * 3 + h.values[i] + h.tag;
	kept = total;
	return (int)(total & 0x7fffffff);
}
