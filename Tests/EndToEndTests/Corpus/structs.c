// structs.c: structs with padding (char/long/short mixes), nested structs and arrays in
// structs, sizeof/_Alignof/offsetof of members, . and ->, struct assignment and copy
// (by value into locals, globals and through pointers), struct arguments passed by
// pointer, designated and positional struct initializers, arrays of structs, bitfields.
// RUN: --prog layout --prog copy --prog nested --prog bits --get sz --get offs --get aligns --get copied --get total --get flags_word --get bit_sum
#include <swiftbpf.h>
#include <stddef.h>

char LICENSE[] SEC("license") = "GPL";

struct padded {
	char c;         /* 7 bytes of padding follow */
	long l;
	short s;        /* 2 bytes of padding follow */
	int i;
	char tail;      /* 7 bytes of tail padding */
};

struct point { int x, y; };
struct rect {
	struct point min, max;
	unsigned char color[3];
	struct { short depth; char tag; } extra;   /* an anonymous struct type as a member */
};

struct flags {
	unsigned int ready : 1;
	unsigned int mode : 3;
	int level : 5;          /* signed bitfield: -16..15 */
	unsigned int rest : 23;
};

struct padded gp = { 'a', -1234567890123L, -32000, 70000, 'z' };
struct rect rects[2] = {
	{ { 1, 2 }, { 10, 20 }, { 255, 128, 1 }, { -5, 'q' } },
	{ .max = { .y = 7, .x = 9 }, .color = { 3 } },
};
struct flags gflags = { 1, 5, -9, 12345 };

unsigned long sz;
unsigned long offs;
unsigned long aligns;
long copied;
long total;
unsigned int flags_word;
int bit_sum;

static int area(const struct rect *r)
{
	return (r->max.x - r->min.x) * (r->max.y - r->min.y);
}

static void grow(struct rect *r, int by)
{
	r->min.x -= by;
	r->min.y -= by;
	r->max.x += by;
	(*r).max.y += by;
}

SEC("syscall") int layout(void *ctx)
{
	sz = sizeof(struct padded) * 10000 + sizeof(struct rect) * 100 + sizeof(struct point);
	offs = offsetof(struct padded, l) + offsetof(struct padded, s) * 100 + offsetof(struct padded, i) * 10000 +
	       offsetof(struct padded, tail) * 1000000 + offsetof(struct rect, color) * 100000000L +
	       offsetof(struct rect, extra.tag) * 10000000000L;
	aligns = _Alignof(struct padded) + _Alignof(struct point) * 10 + _Alignof(struct rect) * 100 +
		 _Alignof(char) * 1000 + _Alignof(short) * 10000 + _Alignof(long long) * 100000;
	return gp.c + gp.tail + gp.s + gp.i;
}

SEC("syscall") int copy(void *ctx)
{
	struct padded local = gp;          /* a whole-struct copy out of .data */
	local.l -= 1000;
	local.c = 'b';
	struct padded again;
	again = local;                     /* assignment between locals */
	gp = again;                        /* and back into the global */
	struct rect r = rects[0];
	grow(&r, 3);
	rects[1] = r;
	copied = gp.l + gp.c + rects[1].min.x * 1000 + rects[1].extra.tag;
	return area(&rects[0]) + area(&rects[1]) * 1000;
}

SEC("syscall") int nested(void *ctx)
{
	long t = 0;
	for (int i = 0; i < 2; i++) {
		struct rect *r = &rects[i];
		t = t * 7 + r->min.x + r->min.y * 3 + r->max.x * 5 + r->max.y * 11;
		for (int k = 0; k < 3; k++)
			t += r->color[k] * (k + 1);
		t += r->extra.depth;
	}
	total = t;
	struct point pts[3] = { { 1, 2 }, [2] = { 5 } };
	struct point *pp = pts;
	return pp[2].x + (pp + 1)->y + pts[0].y * 100;
}

SEC("syscall") int bits(void *ctx)
{
	struct flags f = gflags;
	f.mode += 4;            /* 5 + 4 = 9 wraps to 1 in 3 bits */
	f.level -= 10;          /* -19 does not fit in 5 bits: implementation-defined, both wrap to 13 */
	f.rest++;
	gflags = f;
	bit_sum = f.ready + f.mode * 10 + f.level * 100 + (int)f.rest;
	union { struct flags f; unsigned int word; } view = { .f = f };
	flags_word = view.word;
	return sizeof(struct flags);
}
