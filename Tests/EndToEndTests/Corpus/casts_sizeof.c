// casts_sizeof.c: explicit casts between all integer widths and signedness (in both
// directions), casts to and from _Bool, pointer casts (to char * to read bytes, to and
// from an integer), casts in the middle of expressions that change the result, and
// sizeof/_Alignof of types and expressions (without evaluating them).
// RUN: --prog integer_casts --prog pointer_casts --prog sizes --get c1 --get c2 --get c3 --get c4 --get c5 --get c6 --get bytes_le --get size_code --get align_code --get not_evaluated
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

long long source = -0x0123456789abcdefLL;
unsigned int pattern = 0x11223344u;
int not_evaluated = 5;

long long c1;
unsigned long long c2;
int c3;
unsigned int c4;
long c5;
short c6;
unsigned long long bytes_le;
unsigned long size_code;
unsigned long align_code;

SEC("syscall") int integer_casts(void *ctx)
{
	c1 = (long long)(unsigned int)source;       /* zero-extended */
	c2 = (unsigned long long)(int)(source >> 8); /* sign-extended */
	c3 = (int)(unsigned char)(source >> 28) - (int)(signed char)(source >> 28);
	c4 = (unsigned int)(short)pattern;          /* 0x3344 is positive: 13124 */
	c5 = (long)(unsigned short)(short)-2 + (long)(short)(unsigned short)65535;
	c6 = (short)((unsigned char)200 * 2);
	_Bool b = (_Bool)(pattern & 0x100);
	int via_bool = (int)(_Bool)-5 + (int)b;
	/* casting before or after an operation changes the result */
	unsigned int before = (unsigned char)pattern * 2u;   /* 0x88 */
	unsigned int after = (unsigned char)(pattern * 2u);  /* 0x88 too */
	unsigned int wide = (unsigned short)(pattern << 4);  /* 0x3440 */
	return via_bool + (int)(before + after + wide);
}

SEC("syscall") int pointer_casts(void *ctx)
{
	/* Only casts that keep C's aliasing rules: bytes through unsigned char *, and
	 * signed/unsigned variants of the same type. */
	unsigned long long v = 0x0807060504030201ull;
	unsigned char *p = (unsigned char *)&v;
	unsigned long long le = 0;
	for (int i = 0; i < 8; i++)
		le = le * 16 + p[i];                /* little-endian: 1 first */
	bytes_le = le;
	unsigned char *h = (unsigned char *)&pattern;
	unsigned int words[2] = { 0x80000001u, 7 };
	void *vp = words;
	int *ip = (int *)vp;                   /* reads the unsigned ints as signed */
	long long *lp = (long long *)&source;
	unsigned long long *up = (unsigned long long *)lp;
	return h[3] + (ip[0] >> 24) + ip[1] + (int)(*up >> 60);
}

SEC("syscall") int sizes(void *ctx)
{
	struct s { char c; int i; } x;
	/* sizeof does not evaluate its operand: not_evaluated is not incremented. */
	unsigned long n = sizeof(not_evaluated++) + sizeof x + sizeof(x.c) + sizeof(&x);
	size_code = n * 1000000 + sizeof(source + 1) * 10000 + sizeof((char)1 + (char)1) * 100 + sizeof(pattern);
	align_code = _Alignof(char) + _Alignof(short) * 10 + _Alignof(int) * 100 + _Alignof(long) * 1000 +
		     _Alignof(struct s) * 10000 + _Alignof(unsigned long long) * 100000;
	return (int)sizeof(int[7]) + (int)sizeof(long[2][3]) * 100;
}
