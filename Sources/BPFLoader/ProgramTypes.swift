// The kernel's program and attach types (enum bpf_prog_type, enum bpf_attach_type in
// include/uapi/linux/bpf.h), with the names libbpf and bpftool print for them
// (libbpf_bpf_prog_type_str, libbpf_bpf_attach_type_str).

/// BPF_PROG_TYPE_*: what a program may do and what context it gets.
public enum BPFProgramType: UInt32, CaseIterable, Sendable {
    case socketFilter = 1, kprobe, schedCLS, schedACT, tracepoint, xdp, perfEvent, cgroupSKB, cgroupSock,
         lwtIn, lwtOut, lwtXmit, sockOps, skSKB, cgroupDevice, skMsg, rawTracepoint, cgroupSockAddr,
         lwtSeg6Local, lircMode2, skReuseport, flowDissector, cgroupSysctl, rawTracepointWritable,
         cgroupSockopt, tracing, structOps, ext, lsm, skLookup, syscall, netfilter

    public var name: String {
        switch self {
        case .socketFilter: "socket_filter"
        case .kprobe: "kprobe"
        case .schedCLS: "sched_cls"
        case .schedACT: "sched_act"
        case .tracepoint: "tracepoint"
        case .xdp: "xdp"
        case .perfEvent: "perf_event"
        case .cgroupSKB: "cgroup_skb"
        case .cgroupSock: "cgroup_sock"
        case .lwtIn: "lwt_in"
        case .lwtOut: "lwt_out"
        case .lwtXmit: "lwt_xmit"
        case .sockOps: "sock_ops"
        case .skSKB: "sk_skb"
        case .cgroupDevice: "cgroup_device"
        case .skMsg: "sk_msg"
        case .rawTracepoint: "raw_tracepoint"
        case .cgroupSockAddr: "cgroup_sock_addr"
        case .lwtSeg6Local: "lwt_seg6local"
        case .lircMode2: "lirc_mode2"
        case .skReuseport: "sk_reuseport"
        case .flowDissector: "flow_dissector"
        case .cgroupSysctl: "cgroup_sysctl"
        case .rawTracepointWritable: "raw_tracepoint_writable"
        case .cgroupSockopt: "cgroup_sockopt"
        case .tracing: "tracing"
        case .structOps: "struct_ops"
        case .ext: "ext"
        case .lsm: "lsm"
        case .skLookup: "sk_lookup"
        case .syscall: "syscall"
        case .netfilter: "netfilter"
        }
    }
}

/// BPF_*: where a program attaches, given to BPF_PROG_LOAD as `expected_attach_type` so that the
/// verifier checks the program against that attach point's context and rules.
public enum BPFAttachType: UInt32, CaseIterable, Sendable {
    case cgroupInetIngress = 0, cgroupInetEgress, cgroupInetSockCreate, cgroupSockOps, skSKBStreamParser,
         skSKBStreamVerdict, cgroupDevice, skMsgVerdict, cgroupInet4Bind, cgroupInet6Bind, cgroupInet4Connect,
         cgroupInet6Connect, cgroupInet4PostBind, cgroupInet6PostBind, cgroupUDP4Sendmsg, cgroupUDP6Sendmsg,
         lircMode2, flowDissector, cgroupSysctl, cgroupUDP4Recvmsg, cgroupUDP6Recvmsg, cgroupGetsockopt,
         cgroupSetsockopt, traceRawTP, traceFentry, traceFexit, modifyReturn, lsmMAC, traceIter,
         cgroupInet4Getpeername, cgroupInet6Getpeername, cgroupInet4Getsockname, cgroupInet6Getsockname,
         xdpDevmap, cgroupInetSockRelease, xdpCPUMap, skLookup, xdp, skSKBVerdict, skReuseportSelect,
         skReuseportSelectOrMigrate, perfEvent, traceKprobeMulti, lsmCgroup, structOps, netfilter,
         tcxIngress, tcxEgress, traceUprobeMulti, cgroupUnixConnect, cgroupUnixSendmsg, cgroupUnixRecvmsg,
         cgroupUnixGetpeername, cgroupUnixGetsockname, netkitPrimary, netkitPeer, traceKprobeSession

