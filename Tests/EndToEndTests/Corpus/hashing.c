// hashing.c: a real program: CRC-32 (bitwise, reflected polynomial), FNV-1a 32 and 64,
// a popcount and a count-leading-zeros written with shifts and masks, over a string
// and a byte buffer built at run time; unsigned arithmetic, shifts, xor, bounded loops.
// RUN: --prog crc --prog fnv --prog bits --get crc_value --get fnv32 --get fnv64 --get ones --get leading
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;

const char message[] = "The quick brown fox jumps over the lazy dog";
u32 crc_value;
u32 fnv32;
u64 fnv64;
int ones;
int leading;
u64 word = 0x00f0000f12345678ull;

static u32 crc32(const u8 *data, int n)
{
	u32 crc = 0xffffffffu;
	for (int i = 0; i < n && i < 64; i++) {
		crc ^= data[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

SEC("syscall") int crc(void *ctx)
{
	crc_value = crc32((const u8 *)message, sizeof(message) - 1);
	u8 buf[16];
	for (int i = 0; i < 16; i++)
		buf[i] = (u8)(i * 37 + 11);
	return (int)(crc32(buf, 16) >> 1);
}

SEC("syscall") int fnv(void *ctx)
{
	u32 h32 = 2166136261u;
	u64 h64 = 14695981039346656037ull;
	for (int i = 0; i < (int)sizeof(message) - 1; i++) {
		h32 = (h32 ^ (u8)message[i]) * 16777619u;
		h64 = (h64 ^ (u8)message[i]) * 1099511628211ull;
	}
	fnv32 = h32;
	fnv64 = h64;
	return (int)(h32 ^ (u32)(h64 >> 32));
}

static int popcount(u64 v)
{
	int n = 0;
	for (int i = 0; i < 64; i++)
		n += (v >> i) & 1;
	return n;
}

static int clz(u64 v)
{
	if (!v)
		return 64;
	int n = 0;
	if (!(v >> 32)) { n += 32; v <<= 32; }
	if (!(v >> 48)) { n += 16; v <<= 16; }
	if (!(v >> 56)) { n += 8; v <<= 8; }
	if (!(v >> 60)) { n += 4; v <<= 4; }
	if (!(v >> 62)) { n += 2; v <<= 2; }
	if (!(v >> 63)) { n += 1; }
	return n;
}

SEC("syscall") int bits(void *ctx)
{
	ones = popcount(word) * 100 + popcount(~word) + popcount(0);
	leading = clz(word) * 10000 + clz(1) * 100 + clz(0);
	return clz(word >> 7) + popcount(word & -word);
}
