// byte_order.c: __builtin_bswap16/32/64 (one BPF_END each) and libbpf's <bpf/bpf_endian.h>, whose
// macros on constants are constants: a global initializer, a case label, a folded expression.
// RUN: --prog swaps --prog constants --get swapped16 --get swapped32 --get swapped64 --get folded
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

volatile unsigned short in16 = 0xabcd;
volatile unsigned int in32 = 0x12345678;
volatile unsigned long in64 = 0x0102030405060708UL;
volatile short negative16 = -2;
unsigned short swapped16;
unsigned int swapped32;
unsigned long swapped64;
unsigned long folded;
unsigned short port = bpf_htons(8080);
unsigned int address = bpf_htonl(0x7f000001);

SEC("syscall") int swaps(void *ctx)
{
	swapped16 = __builtin_bswap16(in16) + bpf_ntohs(negative16);
	swapped32 = __builtin_bswap32(in32) ^ bpf_htonl(in16);
	swapped64 = bpf_be64_to_cpu(in64) + __builtin_bswap64(in32) + bpf_cpu_to_be64(negative16);
	/* The swap of a 16-bit value is 16 bits wide: nothing above it survives. */
	return (__builtin_bswap16(in32) >> 16) + (bpf_htons(in16) == 0xcdab);
}

SEC("syscall") int constants(void *ctx)
{
	int kind;

	switch (in16) {
	case bpf_htons(0xcdab):
		kind = 1;
		break;
	default:
		kind = 2;
		break;
	}
	folded = bpf_htons(0x1234) + bpf_ntohl(0x01020304) + bpf_cpu_to_be64(1) + port + address;
	return kind + bpf_ntohs(port) + (bpf_ntohl(address) >> 24);
}
