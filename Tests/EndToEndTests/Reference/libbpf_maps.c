// libbpf_maps.c: a program written against libbpf's own header (<bpf/bpf_helpers.h>): BTF-defined
// hash and array maps, helper calls through bpf_helper_defs.h's function pointers. Helpers do not
// exist natively, so clang-19's object is the reference here.
// RUN: --prog fill --prog query --get hits --get misses --get total
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} squares SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, long);
} counters SEC(".maps");

long hits, misses, total;

SEC("syscall") int fill(void *ctx)
{
	/* The key is a copy: a loop counter whose address goes to a helper loses the verifier's
	 * tracking of its value, and the loop could no longer be proven to end. */
	for (__u32 k = 0; k < 40; k += 3) {
		__u32 key = k;
		__u64 v = (__u64)k * k + 1;
		if (bpf_map_update_elem(&squares, &key, &v, BPF_ANY))
			return -1;
	}
	return 0;
}

SEC("syscall") int query(void *ctx)
{
	for (__u32 k = 0; k < 50; k++) {
		__u32 key = k;
		__u64 *v = bpf_map_lookup_elem(&squares, &key);
		__u32 slot = k & 7;
		long *c = bpf_map_lookup_elem(&counters, &slot);

		if (!c)
			return -2;
		if (v) {
			hits++;
			total += *v;
			*c += 1;
		} else {
			misses++;
		}
	}
	__u32 slot = 3;
	long *c = bpf_map_lookup_elem(&counters, &slot);
	return c ? (int)*c : -3;
}
