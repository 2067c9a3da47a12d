// stack_pointer_variable.c: a pointer into the stack moved down by a variable amount
// (`q - j`, `p -= k`). The verifier refuses any subtraction from a stack pointer, so the
// amount is negated and added; clang-19 subtracts it, and the verifier rejects its object.
// RUN: --set shift=2 --prog variable_back --get picked
// CLANG: fails subtraction from stack pointer prohibited
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int shift;
long picked;

SEC("syscall") int variable_back(void *ctx)
{
	long a[6];
	for (int i = 0; i < 6; i++)
		a[i] = (i + 1) * 11;
	long *q = &a[5];
	int j = shift & 3;
	long s = *(q - j);
	int k = (shift + 1) & 1;
	q -= k + 1;
	s = s * 1000 + *q;
	picked = s;
	return (int)s;
}
