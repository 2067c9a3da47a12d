// anonymous_members.c: members reached through anonymous structs and unions nested several
// levels deep (libclang shows only some of the member expressions in between), read and written
// directly, through pointers and as bit-fields, and initialized positionally and by designator.
// RUN: --prog access --prog initializers --get total --get flags
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

struct packet {
	int kind;
	struct {
		int length;
		union {
			int word;
			struct {
				short low, high;
			};
			struct {
				union {
					char tag;
					struct {
						unsigned char ready : 1, sent : 3;
					};
				};
			};
		};
	};
	long trailer;
};

struct packet first = { 1, { 2, { .word = 3 } }, 4 };
struct packet second = { .high = 5, .low = 6, .kind = 7 };
struct packet third = { 8, 9, 10, 11 };
long total;
int flags;

static int sum(const struct packet *p)
{
	return p->kind + p->length * 10 + p->low * 100 + p->high * 1000 + (int)p->trailer * 10000;
}

SEC("syscall") int access(void *ctx)
{
	struct packet local = { 0 };
	struct packet *p = &local;

	local.length = 4;
	p->low = 3;
	p->high = 2;
	local.kind = first.word + second.high;
	p->trailer = third.trailer;
	total = sum(p) + (long)local.word * 100000;
	local.ready = 1;
	local.sent = 5;
	flags = local.tag + p->sent * 256;
	return local.low + p->high;
}

SEC("syscall") int initializers(void *ctx)
{
	struct packet a = { .length = 1, .tag = 2, .kind = 3 };
	struct packet b = { 4, 5, 6, 7 };
	struct packet c = { .high = 8, .low = 9, .trailer = 10 };

	return sum(&a) + sum(&b) * 3 + sum(&c) * 5 + first.length + second.low + third.word;
}
