// unusual_c.c: valid C that swiftbpfcc once trapped on or refused with a wrong message: a 63-bit
// bit-field, a global whose flexible array member is initialized (the global grows to hold the
// elements), null pointer initializers (plain zero bytes), a switch whose body is one case, an
// unprototyped definition `int f()`, an array parameter (a pointer), a variable used before its
// tentative definition, members reached through nested anonymous unions and structs, an attributed
// statement (`fallthrough`), a struct-valued comma expression, and packed structs in locals
// (whose members the verifier must never see loaded or stored misaligned on the stack).
// RUN: --prog bitfields --prog flexible --prog odd_statements --prog members --prog packed --get wide_low --get wide_high --get fam_sum --get later --get null_checks --get packed_sum
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

struct wide {
	unsigned long low : 63;
	unsigned long flag : 1;
	long high : 63;
	unsigned long rest : 1;
	unsigned long full;
	unsigned long one : 1;
	unsigned long most : 62;
};

struct wide w;
unsigned long wide_low;
long wide_high;

SEC("syscall") int bitfields(void *ctx)
{
	w.low = 0x7fffffffffffffffUL;
	w.flag = 1;
	w.high = -5;
	w.rest = 0;
	w.full = 0xfedcba9876543210UL;
	w.most = 0x3fffffffffffff00UL;
	w.one = 1;
	w.low -= 2;
	wide_low = w.low;
	wide_high = w.high;
	return (int)(w.flag + w.rest + w.one + (w.most >> 56) + (w.full & 0xff));
}

struct samples {
	int count;
	int data[];
};

struct samples fam_values = { 3, { 10, 20, 30 } };
struct samples fam_named = { .data = { 4, 5 }, .count = 2 };
long fam_sum;

SEC("syscall") int flexible(void *ctx)
{
	long sum = 0;

	for (int i = 0; i < 3; i++)
		sum += fam_values.data[i];
	for (int i = 0; i < 2; i++)
		sum += fam_named.data[i] * 100;
	fam_sum = sum + fam_values.count * 1000 + fam_named.count * 10000;
	return (int)sum;
}

int *null_int = 0;
long *null_long = (void *)0;
int (*null_function)(int) = 0;
int null_checks;

extern int later;

static int unprototyped()
{
	return 7;
}

static int sum4(int values[4])
{
	return values[0] + values[3] + *(values + 1) + 2[values];
}

struct pair { int a, b; };
struct pair first = { 1, 2 }, second;

SEC("syscall") int odd_statements(void *ctx)
{
	int r = 1;
	int values[4] = { 1, 2, 3, 4 };

	later += 5;
	switch (later)
	case 5: r = 6;
	switch (r) {
	case 6:
		r += unprototyped();
		__attribute__((fallthrough));
	case 7:
		r += sum4(values);
		break;
	}
	second = (r++, first);
	null_checks = (null_int == 0) + (null_long == 0) * 2 + (null_function == 0) * 4;
	return r + second.b;
}

int later;

struct nested {
	int head;
	union {
		struct {
			int x, y;
		};
		long both;
	};
	struct {
		union {
			short s;
			char c;
		};
	} tail;
};

struct nested shapes;

SEC("syscall") int members(void *ctx)
{
	struct nested local = { 0 };

	shapes.x = 3;
	shapes.y = 4;
	shapes.tail.s = 9;
	local.head = shapes.x + shapes.y;
	local.both = 0;
	local.y = 2;
	return local.head * 100 + shapes.tail.c + (int)(local.both >> 32);
}

struct __attribute__((packed)) record {
	char tag;
	int count;
	long total;
	short delta;
};

struct record saved = { 1, 2, 3, 4 };
long packed_sum;

SEC("syscall") int packed(void *ctx)
{
	struct record copy = saved;
	struct record made = { 5, 6, 7, 8 };
	struct record other;

	copy.count += 10;
	copy.total = copy.total * 3 + made.delta;
	made.delta--;
	other = made;
	other.count = copy.count + other.tag;
	saved = other;
	packed_sum = copy.count + copy.total + other.count + other.delta + saved.total;
	return copy.count + other.delta;
}
