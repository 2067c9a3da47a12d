// stack_pointer_walk.c: pointers into the stack moved down: `p--`, `p -= 2`, `*(p - 3)`, `p[-1]`,
// a member pointer taken back to its struct (container_of), and the same walk over a global
// array (a map value pointer). The verifier refuses any subtraction from a stack pointer, so a
// pointer moved down must be added a negative offset.
// RUN: --prog backwards --prog container --prog global_backwards --get walked --get back_sum
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

long walked;
long back_sum;
int global_table[8] = { 8, 6, 7, 5, 3, 0, 9, 1 };

struct node {
	long key;
	int weight;
	int value;
};

SEC("syscall") int backwards(void *ctx)
{
	int a[8];
	for (int i = 0; i < 8; i++)
		a[i] = i * i + 1;
	int *p = &a[7];
	long s = *p;
	for (int i = 0; i < 7; i++) {
		p--;
		s = s * 3 + *p;
	}
	int *q = &a[7];
	s += *(q - 3) * 1000;
	q -= 2;
	s += q[-1] * 100000 + *q * 10000000;
	long *l = (long *)&a[6];
	l -= 1;
	s += *l & 0xff;
	walked = s;
	return (int)(s & 0xffffff);
}

/* A macro: a function returning a stack pointer is refused when it stays a call (-O0). */
#define node_of(member) ((struct node *)((char *)(member) - __builtin_offsetof(struct node, value)))

SEC("syscall") int container(void *ctx)
{
	struct node nodes[3] = { { 10, 1, 100 }, { 20, 2, 200 }, { 30, 3, 300 } };
	int *value = &nodes[2].value;
	struct node *n = node_of(value);
	long s = n->key + n->weight;
	n--;
	s = s * 1000 + n->key + n->weight;
	return (int)s;
}

SEC("syscall") int global_backwards(void *ctx)
{
	int *p = &global_table[7];
	long s = 0;
	for (int i = 0; i < 8; i++) {
		s = s * 10 + *p;
		if (i < 7)
			p--;
	}
	back_sum = s + *(&global_table[5] - 3);
	return (int)(s & 0xffffff);
}
