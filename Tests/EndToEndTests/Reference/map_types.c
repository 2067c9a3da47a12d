// map_types.c: the maps tracing and networking programs count into, each created as libbpf
// creates it (key and value types from BTF where the map type takes them, a ring buffer's size
// rounded up to a power-of-two number of pages, a perf event array with one entry per possible
// CPU, local storage with BPF_F_NO_PREALLOC) and used through its helpers.
// RUN: --prog per_cpu --prog lru --prog bloom --prog ring --prog storage --get per_cpu_sum --get lru_sum --get bloom_hits --get ring_bytes --get storage_value
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, long); } per_cpu_array SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(max_entries, 16); __type(key, __u32); __type(value, long); } per_cpu_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, long); } lru_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, long); } lru_per_cpu SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_BLOOM_FILTER); __uint(max_entries, 64); __type(value, __u32); __uint(map_extra, 3); } bloom_filter SEC(".maps");
/* Not a power-of-two number of pages: libbpf rounds it up. */
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 5000); } events SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, sizeof(int)); __uint(value_size, sizeof(int)); } perf_events SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_STACK_TRACE); __uint(max_entries, 16); __uint(key_size, sizeof(__u32)); __uint(value_size, 8 * sizeof(__u64)); } stacks SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_TASK_STORAGE); __uint(map_flags, BPF_F_NO_PREALLOC); __type(key, int); __type(value, long); } task_storage SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_INODE_STORAGE); __uint(map_flags, BPF_F_NO_PREALLOC); __type(key, int); __type(value, long); } inode_storage SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_SK_STORAGE); __uint(map_flags, BPF_F_NO_PREALLOC); __type(key, int); __type(value, long); } sk_storage SEC(".maps");
/* BPF_MAP_TYPE_CGRP_STORAGE (32) is newer than the build machine's 6.1 UAPI header. */
struct { __uint(type, 32); __uint(map_flags, BPF_F_NO_PREALLOC); __type(key, int); __type(value, long); } cgroup_storage SEC(".maps");

long per_cpu_sum, lru_sum, bloom_hits, ring_bytes, storage_value;

/* Keys passed to helpers are copies of the loop counters: a counter whose address a helper gets
 * loses the verifier's tracking of its value, and the loop could not be proven to end. */
SEC("syscall") int per_cpu(void *ctx)
{
	for (__u32 i = 0; i < 4; i++) {
		__u32 key = i;
		long value = i * 10;
		bpf_map_update_elem(&per_cpu_array, &key, &value, BPF_ANY);
		value += 1;
		bpf_map_update_elem(&per_cpu_hash, &key, &value, BPF_ANY);
	}
	for (__u32 i = 0; i < 4; i++) {
		__u32 key = i;
		long *a = bpf_map_lookup_elem(&per_cpu_array, &key);
		long *h = bpf_map_lookup_elem(&per_cpu_hash, &key);
		if (a && h)
			per_cpu_sum += *a + *h;
	}
	return 0;
}

SEC("syscall") int lru(void *ctx)
{
	/* Twelve keys into eight entries: the least recently used go. */
	for (__u32 i = 0; i < 12; i++) {
		__u32 key = i;
		long value = i;
		bpf_map_update_elem(&lru_hash, &key, &value, BPF_ANY);
		bpf_map_update_elem(&lru_per_cpu, &key, &value, BPF_ANY);
	}
	__u32 newest = 11;
	long *value = bpf_map_lookup_elem(&lru_hash, &newest);
	long *per_cpu_value = bpf_map_lookup_elem(&lru_per_cpu, &newest);
	lru_sum = (value ? *value : -100) + (per_cpu_value ? *per_cpu_value : -1000);
	return 0;
}

/* Sleepable programs (syscall) cannot use a bloom filter; a tc program can, on a test packet. */
SEC("tc") int bloom(struct __sk_buff *skb)
{
	for (__u32 i = 1; i <= 8; i++) {
		__u32 value = i;
		bpf_map_push_elem(&bloom_filter, &value, BPF_ANY);
	}
	for (__u32 i = 1; i <= 8; i++) {
		__u32 value = i;
		bloom_hits += bpf_map_peek_elem(&bloom_filter, &value) == 0;
	}
	return 0;
}

SEC("syscall") int ring(void *ctx)
{
	long record[3] = { 1, 2, 3 };
	if (bpf_ringbuf_output(&events, record, sizeof(record), 0))
		return 1;
	/* A record is the data and an 8-byte header. */
	ring_bytes = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) >= 5000 ? 0 : 2;
}

SEC("syscall") int storage(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	long *value = bpf_task_storage_get(&task_storage, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!value)
		return 1;
	*value += 7;
	storage_value = *value;
	return 0;
}

SEC("kprobe/do_unlinkat") int on_unlink(struct pt_regs *ctx)
{
	long id = bpf_get_stackid(ctx, &stacks, 0);
	bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &id, sizeof(id));
	return 0;
}
