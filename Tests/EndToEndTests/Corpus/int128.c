// int128.c: __int128 and unsigned __int128, each value two 64-bit halves on BPF: addition and
// subtraction carrying and borrowing across the halves, ++ and --, negation, bitwise operators,
// shifts by 0, 1, 63, 64, 65 and 127 (logical, arithmetic, left), unsigned and signed comparisons
// deciding on either half (as values and as branches), truth values, ?: and GNU ?:, conversions
// to and from every narrower width, compound assignments with narrow operands, struct members,
// arrays, pointers, parameters of a BPF call, an inlined function returning one, and initialized
// globals (16 bytes, aligned 16).
// RUN: --prog arithmetic --prog shifts --prog compares --prog conversions --prog memory --get add_lo --get add_hi --get sub_lo --get sub_hi --get neg_lo --get neg_hi --get inc_lo --get inc_hi --get dec_lo --get dec_hi --get bits_lo --get bits_hi --get compound_lo --get compound_hi --get shl_sum --get lshr_sum --get ashr_sum --get shifted_lo --get shifted_hi --get compare_bits --get truth_bits --get branch_bits --get narrow_sum --get widen_sum --get narrow_compound --get member_lo --get member_hi --get array_sum --get call_sum --get global_sum
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

typedef unsigned __int128 u128;
typedef __int128 s128;

/* Inputs live in .data so that neither compiler can fold them away. */
unsigned long ones = ~0ul;
unsigned long pattern = 0x0123456789abcdefUL;
unsigned long top_bit = 1UL << 63;
long minus_three = -3;
int minus_seven = -7;
unsigned int big_u32 = 0xfffffff0u;
signed char minus_c = -100;
unsigned char byte = 0xc8;

unsigned long add_lo, add_hi, sub_lo, sub_hi, neg_lo, neg_hi, inc_lo, inc_hi, dec_lo, dec_hi;
unsigned long bits_lo, bits_hi, compound_lo, compound_hi;
unsigned long shl_sum, lshr_sum, ashr_sum, shifted_lo, shifted_hi;
unsigned long compare_bits, truth_bits, branch_bits;
unsigned long narrow_sum, widen_sum, narrow_compound;
unsigned long member_lo, member_hi, array_sum, call_sum, global_sum;

/* A running mix of both halves, so that every bit of every result counts. */
static unsigned long mix(unsigned long sum, u128 value)
{
	sum = (sum << 7 | sum >> 57) ^ (unsigned long)value;
	return (sum << 7 | sum >> 57) ^ (unsigned long)(value >> 64);
}

static u128 make(unsigned long high, unsigned long low)
{
	return (u128)high << 64 | low;
}

SEC("syscall") int arithmetic(void *ctx)
{
	u128 a = make(pattern, ones);           /* low half all ones: +1 carries */
	u128 sum = a + 1;
	add_lo = (unsigned long)sum;
	add_hi = (unsigned long)(sum >> 64);
	u128 b = make(pattern, 0);              /* low half zero: -1 borrows */
	u128 difference = b - 1;
	sub_lo = (unsigned long)difference;
	sub_hi = (unsigned long)(difference >> 64);
	s128 negated = -(s128)make(0, pattern);  /* a small positive value made negative */
	neg_lo = (unsigned long)negated;
	neg_hi = (unsigned long)((u128)negated >> 64);
	u128 counter = a;
	u128 before = counter++;                /* carries */
	inc_lo = (unsigned long)counter ^ (unsigned long)before;
	inc_hi = (unsigned long)(counter >> 64);
	inc_hi += (unsigned long)(++counter >> 64);
	counter = b;
	dec_lo = (unsigned long)(counter--);
	dec_lo += (unsigned long)(--counter);   /* borrows */
	dec_hi = (unsigned long)(counter >> 64);
	u128 mask = make(top_bit | pattern, pattern >> 4);
	u128 bits = (a & mask) ^ (~b | make(1, 1));
	bits_lo = (unsigned long)bits;
	bits_hi = (unsigned long)(bits >> 64);
	u128 c = b;
	c += ones;                              /* a narrow unsigned operand, zero-extended */
	c += minus_three;                       /* a narrow negative operand, sign-extended */
	c -= make(1, 0);
	c |= 5;
	c &= ~(u128)2;
	c ^= make(top_bit, 0);
	c <<= 4;
	c >>= 2;
	compound_lo = (unsigned long)c;
	compound_hi = (unsigned long)(c >> 64);
	return (int)(sum >> 120);
}

