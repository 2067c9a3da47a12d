// switch.c: switch with fall-through, default first/in the middle/absent, cases out of
// order and sparse (including negative and large values), several labels on one
// statement, break inside a loop inside a switch and switch inside a loop, switch on
// char, unsigned and long long, a nested switch, a block with a declaration inside a case.
// RUN: --prog fallthrough --prog dispatch --prog nested --get fall_trace --get dispatch_sum --get nested_code --get no_default
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int inputs[10] = { 3, 1, -7, 1000, 2, 99, 0, 4, 65536, -1 };
char letters[6] = "aXz9 ";
long fall_trace;
long dispatch_sum;
int nested_code;
int no_default;

static int falls(int v)
{
	int r = 0;
	switch (v) {
	case 4:
		r += 1000;          /* falls into 3 */
	case 3:
		r += 100;
	case 2:
		r += 10;
		break;
	default:
		r = -1;             /* default in the middle, falls into 1 */
	case 1:
		r += 1;
	}
	return r;
}

static long sparse(long long v)
{
	switch (v) {
	case 65536: return 7;
	case -7: return 11;
	case 1000: return 13;
	case 0:
	case 99:
		return 17;          /* two labels, one statement */
	default: return 1;
	case -1: {
		long t = v * 5;     /* a declaration inside a case block */
		return t;
	}
	}
}

SEC("syscall") int fallthrough(void *ctx)
{
	long t = 0;
	for (int i = 0; i < 10; i++)
		t = t * 3 + falls(inputs[i]);
	fall_trace = t;
	int hits = 0;
	for (int i = 0; i < 10; i++) {
		switch (inputs[i] & 3) {   /* no default: unmatched values do nothing */
		case 1:
			hits += 1;
			break;
		case 3:
			hits += 100;
		}
	}
	no_default = hits;
	return falls(5) + falls(4);
}

SEC("syscall") int dispatch(void *ctx)
{
	long s = 0;
	for (int i = 0; i < 10; i++)
		s += sparse(inputs[i]) * (i + 1);
	for (int i = 0; i < 5; i++) {
		switch (letters[i]) {
		default:
			s += 1000;
			break;
		case 'z':
		case 'a':
			s += 10000;
			break;
		case '9':
			s += 200000;
			break;
		}
	}
	unsigned u = (unsigned)inputs[9];
	switch (u) {
	case 0xffffffffu: s += 5; break;
	case 1: s -= 5; break;
	}
	dispatch_sum = s;
	return (int)(s % 100000);
}

SEC("syscall") int nested(void *ctx)
{
	int code = 0;
	for (int i = 0; i < 4; i++) {
		switch (i) {
		case 0:
			continue;          /* continues the loop, not the switch */
		case 2:
			switch (inputs[i]) {
			case -7: code += 50; break;
			default: code += 70;
			}
			break;
		default:
			for (int j = 0; j < 5; j++) {
				if (j == 3)
					break;     /* leaves the inner for only */
				code += j;
			}
		}
		code *= 2;
	}
	nested_code = code;
	return code;
}
