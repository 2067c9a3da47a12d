// packet_programs.c: program types BPF_PROG_TEST_RUN runs on a packet. Each gets the zeroed
// 64-byte packet both loaders give and returns what it sees of it: XDP the bytes between data and
// data_end, tc programs the skb's length (the whole frame), a socket filter the length after the
// Ethernet header the kernel pulls for it, a flow dissector its verdict.
// RUN: --prog xdp_length --prog tc_length --prog classifier_length --prog action_length --prog socket_length --prog cgroup_verdict --prog flow_verdict --prog lwt_verdict --get xdp_bytes
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

long xdp_bytes;

SEC("xdp") int xdp_length(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	xdp_bytes = end - data;
	return end - data > 60 ? XDP_PASS : XDP_DROP;
}

SEC("tc") int tc_length(struct __sk_buff *skb) { return skb->len + 1000; }
SEC("classifier") int classifier_length(struct __sk_buff *skb) { return skb->len + 2000; }
SEC("action") int action_length(struct __sk_buff *skb) { return skb->len + 3000; }
SEC("socket") int socket_length(struct __sk_buff *skb) { return skb->len; }
SEC("cgroup_skb/ingress") int cgroup_verdict(struct __sk_buff *skb) { return skb->len > 0; }
SEC("flow_dissector") int flow_verdict(struct __sk_buff *skb) { return BPF_DROP; }
SEC("lwt_in") int lwt_verdict(struct __sk_buff *skb) { return BPF_OK; }
