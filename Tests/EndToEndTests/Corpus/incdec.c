// incdec.c: ++ and -- in prefix and postfix forms on int, long, char (wrapping past
// CHAR_MAX/UCHAR_MAX), unsigned char at 0, short, _Bool-free values used and discarded,
// and on pointers (moving by the element size through arrays of several element types).
// RUN: --prog ints --prog chars --prog pointers --get i_pre --get i_post --get uc_wrap --get sc_wrap --get us_down --get l_dec --get p_sum --get p_steps
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int seed = 10;
int i_pre, i_post;
unsigned char uc_wrap = 254;
signed char sc_wrap = 126;
unsigned short us_down = 1;
long l_dec = -5;
long p_sum;
int p_steps;

short shorts[5] = { 100, -200, 300, -400, 500 };
long longs[4] = { 1L << 40, -(1L << 41), 3, -4 };
unsigned char bytes[6] = "hello";

SEC("syscall") int ints(void *ctx)
{
	int x = seed;
	int a = x++;       /* a = 10, x = 11 */
	int b = ++x;       /* b = 12, x = 12 */
	int c = x--;       /* c = 12, x = 11 */
	int d = --x;       /* d = 10, x = 10 */
	i_pre = ++seed;
	i_post = seed++;
	long m = l_dec--;
	--l_dec;
	return a + b * 10 + c * 100 + d * 1000 + x * 10000 + (int)m;
}

SEC("syscall") int chars(void *ctx)
{
	unsigned char before = uc_wrap++;
	uc_wrap++;         /* 255 -> 0 */
	uc_wrap++;
	sc_wrap++;
	signed char peak = sc_wrap++;  /* 127, then wraps to -128 */
	us_down--;
	us_down--;         /* 0 -> 65535 */
	unsigned char zero = 0;
	zero--;
	char c = 'a';
	c += 2;
	++c;
	return before + peak * 1000 + zero + (c == 'd') * 100000 + sc_wrap * 10;
}

SEC("syscall") int pointers(void *ctx)
{
	short *sp = shorts;
	long sum = *sp++;          /* 100, sp -> [1] */
	sum += *++sp;              /* 300, sp -> [2] */
	sum += (*sp)++;            /* 300, shorts[2] = 301 */
	sum += ++*sp;              /* 302 */
	sp++;
	sum += *sp--;              /* -400, sp -> [2] */
	sum += *--sp;              /* -200 */
	/* Loops count with integers: the verifier cannot bound a loop on pointer comparison. */
	long *lp = &longs[3];
	int steps = 0;
	for (int k = 0; k < 3; k++, steps++)
		sum += *lp-- >> 20;
	sum += *lp;                /* longs[0] */
	unsigned char *bp = bytes + 5;
	for (int k = 0; k < 4; k++)
		sum += *--bp;
	steps += (int)(bp - bytes) * 10 + (int)(lp - longs) * 100;
	p_sum = sum;
	p_steps = steps + (int)(sp - shorts);
	return (int)sum;
}