    public var name: String {
        switch self {
        case .cgroupInetIngress: "cgroup_inet_ingress"
        case .cgroupInetEgress: "cgroup_inet_egress"
        case .cgroupInetSockCreate: "cgroup_inet_sock_create"
        case .cgroupSockOps: "cgroup_sock_ops"
        case .skSKBStreamParser: "sk_skb_stream_parser"
        case .skSKBStreamVerdict: "sk_skb_stream_verdict"
        case .cgroupDevice: "cgroup_device"
        case .skMsgVerdict: "sk_msg_verdict"
        case .cgroupInet4Bind: "cgroup_inet4_bind"
        case .cgroupInet6Bind: "cgroup_inet6_bind"
        case .cgroupInet4Connect: "cgroup_inet4_connect"
        case .cgroupInet6Connect: "cgroup_inet6_connect"
        case .cgroupInet4PostBind: "cgroup_inet4_post_bind"
        case .cgroupInet6PostBind: "cgroup_inet6_post_bind"
        case .cgroupUDP4Sendmsg: "cgroup_udp4_sendmsg"
        case .cgroupUDP6Sendmsg: "cgroup_udp6_sendmsg"
        case .lircMode2: "lirc_mode2"
        case .flowDissector: "flow_dissector"
        case .cgroupSysctl: "cgroup_sysctl"
        case .cgroupUDP4Recvmsg: "cgroup_udp4_recvmsg"
        case .cgroupUDP6Recvmsg: "cgroup_udp6_recvmsg"
        case .cgroupGetsockopt: "cgroup_getsockopt"
        case .cgroupSetsockopt: "cgroup_setsockopt"
        case .traceRawTP: "trace_raw_tp"
        case .traceFentry: "trace_fentry"
        case .traceFexit: "trace_fexit"
        case .modifyReturn: "modify_return"
        case .lsmMAC: "lsm_mac"
        case .traceIter: "trace_iter"
        case .cgroupInet4Getpeername: "cgroup_inet4_getpeername"
        case .cgroupInet6Getpeername: "cgroup_inet6_getpeername"
        case .cgroupInet4Getsockname: "cgroup_inet4_getsockname"
        case .cgroupInet6Getsockname: "cgroup_inet6_getsockname"
        case .xdpDevmap: "xdp_devmap"
        case .cgroupInetSockRelease: "cgroup_inet_sock_release"
        case .xdpCPUMap: "xdp_cpumap"
        case .skLookup: "sk_lookup"
        case .xdp: "xdp"
        case .skSKBVerdict: "sk_skb_verdict"
        case .skReuseportSelect: "sk_reuseport_select"
        case .skReuseportSelectOrMigrate: "sk_reuseport_select_or_migrate"
        case .perfEvent: "perf_event"
        case .traceKprobeMulti: "trace_kprobe_multi"
        case .lsmCgroup: "lsm_cgroup"
        case .structOps: "struct_ops"
        case .netfilter: "netfilter"
        case .tcxIngress: "tcx_ingress"
        case .tcxEgress: "tcx_egress"
        case .traceUprobeMulti: "trace_uprobe_multi"
        case .cgroupUnixConnect: "cgroup_unix_connect"
        case .cgroupUnixSendmsg: "cgroup_unix_sendmsg"
        case .cgroupUnixRecvmsg: "cgroup_unix_recvmsg"
        case .cgroupUnixGetpeername: "cgroup_unix_getpeername"
        case .cgroupUnixGetsockname: "cgroup_unix_getsockname"
        case .netkitPrimary: "netkit_primary"
        case .netkitPeer: "netkit_peer"
        case .traceKprobeSession: "trace_kprobe_session"
        }
    }
}
