// atomic_loads.c: atomic loads and stores (__atomic_load_n, __atomic_store_n, __atomic_load,
// __atomic_store with every memory order, __sync_lock_release) on globals and the stack, 32 and
// 64 bits: plain loads and stores, which the kernel's JITs order as C asks.
// RUN: --prog loads_and_stores --prog release --get word --get flag
// CLANG: fails Cannot select
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

long word = 40;
int flag = 1;

SEC("syscall") int loads_and_stores(void *ctx)
{
	long x = 3, out = 9, i;
	int y = -4;
	long h = __atomic_load_n(&word, __ATOMIC_ACQUIRE);
	__atomic_store_n(&y, -3, __ATOMIC_RELEASE);
	__atomic_load(&x, &i, __ATOMIC_SEQ_CST);
	__atomic_store(&word, &out, __ATOMIC_SEQ_CST);
	int r = __atomic_load_n(&flag, __ATOMIC_RELAXED);
	return (int)(h * 1000 + i * 100 + y * 10 + r) + (int)word;
}

SEC("syscall") int release(void *ctx)
{
	__sync_lock_release(&flag);
	__atomic_store_n(&word, 77, __ATOMIC_SEQ_CST);
	return flag;
}
