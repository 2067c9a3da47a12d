// conversions.c: integer promotions and the usual arithmetic conversions: signed/unsigned
// mixing (-1 < 1u is false, -1L < 1u is true), char and short promoted to int before
// arithmetic, comparisons of every signedness and width, results of mixed-width operations.
// RUN: --prog compare --prog promote --prog mixed --get cmp_bits --get p_char --get p_ushort --get p_neg_uchar --get p_shift --get m_div --get m_add --get m_long --get m_ulong --get m_int_u --get m_short_cmp
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int minus_one = -1;
unsigned int one_u = 1;
long minus_one_l = -1;
unsigned char uc_200 = 200;
signed char sc_m100 = -100;
unsigned short us_60000 = 60000;
short s_m30000 = -30000;
unsigned long long ull_big = 0xffffffff00000000ULL;

unsigned int cmp_bits;
int p_char;
int p_ushort;
int p_neg_uchar;
int p_shift;
unsigned int m_div;
unsigned int m_add;
long m_long;
unsigned long m_ulong;
long long m_int_u;
int m_short_cmp;

SEC("syscall") int compare(void *ctx)
{
	unsigned int bits = 0;
	bits |= (minus_one < one_u) << 0;              /* int converts to unsigned: false */
	bits |= (minus_one_l < one_u) << 1;            /* unsigned int fits in long: true */
	bits |= (minus_one < (int)one_u) << 2;         /* both signed: true */
	bits |= (sc_m100 < uc_200) << 3;               /* both promote to int: true */
	bits |= (minus_one == 0xffffffffu) << 4;       /* true */
	bits |= (minus_one_l == 0xffffffffu) << 5;     /* false: long holds 4294967295 */
	bits |= ((unsigned long)minus_one_l > ull_big) << 6; /* true */
	bits |= (s_m30000 < us_60000) << 7;            /* true */
	bits |= (minus_one >= 0u) << 8;                /* always true */
	bits |= ((long long)minus_one < one_u) << 9;   /* true */
	bits |= (minus_one > one_u) << 10;             /* true */
	bits |= (uc_200 > sc_m100) << 11;              /* true */
	bits |= (minus_one != minus_one_l) << 12;      /* false */
	bits |= (ull_big <= (unsigned int)minus_one) << 13; /* false */
	cmp_bits = bits;
	return bits;
}

SEC("syscall") int promote(void *ctx)
{
	/* unsigned char arithmetic happens in int: no wrap at 8 bits. */
	p_char = uc_200 + uc_200;
	/* unsigned short promotes to int too: 60000 * 2 does not wrap at 16 bits. */
	p_ushort = us_60000 * 2 - s_m30000;
	/* The negation applies to the promoted int. */
	p_neg_uchar = -uc_200;
	/* Shifting a promoted char past bit 7 keeps the bits. */
	p_shift = (uc_200 << 4) | (sc_m100 >> 1);
	unsigned char u = uc_200;
	/* ~u is computed on an int: bits above 8 are set. */
	return ~u + (sizeof(u + u) == sizeof(int)) * 1000 + (sizeof(+sc_m100) == 4) * 10000;
}

SEC("syscall") int mixed(void *ctx)
{
	/* int / unsigned: the int becomes 4294967196 first. */
	m_div = (sc_m100 + 0) / one_u / 2u;
	m_add = minus_one + one_u;
	/* int + long: the int is sign-extended to long. */
	m_long = minus_one + minus_one_l * 3;
	/* unsigned int widened to unsigned long: zero-extended. */
	m_ulong = (unsigned long)(minus_one + 0u) + 1;
	/* long long and unsigned int: the unsigned int fits, the result is signed. */
	m_int_u = minus_one_l * (long long)(0u + one_u) - one_u;
	/* Comparing shorts compares the promoted ints. */
	m_short_cmp = (short)us_60000 < s_m30000;
	return m_div > 1000;
}
