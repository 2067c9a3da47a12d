// atomic_maps.c: atomic read-modify-writes on map values found by bpf_map_lookup_elem (array and
// hash), with and without the old value used, and a compare-and-swap, checked against clang-19's
// object: helpers do not exist natively.
// RUN: --prog bump --prog bump --prog swap --get seen --get swapped
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} words SEC(".maps");

long seen, swapped;

SEC("syscall") int bump(void *ctx)
{
	__u32 key = 2, wkey = 7, initial = 100;
	__u64 *slot = bpf_map_lookup_elem(&slots, &key);
	if (!slot)
		return -1;
	__sync_fetch_and_add(slot, 3);
	seen += __sync_fetch_and_add(slot, 10);
	if (!bpf_map_lookup_elem(&words, &wkey))
		bpf_map_update_elem(&words, &wkey, &initial, BPF_NOEXIST);
	__u32 *word = bpf_map_lookup_elem(&words, &wkey);
	if (!word)
		return -2;
	__sync_fetch_and_or(word, 0x10);
	return (int)__sync_add_and_fetch(word, 1);
}

SEC("syscall") int swap(void *ctx)
{
	__u32 key = 2;
	__u64 *slot = bpf_map_lookup_elem(&slots, &key);
	if (!slot)
		return -1;
	swapped = __sync_val_compare_and_swap(slot, 26, 1000);
	return (int)*slot;
}
