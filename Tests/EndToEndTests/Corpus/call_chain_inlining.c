// call_chain_inlining.c: the kernel allows 512 bytes of stack for a whole chain of calls. Kept
// as calls (`work` is too big to copy at each of its calls), the program's 288-byte table and
// `work`'s 240-byte scratch array add up to more, although the table is no longer needed when
// `work` runs; inlined, the two share bytes and the chain is one frame.
// RUN: --set seed=9 --prog chain --get result
// CLANG: fails combined stack size of 2 calls
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int seed;
unsigned long result;

static unsigned long work(int salt)
{
	unsigned char scratch[240];
	unsigned long s = 0;
	int i = 240;
	while (i-- > 0)
		scratch[i] = (unsigned char)((i ^ salt) + seed * 3);
	for (int i = 0; i < 240; i += 5) {
		unsigned char v = scratch[(i * 7) & 127];
		if (v & 1)
			s = s * 3 + v;
		else if (v & 2)
			s ^= (unsigned long)v << (i & 31);
		else
			s += scratch[(v + i) & 127] * 11;
	}
	for (int i = 0; i < 16; i++) {
		switch (scratch[i] & 3) {
		case 0: s += 1; break;
		case 1: s *= 5; break;
		case 2: s -= 7; break;
		default: s >>= 1; break;
		}
	}
	return s;
}

SEC("syscall") int chain(void *ctx)
{
	unsigned long total = 0;
	{
		unsigned long table[36];
		for (int i = 0; i < 36; i++)
			table[i] = (unsigned long)i * seed + 1;
		for (int i = 0; i < 36; i++)
			total = total * 7 + table[(i * 5) & 31];
	}
	total += work(3);
	total ^= work(5);
	result = total;
	return (int)(total & 0x7fffffff);
}
