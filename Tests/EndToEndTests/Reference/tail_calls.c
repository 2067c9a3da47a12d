// tail_calls.c: a prog_array and an array of maps filled from their `.maps` initializers
// (`.values = { [i] = &target }`), as libbpf fills them from `.rel.maps`. The caller returns
// XDP_DROP (1) unless the tail call into slot 1 happens, where the callee returns XDP_TX (3);
// slot 0 is empty, so the first tail call falls through. The map-in-map's slots are the maps
// named in its initializer: a value stored through the outer map is read directly from the inner.
// RUN: --prog caller --prog miss --prog through_outer --get callee_runs --get misses --get direct --get indirect
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

int callee_runs, misses;
long direct, indirect;

SEC("xdp") int callee(struct xdp_md *ctx)
{
	callee_runs++;
	return XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int(void *));
} jump_table SEC(".maps") = {
	.values = { [1] = (void *)&callee },
};

SEC("xdp") int caller(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jump_table, 1);
	return XDP_DROP;
}

SEC("xdp") int miss(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jump_table, 0);
	misses++;
	return XDP_PASS;
}

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, long);
} first SEC(".maps"), second SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { &first, &second },
};

SEC("syscall") int through_outer(void *ctx)
{
	__u32 slot = 1, key = 2;
	void *inner = bpf_map_lookup_elem(&outer, &slot);
	if (!inner)
		return 1;
	long value = 41;
	if (bpf_map_update_elem(inner, &key, &value, BPF_ANY))
		return 2;
	long *seen = bpf_map_lookup_elem(&second, &key);
	long *again = bpf_map_lookup_elem(inner, &key);
	if (!seen || !again)
		return 3;
	direct = *seen;
	indirect = *again + 1;
	return 0;
}
