// strings.c: string literals (indexing a literal directly, a pointer to a literal,
// sizeof a literal including its NUL), char arrays initialized from strings (exact size,
// larger than the string, size taken from the string), escape sequences, a bounded
// length loop, comparison and copy loops over char arrays, a string in a struct.
// RUN: --prog literal --prog arrays --prog ordering --prog copy_upper --get lengths --get checksum --get cmp_result --get copied_len --get name_sum
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

char greeting[] = "hello, world";          /* 13 bytes with the NUL */
char padded[16] = "abc";                   /* the rest are zero */
char exact[3] = "xyz";                     /* no room for the NUL, which is dropped */
const char motto[] = "bpf";               /* BPF globals cannot hold addresses: no pointer initializers */
struct named { char name[8]; int id; } entry = { "entry", 7 };

unsigned long lengths;
unsigned int checksum;
int cmp_result;
int copied_len;
int name_sum;

static int length(const char *s, int max)
{
	int n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

static int compare(const char *a, const char *b, int max)
{
	for (int i = 0; i < max; i++) {
		unsigned char ca = a[i], cb = b[i];
		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (!ca)
			break;
	}
	return 0;
}

SEC("syscall") int literal(void *ctx)
{
	const char *s = "swift\tbpf\n";
	char c = "0123456789"[7];
	lengths = sizeof("abc") + sizeof(greeting) * 10 + sizeof(padded) * 1000 + sizeof(exact) * 100000;
	return s[5] + s[9] * 100 + c * 10000 + "\x41\102"[1] * 1000000 + (int)sizeof("\0\0") * 100000000;
}

SEC("syscall") int arrays(void *ctx)
{
	unsigned int h = 5381;
	for (int i = 0; i < 16; i++)
		h = h * 33 + (unsigned char)padded[i];
	for (int i = 0; i < 20 && greeting[i]; i++)
		h = h * 33 ^ (unsigned char)greeting[i];
	checksum = h + exact[2];
	return length(greeting, sizeof(greeting)) + length(padded, 16) * 100 + length(motto, 8) * 10000;
}

SEC("syscall") int ordering(void *ctx)
{
	char local[] = "hello, there";
	cmp_result = compare(greeting, local, 20) * 100 + compare(local, greeting, 20) * 10 +
		     compare(padded, "abc", 16);
	return compare("abd", "abc", 4) + compare("", "a", 2) * 10 + compare(motto, "bpf", 4) * 100;
}

SEC("syscall") int copy_upper(void *ctx)
{
	char buf[24];
	int n = 0;
	for (int i = 0; i < 12 && greeting[i]; i++)
		buf[n++] = greeting[i] >= 'a' && greeting[i] <= 'z' ? greeting[i] - 'a' + 'A' : greeting[i];
	buf[n] = 0;
	for (int i = 0; i < 8 && buf[i]; i++)
		padded[i] = buf[i];
	copied_len = length(buf, 24) + length(padded, 16) * 100;
	for (int i = 0; i < 8; i++)
		name_sum += entry.name[i] * (i + 1);
	return buf[0] + buf[n - 1] * 1000;
}
