// divmod.c: signed and unsigned / and % with negative operands at 32 and 64 bits, and
// at 8/16 bits through promotion; C truncates toward zero and a % b has a's sign.
// Signed BPF division needs cpu v4 (sdiv/smod).
// CFLAGS: -mcpu=v4
// RUN: --prog div32 --prog div64 --prog narrow --get q1 --get r1 --get q2 --get r2 --get q3 --get r3 --get q4 --get r4 --get uq --get ur --get lq1 --get lr1 --get lq2 --get lr2 --get luq --get lur --get nq --get nr
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int a = -7, b = 2, c = 7, d = -2;
long long la = -7000000000000LL, lb = 3, lc = 7000000000001LL, ld = -1000000007;
unsigned int ua = 4000000000u, ub = 7;
unsigned long long lua = 18000000000000000000ull, lub = 1000000007;
signed char sa = -100;
short sb = -7;

int q1, r1, q2, r2, q3, r3, q4, r4;
unsigned int uq, ur;
long long lq1, lr1, lq2, lr2;
unsigned long long luq, lur;
int nq, nr;

SEC("syscall") int div32(void *ctx)
{
	q1 = a / b;        /* -3 */
	r1 = a % b;        /* -1 */
	q2 = c / d;        /* -3 */
	r2 = c % d;        /* 1 */
	q3 = a / d;        /* 3 */
	r3 = a % d;        /* -1 */
	q4 = d / c;        /* 0 */
	r4 = d % c;        /* -2 */
	uq = ua / ub;
	ur = ua % ub;
	/* A negative int divided by an unsigned int divides 4294967289 instead. */
	unsigned int mixed = a / ub;
	return mixed + (a / (int)ub);
}

SEC("syscall") int div64(void *ctx)
{
	lq1 = la / lb;
	lr1 = la % lb;
	lq2 = lc / ld;
	lr2 = lc % ld;
	luq = lua / lub;
	lur = lua % lub;
	/* (a/b)*b + a%b == a must hold for every sign combination. */
	return (lq1 * lb + lr1 == la) + (lq2 * ld + lr2 == lc) * 2 + (luq * lub + lur == lua) * 4;
}

SEC("syscall") int narrow(void *ctx)
{
	nq = sa / sb;      /* promoted to int: 14 */
	nr = sa % sb;      /* -2 */
	unsigned char u = 250;
	return (signed char)u / 3 + (signed char)u % 4 + u / 3;
}
