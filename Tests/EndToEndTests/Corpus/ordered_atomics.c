// ordered_atomics.c: atomic loads and stores of every width with every memory order. At -mcpu=v4
// an order stronger than relaxed is BPF's load_acquire or store_release (kernel 6.15 on), which
// the v4 build runs in the kernel; at v3 they are plain loads and stores, as x86-64's JIT already
// orders them. Relaxed stores keep their order too.
// CLANG: fails Cannot select: .*AtomicStore
// RUN: --prog widths --prog orders --get wide --get word --get half --get byte --get flag
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

long wide = -5;
unsigned int word = 0xfffffff0;
short half = -300;
unsigned char byte = 200;
int flag;

/* Acquire loads and release stores of 8, 4, 2 and 1 bytes, signed and unsigned. */
SEC("syscall") int widths(void *ctx)
{
	long w = __atomic_load_n(&wide, __ATOMIC_ACQUIRE);
	unsigned int u = __atomic_load_n(&word, __ATOMIC_ACQUIRE);
	short h = __atomic_load_n(&half, __ATOMIC_ACQUIRE);
	unsigned char b = __atomic_load_n(&byte, __ATOMIC_ACQUIRE);

	__atomic_store_n(&wide, w * 3, __ATOMIC_RELEASE);
	__atomic_store_n(&word, u + 0x20, __ATOMIC_RELEASE);
	__atomic_store_n(&half, (short)(h - 1), __ATOMIC_RELEASE);
	__atomic_store_n(&byte, (unsigned char)(b + 100), __ATOMIC_RELEASE);
	return (int)(w + h + b + (u >> 28));
}

/* Each order on a load and a store, through pointers and by copy. */
SEC("syscall") int orders(void *ctx)
{
	short s;
	long sum = 0;

	sum += __atomic_load_n(&half, __ATOMIC_RELAXED);
	sum += __atomic_load_n(&half, __ATOMIC_CONSUME);
	sum += __atomic_load_n(&half, __ATOMIC_SEQ_CST);
	__atomic_load(&half, &s, __ATOMIC_ACQUIRE);
	sum += s;
	__atomic_store_n(&flag, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&byte, 7, __ATOMIC_SEQ_CST);
	s = 11;
	__atomic_store(&half, &s, __ATOMIC_RELEASE);
	sum += __atomic_load_n(&flag, __ATOMIC_SEQ_CST) * 1000;
	return (int)sum;
}
