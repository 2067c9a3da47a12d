// struct_argument.c: a global function taking a struct by value. The kernel verifies a global
// function from its BTF signature, which cannot describe a struct passed in registers.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

struct point {
	long x, y;
};

int manhattan(struct point p) // ERROR: struct passed by value
{
	return (int)(p.x + p.y);
}

SEC("syscall") int prog(void *ctx)
{
	struct point p = { 3, 4 };
	return manhattan(p);
}
