// atomic_object_multiply.c: BPF has no atomic multiply, so `*=` on an _Atomic object is no
// single atomic instruction, and a 2-byte _Atomic object has no atomic instructions at all.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

_Atomic long product = 1;
_Atomic short narrow;

SEC("syscall") int prog(void *ctx)
{
	product *= 3; // ERROR: this compound assignment to an _Atomic object is not one atomic instruction on BPF
	narrow += 1; // ERROR: _Atomic object of 2 bytes: BPF's atomic instructions work on 4 and 8 bytes
	return 0;
}
