// statement_expressions.c: GNU statement expressions whose value comes from a labelled last
// statement (C: the value of the last expression statement, labels included), the shape of
// can_loop-style macros (`({ ...; goto ok; out: more = 0; ok: more; })`), nested labels, and
// a statement expression used as a loop condition.
// RUN: --prog labelled --prog can_loop_shape --prog nested_labels --prog as_condition --get rounds
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int rounds;

SEC("syscall") int labelled(void *ctx)
{
	return ({ l: 6; });
}

/* A flag computed by jumping over an assignment, as a loop-bounding macro does. */
#define MAY_CONTINUE(limit, i) ({ int more = 1; if ((i) >= (limit)) goto out_##limit; goto ok_##limit; out_##limit: more = 0; ok_##limit: more; })

SEC("syscall") int can_loop_shape(void *ctx)
{
	int sum = 0;
	for (int i = 0; i < 20; i++) {
		if (!MAY_CONTINUE(12, i))
			break;
		sum += i;
	}
	return sum;
}

SEC("syscall") int nested_labels(void *ctx)
{
	int x = 3;
	int v = ({ x += 4; first: second: x * 5; });
	return v + ({ int y = x; done: y - 1; });
}

SEC("syscall") int as_condition(void *ctx)
{
	int n = 0;
	while (({ int go = n < 9; if (!go) goto stop; goto keep; stop: go = 0; keep: go; }))
		n++;
	rounds = n;
	return n * 2;
}
