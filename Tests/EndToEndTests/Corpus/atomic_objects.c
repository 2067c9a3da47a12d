// atomic_objects.c: `_Atomic` objects. A compound assignment or ++/-- is one atomic instruction
// (BPF_ATOMIC add, and, or, xor; sub as the addition of the negation), with BPF_FETCH when its
// value is used; a plain read or assignment is a seq_cst load or store (load_acquire and
// store_release at -mcpu=v4). Globals, a local and an object reached through a pointer.
// CLANG: fails Cannot select: .*Atomic(Load|Store)
// RUN: --prog globals --prog local_and_pointer --get counter --get flags --get total
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

_Atomic long counter = 10;
_Atomic unsigned int flags = 0xf0;
long total;

SEC("syscall") int globals(void *ctx)
{
	long a, b, c;

	counter += 5;
	counter++;
	a = counter--;
	b = ++counter;
	flags |= 0x0f;
	flags &= 0x3c;
	c = (flags ^= 0xff);
	counter -= 2;
	total = a * 1000000 + b * 1000 + c;
	return (int)counter;
}

static long bump(_Atomic long *p, long by)
{
	*p += by;
	return (*p)++;
}

SEC("syscall") int local_and_pointer(void *ctx)
{
	_Atomic int local = 3;
	long before;

	local += 4;
	local = local * 2;
	before = bump(&counter, local);
	return (int)(before + counter + local);
}
