// atomics.c: GCC's atomic builtins as BPF_ATOMIC instructions, on 32- and 64-bit globals and
// stack variables, signed and unsigned: __sync_fetch_and_OP and __sync_OP_and_fetch (with the
// result used, and unused: the form without fetch), compare-and-swap (value and bool), test and
// set, and the __atomic_* family with every memory order, by value and through pointers;
// subtraction, which BPF does by adding the negation. (Atomic loads and stores: atomic_loads.c.)
// RUN: --prog sync_globals --prog sync_stack --prog compare_and_swap --prog atomic_family --prog unused_results --get counter --get flags --get small --get total
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

long counter = 10;
unsigned int flags = 0xf0;
int small = -5;
unsigned long total;

SEC("syscall") int sync_globals(void *ctx)
{
	long a = __sync_fetch_and_add(&counter, 5);
	long b = __sync_add_and_fetch(&counter, 7);
	long c = __sync_fetch_and_sub(&counter, 30);
	unsigned int d = __sync_fetch_and_or(&flags, 0x0f);
	unsigned int e = __sync_and_and_fetch(&flags, 0x3c);
	unsigned int f = __sync_xor_and_fetch(&flags, 0xff);
	int g = __sync_sub_and_fetch(&small, 10);
	int h = __sync_fetch_and_xor(&small, 3);
	total += a + b * 10 + c * 100 + d + e * 1000 + f + (unsigned long)(g + 100) * 100000 + (unsigned long)(h + 200);
	return (int)(counter + small);
}

SEC("syscall") int sync_stack(void *ctx)
{
	long x = 100;
	int y = -7;
	unsigned int z = 3;
	long old = __sync_fetch_and_add(&x, -1);
	int n = __sync_add_and_fetch(&y, 2);
	__sync_fetch_and_or(&z, 8);
	__sync_fetch_and_and(&z, 10);
	return (int)(old * 1000 + x * 10 + n + z * 100000);
}

SEC("syscall") int compare_and_swap(void *ctx)
{
	long v = 5;
	int w = 9;
	long seen = __sync_val_compare_and_swap(&v, 5, 50);	/* swaps */
	long kept = __sync_val_compare_and_swap(&v, 5, 60);	/* does not */
	int ok = __sync_bool_compare_and_swap(&w, 9, -9);
	int not_ok = __sync_bool_compare_and_swap(&w, 9, 99);
	long previous = __sync_lock_test_and_set(&counter, 1000);
	return (int)(seen + kept * 10 + v * 100 + ok * 100000 + not_ok * 1000000 + w) + (int)previous;
}

SEC("syscall") int atomic_family(void *ctx)
{
	long x = 1, expected = 1, desired = 7, out = 0;
	int y = 100;
	long a = __atomic_fetch_add(&x, 10, __ATOMIC_SEQ_CST);
	long b = __atomic_sub_fetch(&x, 3, __ATOMIC_RELAXED);
	int c = __atomic_xor_fetch(&y, 0x55, __ATOMIC_ACQ_REL);
	int d = __atomic_fetch_and(&y, 0x0f, __ATOMIC_ACQUIRE);
	long e = __atomic_exchange_n(&x, 42, __ATOMIC_SEQ_CST);
	_Bool f = __atomic_compare_exchange_n(&x, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
	long after_failure = expected;	/* 42, the value found */
	_Bool g = __atomic_compare_exchange(&x, &expected, &desired, 1, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	__atomic_exchange(&x, &desired, &out, __ATOMIC_SEQ_CST);
	total += (unsigned long)(a + b * 10 + c * 100 + d * 1000 + e + f * 10000 + after_failure * 100000 + g * 7 + x + y);
	return (int)(out + x + y);
}

SEC("syscall") int unused_results(void *ctx)
{
	__sync_fetch_and_add(&total, 1);
	__sync_fetch_and_sub(&counter, 1);
	__atomic_fetch_or(&flags, 0x100, __ATOMIC_RELAXED);
	__atomic_add_fetch(&small, 1, __ATOMIC_SEQ_CST);
	__sync_lock_test_and_set(&small, 77);
	return 0;
}
