// unions.c: unions of integers and arrays (reading a member other than the one last
// written, little-endian on both sides), a union nested in a struct with a tag (a tagged
// variant), sizeof/_Alignof of unions, union assignment and copy, union initializers.
// RUN: --prog punning --prog tagged --prog tagged --get low_byte --get high_half --get as_long --get variant_sum --get union_size
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

union word {
	unsigned int u32;
	unsigned short u16[2];
	unsigned char u8[4];
	signed char s8[4];
};

union wide {
	unsigned long long u64;
	int i32[2];
	char c;
};

enum kind { KIND_INT, KIND_PAIR, KIND_BYTES };

struct variant {
	enum kind kind;
	union {
		long i;
		struct { int a, b; } pair;
		unsigned char bytes[8];
	} as;
};

union word gw = { 0x80c1f203u };       /* initializes the first member */
struct variant values[3] = {
	{ KIND_INT, { .i = -42 } },
	{ KIND_PAIR, { .pair = { 7, -9 } } },
	{ KIND_BYTES, { .bytes = { 1, 2, 3, 4, 5, 6, 7, 8 } } },
};

unsigned int low_byte;
unsigned int high_half;
long long as_long;
long variant_sum;
unsigned long union_size;

static long weight(const struct variant *v)
{
	switch (v->kind) {
	case KIND_INT:
		return v->as.i;
	case KIND_PAIR:
		return v->as.pair.a * 100L + v->as.pair.b;
	case KIND_BYTES: {
		long s = 0;
		for (int i = 0; i < 8; i++)
			s += v->as.bytes[i] << i;
		return s;
	}
	}
	return 0;
}

SEC("syscall") int punning(void *ctx)
{
	union word w = gw;
	low_byte = w.u8[0];
	high_half = w.u16[1];
	w.u8[1] = 0xff;                     /* writes into the middle of u32 */
	union wide x;
	x.u64 = 0;
	x.i32[1] = -2;
	x.c = 5;
	as_long = (long long)x.u64;
	union_size = sizeof(union word) + sizeof(union wide) * 10 + sizeof(struct variant) * 100 +
		     _Alignof(union wide) * 1000;
	return (int)w.u32 + w.s8[3];
}

SEC("syscall") int tagged(void *ctx)
{
	long s = 0;
	for (int i = 0; i < 3; i++)
		s = s * 3 + weight(&values[i]);
	variant_sum = s;
	struct variant tmp = values[0];       /* rotate the array by copying whole structs */
	values[0] = values[1];
	values[1] = values[2];
	values[2] = tmp;
	return values[0].kind * 10 + values[2].kind;
}
