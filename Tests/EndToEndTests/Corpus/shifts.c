// shifts.c: << and >> on signed and unsigned operands at every width, by constant and by
// variable amounts, arithmetic right shift of negative values, shifts of promoted chars,
// 64-bit shifts past bit 31, and the type of a shift (that of the promoted left operand).
// RUN: --prog shift32 --prog shift64 --prog shift_narrow --get s1 --get s2 --get s3 --get s4 --get s5 --get l1 --get l2 --get l3 --get l4 --get n1 --get n2 --get n3
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int neg = -1000;
unsigned int big = 0xdeadbeefu;
int amount = 5;
long long lneg = -0x123456789aLL;
unsigned long long lbig = 0xfedcba9876543210ull;
unsigned char byte = 0xa5;
signed char sbyte = -91;

int s1, s3, s5;
unsigned int s2, s4;
long long l1, l3;
unsigned long long l2, l4;
int n1, n2, n3;

SEC("syscall") int shift32(void *ctx)
{
	s1 = neg >> amount;            /* arithmetic: -32 (rounds toward -inf) */
	s2 = big >> amount;            /* logical */
	s3 = (neg + 2000) << amount;
	s4 = big << (amount * 5);      /* bits fall off the top */
	s5 = (int)big >> 28;           /* negative int: sign bits shifted in */
	int acc = 0;
	for (int i = 0; i < 32; i += 3)
		acc += (big >> i) & 1;
	return acc;
}

SEC("syscall") int shift64(void *ctx)
{
	l1 = lneg >> (amount + 30);
	l2 = lbig >> (amount + 30);
	l3 = (long long)((unsigned long long)lneg << 20); /* a negative value must not be shifted left */
	l4 = lbig << 36;
	/* The shift count does not change the type: 1u << 31 is unsigned int. */
	unsigned long long wide = 1u << 31;
	unsigned long long wider = 1ull << (amount + 40);
	return (int)(wide >> 28) + (int)(wider >> 40) + (int)((unsigned long long)lneg >> 60);
}

SEC("syscall") int shift_narrow(void *ctx)
{
	n1 = byte << 4;                /* promoted to int: 0xa50 */
	n2 = sbyte >> 2;               /* -23 */
	n3 = (unsigned char)(byte << 3); /* truncated back to 8 bits */
	unsigned short us = 0x8001;
	return (us << 1) + (us >> 15);
}
