// mutual_recursion.c: mutual recursion (is_even -> is_odd -> is_even) must be rejected.
// A cycle has no first call, so either call may carry the error: both lines are marked.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

static int is_odd(int n);

static int is_even(int n)
{
	return n == 0 ? 1 : is_odd(n - 1); // ERROR: recurs
}

static int is_odd(int n)
{
	return n == 0 ? 0 : is_even(n - 1); // ERROR: recurs
}

SEC("syscall") int prog(void *ctx)
{
	return is_even(10);
}
