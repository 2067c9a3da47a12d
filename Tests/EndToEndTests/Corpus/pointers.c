// pointers.c: & and *, pointers to locals, globals and struct members, pointer to pointer,
// pointer arithmetic with positive and negative offsets, pointer difference (in elements,
// for several element sizes), pointer comparison, void * conversion, NULL checks, and
// writing through pointers passed to static functions.
// RUN: --prog basics --prog arithmetic --prog through_calls --get diff_int --get diff_long --get diff_struct --get out_a --get out_b --get swapped
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int table[8] = { 3, 1, 4, 1, 5, 9, 2, 6 };
long ltable[4] = { 10, 20, 30, 40 };
struct pair { int first; long second; } pairs[3] = { { 1, 2 }, { 3, 4 }, { 5, 6 } };
int index_a = 2, index_b = 7;

long diff_int, diff_long, diff_struct;
int out_a, out_b;
int swapped;

static void swap(int *x, int *y)
{
	int t = *x;
	*x = *y;
	*y = t;
}

static void divide(int n, int d, int *quotient, int *remainder)
{
	if (quotient)
		*quotient = n / d;
	if (remainder)
		*remainder = n % d;
}

SEC("syscall") int basics(void *ctx)
{
	int x = 5;
	int *p = &x;
	int **pp = &p;
	**pp += 10;                /* x = 15 */
	*p *= 2;                   /* x = 30 */
	int y = 7;
	*pp = &y;                  /* p now points to y */
	*p += x;                   /* y = 37 */
	void *v = &table[3];
	int *back = v;
	int *null = 0;
	struct pair *sp = &pairs[1];
	long *member = &sp->second;
	*member += 100;
	return x + y * 100 + *back * 10000 + (null == 0) * 100000 + (int)pairs[1].second * 1000000;
}

SEC("syscall") int arithmetic(void *ctx)
{
	/* Masking bounds the index, as the verifier requires for a variable offset. */
	int *lo = &table[index_a & 3];            /* 0..3 */
	int *hi = table + ((index_b & 3) | 4);     /* 4..7 */
	diff_int = hi - lo;                       /* 5 */
	diff_long = &ltable[3] - &ltable[0];      /* 3 */
	diff_struct = &pairs[0] - &pairs[2];      /* -2 */
	int *mid = hi - 3;
	int r = *mid + *(lo + 1) + mid[-1] + 2[table];
	r += (lo < hi) + (hi > mid) * 10 + (lo == mid - 2) * 100 + (lo != hi) * 1000;
	return r;
}

SEC("syscall") int through_calls(void *ctx)
{
	int a = 100, b = 7;
	divide(a, b, &out_a, &out_b);
	int q = 0;
	divide(-a, b, &q, 0);
	swap(&a, &b);
	swap(&table[0], &table[7]);
	swapped = table[0] * 10 + table[7];
	return a * 1000 + b + q;
}
