// control_flow.c: blocks with shadowing, if/else chains and dangling else, for (with
// empty clauses), while, do-while (body runs at least once), nested loops, break and
// continue in each loop kind, a loop whose condition has side effects, early return.
// RUN: --prog branches --prog loops --prog nested_loops --prog early --get classify --get do_once --get loop_mix --get pairs_found --get first_hit
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int values[8] = { 5, -3, 0, 12, 7, -8, 100, 1 };
int limit = 50;
long classify;
int do_once;
long loop_mix;
int pairs_found;
int first_hit;

static int sign_class(int v)
{
	if (v < 0)
		return -1;
	else if (v == 0)
		return 0;
	else if (v < 10)
		return 1;
	else
		return 2;
}

SEC("syscall") int branches(void *ctx)
{
	long c = 0;
	for (int i = 0; i < 8; i++)
		c = c * 4 + sign_class(values[i]) + 1;
	classify = c;
	int x = 1;
	{
		int x = 2;              /* shadows the outer x */
		x *= 10;
		if (x > 5)
			if (x > 100)
				x = -1;
			else                /* belongs to the inner if */
				x = -2;
		classify += x;
	}
	return x;
}

SEC("syscall") int loops(void *ctx)
{
	int n = 0;
	do
		n += 7;
	while (n < 0);              /* false at once: the body still ran */
	do_once = n;
	long mix = 0;
	unsigned int i = 0;          /* unsigned: signed % needs cpu v4 */
	for (;;) {
		if (++i > 20)
			break;
		if (i % 3 == 0)
			continue;
		mix += i;
	}
	int j = 10;
	while (j-- > 0) {           /* the condition decrements */
		if (j == 7)
			continue;
		if (j == 2)
			break;
		mix = mix * 2 + j;
	}
	int k = 0;
	do {
		k += 3;
		if (k == 9)
			continue;           /* jumps to the condition */
		mix -= k;
	} while (k < 15);
	loop_mix = mix;
	return i + j + k;
}

SEC("syscall") int nested_loops(void *ctx)
{
	int found = 0;
	for (int i = 0; i < 8; i++) {
		for (int j = i + 1; j < 8; j++) {
			if (values[j] < 0)
				continue;       /* the inner loop only */
			if (values[i] + values[j] == 12) {
				found = found * 10 + i * 8 + j;
				break;          /* leaves the inner loop only */
			}
		}
	}
	pairs_found = found;
	return found & 0xffff;
}

static int find_first_above(int threshold)
{
	for (int i = 0; i < 8; i++)
		if (values[i] > threshold)
			return i;       /* returns out of the loop */
	return -1;
}

SEC("syscall") int early(void *ctx)
{
	first_hit = find_first_above(10) * 100 + find_first_above(limit) * 10 + find_first_above(1000);
	if (first_hit < 0)
		return -1;
	return first_hit + 1;
}