SEC("syscall") int shifts(void *ctx)
{
	u128 v = make(pattern | top_bit, ~pattern);
	s128 negative = (s128)v;                 /* top bit set */
	s128 positive = (s128)(v >> 1);
	unsigned long l = 0, r = 0, a = 0;
	l = mix(l, v << 0);
	l = mix(l, v << 1);
	l = mix(l, v << 63);
	l = mix(l, v << 64);
	l = mix(l, v << 65);
	l = mix(l, v << 127);
	r = mix(r, v >> 0);
	r = mix(r, v >> 1);
	r = mix(r, v >> 63);
	r = mix(r, v >> 64);
	r = mix(r, v >> 65);
	r = mix(r, v >> 127);
	a = mix(a, (u128)(negative >> 0));
	a = mix(a, (u128)(negative >> 1));
	a = mix(a, (u128)(negative >> 63));
	a = mix(a, (u128)(negative >> 64));
	a = mix(a, (u128)(negative >> 65));
	a = mix(a, (u128)(negative >> 127));
	a = mix(a, (u128)(positive >> 3));
	a = mix(a, (u128)(positive >> 70));
	a = mix(a, (u128)(positive >> 127));
	shl_sum = l;
	lshr_sum = r;
	ashr_sum = a;
	u128 moved = v;
	moved <<= 64;
	moved >>= 65;
	shifted_lo = (unsigned long)moved;
	shifted_hi = (unsigned long)(moved >> 64);
	return (int)((v >> 124) & 0xf);
}

SEC("syscall") int compares(void *ctx)
{
	u128 small = make(1, 0);
	u128 large = make(1, ones);             /* same high half, larger low half */
	u128 higher = make(2, 0);               /* larger high half, smaller low half */
	s128 minus_one = -1;
	s128 minus_big = -(s128)make(1, 0);
	s128 plus_one = (s128)(pattern & 1);
	unsigned long bits = 0;
	int i = 0;
	bits |= (unsigned long)(small < large) << i++;
	bits |= (unsigned long)(large < higher) << i++;
	bits |= (unsigned long)(higher < small) << i++;
	bits |= (unsigned long)(small <= make(1, 0)) << i++;
	bits |= (unsigned long)(large > small) << i++;
	bits |= (unsigned long)(large >= higher) << i++;
	bits |= (unsigned long)(small == make(1, 0)) << i++;
	bits |= (unsigned long)(small == large) << i++;   /* only the low halves differ */
	bits |= (unsigned long)(large != make(2, ones)) << i++; /* only the high halves differ */
	bits |= (unsigned long)(minus_one < plus_one) << i++;
	bits |= (unsigned long)(minus_big < minus_one) << i++;
	bits |= (unsigned long)(minus_one > minus_big) << i++;
	bits |= (unsigned long)(minus_one <= -1) << i++;
	bits |= (unsigned long)(plus_one >= minus_big) << i++;
	bits |= (unsigned long)((u128)minus_one > (u128)plus_one) << i++; /* unsigned: all ones is largest */
	bits |= (unsigned long)(minus_big < 0) << i++;
	bits |= (unsigned long)(minus_three < minus_big) << i++; /* a narrow operand, sign-extended */
	unsigned long truths = 0;
	i = 0;
	if (small)
		truths |= 1UL << i;
	i++;
	if (!large)
		truths |= 1UL << i;
	i++;
	truths |= (unsigned long)!make(0, 0) << i++;
	truths |= (unsigned long)(small && large) << i++;
	truths |= (unsigned long)(make(0, 0) || higher) << i++;
	truths |= (unsigned long)(_Bool)small << i++;     /* only the high half is set */
	truths |= (unsigned long)(small ? 3 : 4) << i;
	i += 3;
	truths |= (unsigned long)((make(0, 0) ?: higher) >> 65) << i++;   /* GNU ?: */
	truths |= (unsigned long)((small ?: higher) >> 64) << i++;
	for (u128 n = make(0, ~0UL - 2); n != make(1, 1); n++)
		truths += 1UL << 20;                     /* four trips, across the carry */
	/* The same comparisons as branches. */
	unsigned long branches = 0;
	i = 0;
#define BRANCH(condition) do { if (condition) branches |= 1UL << i; i++; } while (0)
	BRANCH(small < large);
	BRANCH(large < higher);
	BRANCH(higher < small);
	BRANCH(higher <= large);
	BRANCH(large >= large);
	BRANCH(higher > large);
	BRANCH(small == large);
	BRANCH(small != make(2, 0));
	BRANCH(large == make(1, ones));
	BRANCH(minus_big < minus_one);
	BRANCH(minus_one <= minus_big);
	BRANCH(plus_one > minus_one);
	BRANCH(minus_big >= plus_one);
	BRANCH((u128)minus_big > (u128)plus_one);
	BRANCH(small < large && minus_big < 0);
	BRANCH(higher < small || minus_one >= 0);
#undef BRANCH
	compare_bits = bits;
	truth_bits = truths;
	branch_bits = branches;
	return (int)bits;
}

