// wide_strings.c: wide string literals (L"...", u"...", U"...") and u8"...", as globals, as
// locals initialized from them, read through pointers to the literal and indexed directly;
// escapes and characters beyond ASCII (UTF-16 surrogate pairs for u"", code points for U"").
// RUN: --prog wide_pointer --prog wide_global --prog utf16 --prog utf32_local --prog indexed --prog utf8 --get wide_len
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

const int wide_table[] = L"wide";
unsigned short utf16_global[] = u"h\u00e9\U0001F600!";
unsigned long wide_len = sizeof(L"wide") + sizeof(u"ab") * 100 + sizeof(U"\U0001F600") * 10000;

SEC("syscall") int wide_pointer(void *ctx)
{
	const int *w = (const int *)L"wide";
	return w[1] * 1000 + w[3];
}

SEC("syscall") int wide_global(void *ctx)
{
	int s = 0;
	for (int i = 0; i < 5; i++)
		s = s * 3 + wide_table[i];
	return s;
}

SEC("syscall") int utf16(void *ctx)
{
	const unsigned short *p = (const unsigned short *)u"w\u00e9\x41";
	/* 0xd83d 0xde00 is U+1F600 as a surrogate pair */
	return p[1] + (utf16_global[2] == 0xd83d) * 100000 + (utf16_global[3] == 0xde00) * 200000 + utf16_global[4];
}

SEC("syscall") int utf32_local(void *ctx)
{
	unsigned int w[] = U"a\U0001F600\x7fz";
	return (w[1] == 0x1F600) * 1000 + w[2] + w[3] + sizeof(w);
}

SEC("syscall") int indexed(void *ctx)
{
	return L"xyz"[2] + u"\u263A"[0] - 0x2600;
}

SEC("syscall") int utf8(void *ctx)
{
	const unsigned char *p = (const unsigned char *)u8"\u00e9t\u00e9";
	return p[0] * 10000 + p[1] * 100 + p[2] + sizeof(u8"\u00e9t\u00e9");
}
