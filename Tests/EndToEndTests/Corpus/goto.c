// goto.c: goto forward and backward, labels at the end of a block, a bounded loop built
// from goto, leaving nested loops with goto, the single-exit cleanup idiom, a label
// that is only reached by falling through.
// RUN: --prog backward --prog escape --prog cleanup --prog cleanup --get goto_loop --get escape_at --get cleanups --get state
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int grid[4][4] = { { 1, 2, 3, 4 }, { 5, 6, 70, 8 }, { 9, 10, 11, 12 }, { 13, 14, 15, 16 } };
int goto_loop;
int escape_at;
int cleanups;
int state = 3;

SEC("syscall") int backward(void *ctx)
{
	int i = 0, s = 0;
again:
	s += i * i;
	if (++i < 10)
		goto again;
	goto_loop = s;
	goto skip;
	s = -1;                     /* never runs */
skip:
	return s + i;
}

SEC("syscall") int escape(void *ctx)
{
	int r, c;
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			if (grid[r][c] > 50)
				goto found;
	escape_at = -1;
	return -1;
found:
	escape_at = r * 10 + c;
	return grid[r][c];
}

static int step(int which)
{
	int result = 0;
	if (which & 1) {
		result = -1;
		goto out;
	}
	result += 10;
	if (which & 2) {
		result = -2;
		goto out;
	}
	result += 20;
out:
	cleanups++;
	return result;
}

SEC("syscall") int cleanup(void *ctx)
{
	int total = step(0) + step(1) * 10 + step(2) * 100 + step(state) * 1000;
	state = (state + 1) & 3;
	if (total > 0)
		goto positive;
	total = -total;
positive:
	return total;
}