SEC("syscall") int conversions(void *ctx)
{
	s128 from_long = minus_three;
	s128 from_int = minus_seven;
	u128 from_unsigned = big_u32;
	s128 from_char = minus_c;
	u128 from_uchar = byte;
	u128 from_ulong = ones;
	unsigned long widened = 0;
	widened = mix(widened, (u128)from_long);
	widened = mix(widened, (u128)from_int);
	widened = mix(widened, from_unsigned);
	widened = mix(widened, (u128)from_char);
	widened = mix(widened, from_uchar);
	widened = mix(widened, from_ulong);
	widened = mix(widened, (u128)(s128)(long)ones);
	widen_sum = widened;
	u128 v = make(pattern, ~pattern);
	unsigned long narrowed = 0;
	narrowed = narrowed * 3 + (unsigned char)v;
	narrowed = narrowed * 3 + (unsigned long)(signed char)v;
	narrowed = narrowed * 3 + (unsigned short)v;
	narrowed = narrowed * 3 + (unsigned long)(short)v;
	narrowed = narrowed * 3 + (unsigned int)v;
	narrowed = narrowed * 3 + (unsigned long)(int)v;
	narrowed = narrowed * 3 + (unsigned long)(long)v;
	narrowed = narrowed * 3 + (unsigned long)(_Bool)make(0, 0);
	narrowed = narrowed * 3 + (unsigned long)(_Bool)make(4, 0);
	narrowed = narrowed * 3 + (unsigned long)(long)(s128)v;
	narrow_sum = narrowed;
	int small = 100;
	small += make(1, 50);                    /* the high half falls off */
	unsigned char c = 7;
	c -= make(0, 9);
	long l = -5;
	l ^= (s128)-1;
	narrow_compound = (unsigned long)small * 1000000 + c * 1000 + (unsigned long)l;
	return small;
}

struct holder {
	char tag;
	u128 value;
	s128 signed_value;
	int tail;
};

struct holder global_holder = { 1, ((u128)1 << 100) | 7, -5, 9 };
u128 global_value = ~(u128)0 - 1;
s128 global_negative = -((s128)1 << 70);
const u128 table[3] = { 1, (u128)1 << 64, ((u128)3 << 126) + ((u128)1 << 32) * 5 / 5 };

static __attribute__((noinline)) unsigned long fold(u128 value, unsigned long extra)
{
	return (unsigned long)(value >> 64) ^ (unsigned long)value ^ extra;
}

static inline __attribute__((always_inline)) u128 swap_halves(u128 value)
{
	return value << 64 | value >> 64;
}

SEC("syscall") int memory(void *ctx)
{
	struct holder local = { 2, make(pattern, ones), -(s128)pattern, 3 };
	local.value += 1;
	global_holder.value += local.value;
	global_holder.signed_value -= 7;
	member_lo = (unsigned long)global_holder.value ^ (unsigned long)global_holder.signed_value;
	member_hi = (unsigned long)(global_holder.value >> 64) ^ (unsigned long)((u128)global_holder.signed_value >> 64);
	u128 values[4];
	for (int i = 0; i < 4; i++)
		values[i] = make(pattern + i, ones - i);
	u128 *p = &values[(pattern & 1) + 1];
	*p += 2;
	p[1] -= 1;
	unsigned long sum = 0;
	for (int i = 0; i < 4; i++)
		sum = mix(sum, values[i]);
	array_sum = sum;
	call_sum = fold(make(pattern, ones), 1) + fold(values[2], 2);
	u128 swapped = swap_halves(make(pattern, 5));
	call_sum ^= (unsigned long)swapped + (unsigned long)(swapped >> 64);
	unsigned long g = 0;
	g = mix(g, global_value);
	g = mix(g, (u128)global_negative);
	g = mix(g, table[pattern & 1]);
	g = mix(g, table[2]);
	g = mix(g, global_holder.value);
	global_sum = g + sizeof(u128) + _Alignof(s128) + sizeof(struct holder) + __builtin_offsetof(struct holder, signed_value);
	return global_holder.tag + global_holder.tail;
}
