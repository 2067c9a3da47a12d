// local_constants.c: locals initialized entirely by constants, which are stored as immediates,
// 8 bytes at a time where the array can be aligned for it: strings of every length around the
// 8-byte pieces (1, 7, 8, 9, 15, 31 and 64 bytes), a string shorter than its array (zeros after
// it), a table of shorts, nested arrays, a struct with padding and bit-fields, a packed struct,
// and the same initializer run twice after the array was overwritten.
// RUN: --prog strings --prog tables --prog records --prog again --get string_digest --get table_digest --get record_digest --get again_digest
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

unsigned long string_digest, table_digest, record_digest, again_digest;

static unsigned long digest(unsigned long h, const void *p, int n)
{
	const unsigned char *bytes = p;

	for (int i = 0; i < n && i < 128; i++)
		h = h * 33 + bytes[i];
	return h;
}

SEC("syscall") int strings(void *ctx)
{
	char one[] = "";
	char seven[] = "sixchr";
	char eight[] = "seven c";
	char nine[] = "eight ch";
	char fifteen[] = "fourteen chars";
	char thirty_one[] = "thirty bytes of text and a NUL";
	char sixty_four[64] = "a format string of sixty-four bytes, the tail is all zeros";
	char longer[20] = "ab";
	unsigned long h = 5381;

	h = digest(h, one, sizeof(one));
	h = digest(h, seven, sizeof(seven));
	h = digest(h, eight, sizeof(eight));
	h = digest(h, nine, sizeof(nine));
	h = digest(h, fifteen, sizeof(fifteen));
	h = digest(h, thirty_one, sizeof(thirty_one));
	h = digest(h, sixty_four, sizeof(sixty_four));
	h = digest(h, longer, sizeof(longer));
	string_digest = h;
	return sizeof(thirty_one) + sizeof(nine) * 100;
}

SEC("syscall") int tables(void *ctx)
{
	short shorts[5] = { -1, 2, -300, 4000, 0x7fff };
	unsigned int grid[2][3] = { { 1, 2, 3 }, { 0xdeadbeef } };
	unsigned char bytes[11] = { 1, [9] = 0xff, 7 };
	long wide[2] = { -5, 0x123456789abcdefL };

	table_digest = digest(digest(digest(digest(5381, shorts, sizeof(shorts)), grid, sizeof(grid)), bytes,
				     sizeof(bytes)), wide, sizeof(wide));
	return shorts[2] + (int)grid[1][0];
}

struct record {
	char tag[3];
	int id;
	unsigned flag : 1, level : 3, : 4, code : 9;
	long total;
};

struct __attribute__((packed)) header {
	char kind;
	unsigned int length;
	unsigned short port;
	char name[6];
};

SEC("syscall") int records(void *ctx)
{
	struct record r = { "ab", 7, 1, 5, 300, -2 };
	struct header h = { 'x', 0x01020304, 8080, "node" };
	struct record many[2] = { { .id = 1, .code = 511 }, { "z", 2 } };

	record_digest = digest(digest(digest(5381, r.tag, sizeof(r.tag)) + r.id * 7 + r.flag + r.level * 3 +
				      r.code * 11 + r.total, &h, sizeof(h)),
			       many[0].tag, sizeof(many[0].tag)) + many[0].code + many[1].id + many[1].tag[0];
	return h.length + h.port + h.name[3];
}

SEC("syscall") int again(void *ctx)
{
	unsigned long h = 5381;

	for (int round = 0; round < 2; round++) {
		char text[] = "rebuilt each round";

		h = digest(h, text, sizeof(text));
		for (int i = 0; i < (int)sizeof(text); i++)
			text[i] = 'z';
		h = digest(h, text, sizeof(text));
	}
	again_digest = h;
	return 0;
}
