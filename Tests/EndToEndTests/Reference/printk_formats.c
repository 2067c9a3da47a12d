// printk_formats.c: format strings as libbpf's bpf_helpers.h writes them. bpf_printk and
// BPF_SNPRINTF keep the format in a static const array inside a statement expression, a .rodata
// object of its own per use (two in one function are two objects); a local `char fmt[] = "..."`,
// as bpf_printk writes it without global data, is built on the stack. What the helpers return
// (bytes written) and a digest of what bpf_snprintf wrote show the formats arrived whole. A
// variadic int is read in its low 32 bits (%d), a long in all 64 (%ld): the bytes written for -5
// as both show each arrived as such.
// RUN: --prog formats --get printed_one --get printed_two --get written --get digest --get printed_local --get local_digest --get printed_negative
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

char out[64];
long printed_one, printed_two, written, printed_local, printed_negative;
int minus_five = -5;
unsigned long digest, local_digest;

static unsigned long hash(const char *s, int n)
{
	unsigned long h = 5381;

	for (int i = 0; i < n && i < 64; i++)
		h = h * 33 + (unsigned char)s[i];
	return h;
}

SEC("syscall")
int formats(void *ctx)
{
	char fmt[] = "a local format of 37 bytes: %d, %d\n";

	printed_one = bpf_printk("printk_formats: %d", 1);
	printed_two = bpf_printk("printk_formats: %d and %d", 2, 3);
	written = BPF_SNPRINTF(out, sizeof(out), "pid %d, %s and %x", 42, "name", 0xbeef);
	digest = hash(out, sizeof(out));
	printed_local = bpf_trace_printk(fmt, sizeof(fmt), 4, 5);
	local_digest = hash(fmt, sizeof(fmt));
	printed_negative = bpf_printk("printk_formats: %d %ld %d", minus_five, (long)minus_five, minus_five * 3);
	return 0;
}
