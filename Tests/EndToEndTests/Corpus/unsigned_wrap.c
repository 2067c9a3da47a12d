// unsigned_wrap.c: wrap-around of unsigned arithmetic at 8, 16, 32 and 64 bits, and
// assignment/compound assignment that converts back to a narrow type (uc += 300,
// s8 *= ..., us -= ..., u32 <<=), every compound operator on several widths (signed /=
// needs cpu v4).
// CFLAGS: -mcpu=v4
// RUN: --prog wrap --prog compound --prog compound --get w8 --get w16 --get w32 --get w64 --get c_uc --get c_s8 --get c_us --get c_s16 --get c_u32 --get c_i --get c_l --get c_ull
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

typedef signed char s8;

unsigned char w8 = 250;
unsigned short w16 = 65530;
unsigned int w32 = 4294967290u;
unsigned long long w64 = 18446744073709551610ull;

unsigned char c_uc = 7;
s8 c_s8 = 3;
unsigned short c_us = 10;
short c_s16 = 1000;
unsigned int c_u32 = 0x87654321u;
int c_i = 12345;
long c_l = 987654321L;
unsigned long long c_ull = 0x0123456789abcdefULL;

SEC("syscall") int wrap(void *ctx)
{
	w8 += 10;                  /* 260 mod 256 = 4 */
	w16 = w16 + 10;            /* computed in int (65540), truncated to 4 */
	w32 += 10;                 /* 4 */
	w64 += 10;                 /* 4 */
	unsigned int zero = w32 - 4;
	unsigned int under = zero - 1;             /* 4294967295 */
	unsigned long long under64 = (unsigned long long)zero - 1;
	unsigned int product = 0x10001u * 0x10001u; /* wraps to 0x20001 */
	return (under == 0xffffffffu) + (under64 == ~0ull) * 10 + (product == 0x20001u) * 100 + w8 + w16;
}

SEC("syscall") int compound(void *ctx)
{
	c_uc += 300;               /* 7 + 300 = 307 -> 51, then 351 -> 95 */
	c_s8 *= 50;                /* 150 -> -106; then -5300 -> 76 */
	c_us -= 20;                /* -10 -> 65526 */
	c_s16 *= 40;               /* 40000 -> -25536 */
	c_u32 <<= 4;
	c_u32 ^= 0x0f0f0f0fu;
	c_u32 >>= 1;
	c_i /= 7;
	c_i %= 1000;
	c_i |= 0x4000;
	c_i &= 0x7ff0;
	c_i -= 3;
	c_l /= 1000;
	c_l += c_i;
	c_l <<= 2;
	c_ull >>= 3;
	c_ull *= 3;
	c_ull ^= c_l;
	return c_uc + c_s8;
}
