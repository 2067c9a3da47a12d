// int_types.c: every integer type (char, signed/unsigned char, short, int, long,
// long long and their unsigned forms), __u8..__u64/__s8..__s64-style typedefs, _Bool,
// sizeof of each, truncation and sign extension on conversion between widths.
// RUN: --prog widths --prog convert --prog booleans --get sizes --get t_u8 --get t_s8 --get t_u16 --get t_s16 --get t_u32 --get t_s32 --get t_s64 --get t_u64 --get z_char --get z_uchar --get z_schar --get z_short --get z_ushort --get z_long --get z_ulong --get z_ll --get z_ull --get b1 --get b2 --get b3 --get b4
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;

/* Inputs live in .data so that neither compiler can fold them away. */
long long wide = 0x1234567890abcdefLL;
long long negative = -0x1234567890abcdefLL;
int small_neg = -2;

long sizes;
__u8 t_u8;
__s8 t_s8;
__u16 t_u16;
__s16 t_s16;
__u32 t_u32;
__s32 t_s32;
__s64 t_s64;
__u64 t_u64;

char z_char;
unsigned char z_uchar;
signed char z_schar;
short z_short;
unsigned short z_ushort;
long z_long;
unsigned long z_ulong;
long long z_ll;
unsigned long long z_ull;

_Bool b1, b2, b3, b4;

SEC("syscall") int widths(void *ctx)
{
	/* A positional encoding: each size in its own decimal digit pair. */
	sizes = sizeof(char) + 10 * sizeof(signed char) + 100 * sizeof(unsigned char) + 1000 * sizeof(short) +
		10000 * sizeof(unsigned short) + 100000 * sizeof(int) + 1000000L * sizeof(unsigned int) +
		10000000L * sizeof(long) + 100000000L * sizeof(unsigned long) + 1000000000L * sizeof(long long) +
		10000000000L * sizeof(unsigned long long) + 100000000000L * sizeof(_Bool) +
		1000000000000L * sizeof(__u64) + 10000000000000L * sizeof(__s16);
	return sizeof(__u8) + sizeof(__u16) + sizeof(__u32) + sizeof(__u64);
}

SEC("syscall") int convert(void *ctx)
{
	/* Truncation keeps the low bits; widening a signed value sign-extends. */
	t_u8 = wide;
	t_s8 = wide;
	t_u16 = negative;
	t_s16 = negative;
	t_u32 = negative;
	t_s32 = wide;
	t_s64 = (__s32)wide;
	t_u64 = (__u32)small_neg;

	z_char = (char)(wide >> 8);
	z_uchar = small_neg;
	z_schar = 0x80 | (int)(wide & 1);
	z_short = (short)0xfffe + small_neg;
	z_ushort = small_neg;
	z_long = (int)0x80000000u + (long)small_neg;
	z_ulong = small_neg;
	z_ll = (signed char)z_uchar;
	z_ull = (unsigned short)z_short;

	/* A signed char widened to int, then to unsigned long long, sign-extends first. */
	__s8 m = -1;
	unsigned long long all = m;
	return (int)(all >> 40) + t_s8 + z_schar;
}

SEC("syscall") int booleans(void *ctx)
{
	/* Conversion to _Bool compares with zero; it does not truncate. */
	b1 = wide & 0x100;
	b2 = (_Bool)(wide & 0x10);
	b3 = small_neg + 2;
	b4 = !b3;
	_Bool sum = b1 + b2 + b3;
	return sum + b1 + b2 * 10 + b3 * 100 + b4 * 1000 + (b1 == 1);
}
