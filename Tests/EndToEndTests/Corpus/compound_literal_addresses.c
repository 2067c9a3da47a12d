// compound_literal_addresses.c: a compound literal is an object even when it is a scalar, so its
// address can be taken, as libbpf programs do for map keys (`bpf_map_lookup_elem(&m, &(__u32){0})`),
// and it can be written through that address.
// RUN: --prog addresses --get seen
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

long seen;

static __attribute__((noinline)) int read_through(const unsigned int *key)
{
	seen += *key;
	return (int)*key * 2;
}

SEC("syscall") int addresses(void *ctx)
{
	int *counter = &(int){3};
	int sum;

	sum = read_through(&(unsigned int){7});
	*counter += 4;
	sum += *counter + (int){5};
	sum += read_through(&(unsigned int){(unsigned int)sum});
	return sum;
}
