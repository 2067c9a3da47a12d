// kept_struct_return.c: a static function returning a struct is inlined at every call, since no
// BPF function can return one; kept in the object as a function of its own (`used`), it cannot be.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

struct pair {
	long x, y;
};

__attribute__((used)) static struct pair make(long x) // ERROR: cannot be a BPF function: it returns a struct by value
{
	struct pair p = { x, x + 1 };

	return p;
}

SEC("syscall") int prog(void *ctx)
{
	return make(3).y;
}
