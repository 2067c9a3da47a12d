// struct_values.c: expressions whose value is a whole struct: a comma expression, a chained
// assignment, a conditional choosing between two structs (globals, locals, compound literals),
// and a statement expression, each used to initialize or assign.
// RUN: --prog comma --prog conditional --prog chained --prog statement_expression --prog mixed --get side
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

struct S {
	int a;
	long b;
	char c;
};

struct S g1 = { 1, 2, 3 }, g2 = { 4, 5, 6 }, g3;
int side;

SEC("syscall") int comma(void *ctx)
{
	struct S l = { 7, 8, 9 };
	g3 = (side++, l);
	return g3.a + g3.b * 10 + side * 100;
}

SEC("syscall") int conditional(void *ctx)
{
	volatile int k = 1;
	struct S l = k ? g1 : g2;
	struct S m = !k ? g1 : g2;
	return l.a * 10 + m.a;
}

SEC("syscall") int chained(void *ctx)
{
	struct S l;
	struct S m = (l = g2);
	g3 = (g1 = m);
	return l.c + m.c * 10 + g3.b * 100 + g1.a * 1000;
}

SEC("syscall") int statement_expression(void *ctx)
{
	struct S l = ({ struct S t = g2; t.a += 1; t; });
	return l.a;
}

SEC("syscall") int mixed(void *ctx)
{
	volatile int k = 0;
	g3 = k ? (struct S){ 1, 1, 1 } : ({ struct S t = g1; side += 5; t; });
	return g3.a + g3.c * 10;
}
