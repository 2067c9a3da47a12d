// Program sections as libbpf reads them (its section_defs table): the section name of an entry
// program gives its program type, the expected attach type, load flags (sleepable `.s` variants,
// `xdp.frags`), and what it attaches to. The compiler passes SEC() through unchanged; this is
// where a name gets its meaning.

/// What a program attaches to, as far as the loader must know it before the program loads.
enum BTFAttachTarget: Hashable {
    /// A FUNC of vmlinux BTF (fentry, fexit, fmod_ret: the function; lsm: `bpf_lsm_HOOK`;
    /// iter: `bpf_iter_NAME`), whose id becomes `attach_btf_id`. Empty when the section names
    /// no target (`SEC("fentry")`), which cannot load.
    case function(String)
    /// The TYPEDEF `btf_trace_NAME` the kernel declares for each tracepoint (tp_btf); empty as
    /// above.
    case typedef(String)
    /// A struct_ops program's member of a kernel struct: the struct's id becomes `attach_btf_id`,
    /// the member's index `expected_attach_type`, both found through the `.struct_ops` map that
    /// holds the program.
    case structOpsMember
    /// A function of another loaded BPF program (freplace), which needs that program's fd.
    case program(String)
}

/// An entry program's section, read as libbpf reads it.
struct ProgramSection: Hashable {
    var name: String
    var type: BPFProgramType
    /// nil where libbpf passes 0 and the kernel expects nothing.
    var expectedAttachType: BPFAttachType?
    var isSleepable = false
    /// `xdp.frags`: the program handles multi-buffer packets (BPF_F_XDP_HAS_FRAGS).
    var hasXDPFrags = false
    /// The part of the name after the kind: `do_unlinkat` of `kprobe/do_unlinkat`; for
    /// ksyscall, the kernel function the probe goes on (the architecture's syscall wrapper).
    var target: String
    /// What `attach_btf_id` (and for struct_ops the attach type) is found from; nil for the
    /// program types that attach by other means after loading.
    var btfTarget: BTFAttachTarget?

    /// BPF_F_SLEEPABLE and BPF_F_XDP_HAS_FRAGS.
    var flags: UInt32 {
        (isSleepable ? 1 << 4 : 0) | (hasXDPFrags ? 1 << 5 : 0)
    }

    /// The section `section` as the first rule of the table that matches it reads it; nil for a
    /// name libbpf does not know.
    init?(section: String) {
        guard let rule = sectionRules.first(where: { $0.matches(section) }) else { return nil }
        // Only a `kind+` rule leaves the rest of the name to the program: `tc/ingress` or
        // `cgroup/connect4` is a kind of its own.
        let target = rule.pattern.hasSuffix("+") ? String(section.drop { $0 != "/" }.dropFirst()) : ""
        self.name = section
        self.type = rule.type
        self.expectedAttachType = rule.attachType
        self.isSleepable = rule.options.contains(.sleepable)
        self.hasXDPFrags = rule.options.contains(.xdpFrags)
        self.target = target
        switch rule.attach {
        case .none:
            btfTarget = nil
        case .syscallWrapper:
            // libbpf probes the syscall's entry point: the pt_regs wrapper where the kernel has
            // one, else the plain sys_NAME.
            if let prefix = syscallWrapperPrefix, hasSyscallWrapper() {
                self.target = "__\(prefix)_sys_\(target)"
            } else {
                self.target = "sys_\(target)"
            }
            btfTarget = nil
        case .btfFunction(let prefix):
            self.target = prefix + target
            btfTarget = .function(target.isEmpty ? "" : prefix + target)
        case .btfTypedef(let prefix):
            self.target = prefix + target
            btfTarget = .typedef(target.isEmpty ? "" : prefix + target)
        case .structOps:
            btfTarget = .structOpsMember
        case .program:
            btfTarget = .program(target)
        }
    }

    /// BPF_PROG_TEST_RUN's input for this program, or why the kernel cannot run it. Packet
    /// programs get a zeroed 64-byte packet (room for Ethernet, IP and TCP headers, which the
    /// kernel's skb and XDP test runs require at least the first of).
    var testRun: ProgramTestRun {
        switch type {
        case .syscall: return .context([])
        case .rawTracepoint: return .context([UInt8](repeating: 0, count: 12 * 8))
        case .xdp, .schedCLS, .schedACT, .socketFilter, .cgroupSKB, .flowDissector, .lwtIn, .lwtOut, .lwtXmit:
            return .packet([UInt8](repeating: 0, count: ProgramSection.testPacketSize))
        case .rawTracepointWritable:
            return .unsupported(reason: "the kernel has no test run for raw_tp.w programs (BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE); they run when their tracepoint fires")
        case .tracing where expectedAttachType == .traceRawTP:
            return .unsupported(reason: "a tp_btf program runs only when tracepoint '\(name.drop { $0 != "/" }.dropFirst())' fires")
        case .tracing, .lsm, .ext, .structOps:
            return .unsupported(reason: "a \(type.name) program runs only once attached to '\(target)', which swiftbpf does not do")
        case .kprobe, .tracepoint, .perfEvent:
            return .unsupported(reason: "a \(type.name) program runs only when its event fires; BPF_PROG_TEST_RUN does not run \(type.name) programs")
        case .cgroupSock, .sockOps, .skSKB, .cgroupDevice, .skMsg, .cgroupSockAddr, .lwtSeg6Local, .lircMode2,
             .skReuseport, .cgroupSysctl, .cgroupSockopt, .skLookup, .netfilter:
            return .unsupported(reason: "swiftbpf test-runs syscall, raw_tp, and packet programs (xdp, tc, socket, cgroup_skb, lwt, flow_dissector), not \(type.name) programs")
        }
    }

    static let testPacketSize = 64
}

/// How BPF_PROG_TEST_RUN runs a program.
enum ProgramTestRun {
    /// `ctx_in`: a syscall program's argument block, a raw tracepoint's arguments.
    case context([UInt8])
    /// `data_in`: the packet an skb or XDP program sees.
    case packet([UInt8])
    case unsupported(reason: String)
}

/// One line of the section table. `pattern` is written as libbpf writes it: `kprobe+` matches
/// `kprobe` and `kprobe/ANYTHING`, anything else only itself.
private struct SectionRule {
    enum Attach {
        case none
        case syscallWrapper
        /// `attach_btf_id` of the FUNC named prefix + target.
        case btfFunction(prefix: String)
        case btfTypedef(prefix: String)
        case structOps
        case program
    }

    enum Option {
        case sleepable, xdpFrags
    }

    var pattern: String
    var type: BPFProgramType
    var attachType: BPFAttachType?
    var attach: Attach = .none
    var options: Set<Option> = []

    init(_ pattern: String, _ type: BPFProgramType, _ attachType: BPFAttachType? = nil, _ attach: Attach = .none,
         _ options: Set<Option> = []) {
        self.pattern = pattern
        self.type = type
        self.attachType = attachType
        self.attach = attach
        self.options = options
    }

    func matches(_ section: String) -> Bool {
        guard pattern.hasSuffix("+") else { return section == pattern }
        let kind = pattern.dropLast()
        guard section.hasPrefix(kind) else { return false }
        let rest = section.dropFirst(kind.count)
        return rest.isEmpty || rest.first == "/"
    }
}

/// libbpf's order matters where one name starts another: `sk_reuseport/migrate` before
/// `sk_reuseport`, `tc/ingress` before `tc`, `xdp.frags/devmap` before `xdp.frags`.
private let sectionRules: [SectionRule] = [
    SectionRule("socket", .socketFilter),
    SectionRule("sk_reuseport/migrate", .skReuseport, .skReuseportSelectOrMigrate),
    SectionRule("sk_reuseport", .skReuseport, .skReuseportSelect),
    SectionRule("kprobe+", .kprobe),
    SectionRule("uprobe+", .kprobe),
    SectionRule("uprobe.s+", .kprobe, nil, .none, [.sleepable]),
    SectionRule("kretprobe+", .kprobe),
    SectionRule("uretprobe+", .kprobe),
    SectionRule("uretprobe.s+", .kprobe, nil, .none, [.sleepable]),
    SectionRule("kprobe.multi+", .kprobe, .traceKprobeMulti),
    SectionRule("kretprobe.multi+", .kprobe, .traceKprobeMulti),
    SectionRule("kprobe.session+", .kprobe, .traceKprobeSession),
    SectionRule("uprobe.multi+", .kprobe, .traceUprobeMulti),
    SectionRule("uretprobe.multi+", .kprobe, .traceUprobeMulti),
    SectionRule("uprobe.multi.s+", .kprobe, .traceUprobeMulti, .none, [.sleepable]),
    SectionRule("uretprobe.multi.s+", .kprobe, .traceUprobeMulti, .none, [.sleepable]),
    SectionRule("ksyscall+", .kprobe, nil, .syscallWrapper),
    SectionRule("kretsyscall+", .kprobe, nil, .syscallWrapper),
    SectionRule("usdt+", .kprobe),
    SectionRule("usdt.s+", .kprobe, nil, .none, [.sleepable]),
    SectionRule("tc/ingress", .schedCLS, .tcxIngress),
    SectionRule("tc/egress", .schedCLS, .tcxEgress),
    SectionRule("tcx/ingress", .schedCLS, .tcxIngress),
    SectionRule("tcx/egress", .schedCLS, .tcxEgress),
    SectionRule("tc", .schedCLS),
    SectionRule("classifier", .schedCLS),
    SectionRule("action", .schedACT),
    SectionRule("netkit/primary", .schedCLS, .netkitPrimary),
    SectionRule("netkit/peer", .schedCLS, .netkitPeer),
    SectionRule("tracepoint+", .tracepoint),
    SectionRule("tp+", .tracepoint),
    SectionRule("raw_tracepoint+", .rawTracepoint),
    SectionRule("raw_tp+", .rawTracepoint),
    SectionRule("raw_tracepoint.w+", .rawTracepointWritable),
    SectionRule("raw_tp.w+", .rawTracepointWritable),
    SectionRule("tp_btf+", .tracing, .traceRawTP, .btfTypedef(prefix: "btf_trace_")),
    SectionRule("fentry+", .tracing, .traceFentry, .btfFunction(prefix: "")),
    SectionRule("fmod_ret+", .tracing, .modifyReturn, .btfFunction(prefix: "")),
    SectionRule("fexit+", .tracing, .traceFexit, .btfFunction(prefix: "")),
    SectionRule("fentry.s+", .tracing, .traceFentry, .btfFunction(prefix: ""), [.sleepable]),
    SectionRule("fmod_ret.s+", .tracing, .modifyReturn, .btfFunction(prefix: ""), [.sleepable]),
    SectionRule("fexit.s+", .tracing, .traceFexit, .btfFunction(prefix: ""), [.sleepable]),
    SectionRule("freplace+", .ext, nil, .program),
    SectionRule("lsm+", .lsm, .lsmMAC, .btfFunction(prefix: "bpf_lsm_")),
    SectionRule("lsm.s+", .lsm, .lsmMAC, .btfFunction(prefix: "bpf_lsm_"), [.sleepable]),
    SectionRule("lsm_cgroup+", .lsm, .lsmCgroup, .btfFunction(prefix: "bpf_lsm_")),
    SectionRule("iter+", .tracing, .traceIter, .btfFunction(prefix: "bpf_iter_")),
    SectionRule("iter.s+", .tracing, .traceIter, .btfFunction(prefix: "bpf_iter_"), [.sleepable]),
    SectionRule("syscall", .syscall, nil, .none, [.sleepable]),
    SectionRule("xdp.frags/devmap", .xdp, .xdpDevmap, .none, [.xdpFrags]),
    SectionRule("xdp/devmap", .xdp, .xdpDevmap),
    SectionRule("xdp.frags/cpumap", .xdp, .xdpCPUMap, .none, [.xdpFrags]),
    SectionRule("xdp/cpumap", .xdp, .xdpCPUMap),
    SectionRule("xdp.frags", .xdp, .xdp, .none, [.xdpFrags]),
    SectionRule("xdp", .xdp, .xdp),
    SectionRule("perf_event", .perfEvent),
    SectionRule("lwt_in", .lwtIn),
    SectionRule("lwt_out", .lwtOut),
    SectionRule("lwt_xmit", .lwtXmit),
    SectionRule("lwt_seg6local", .lwtSeg6Local),
    SectionRule("sockops", .sockOps, .cgroupSockOps),
    SectionRule("sk_skb/stream_parser", .skSKB, .skSKBStreamParser),
    SectionRule("sk_skb/stream_verdict", .skSKB, .skSKBStreamVerdict),
    SectionRule("sk_skb/verdict", .skSKB, .skSKBVerdict),
    SectionRule("sk_skb", .skSKB),
    SectionRule("sk_msg", .skMsg, .skMsgVerdict),
    SectionRule("lirc_mode2", .lircMode2, .lircMode2),
    SectionRule("flow_dissector", .flowDissector, .flowDissector),
    SectionRule("cgroup_skb/ingress", .cgroupSKB, .cgroupInetIngress),
    SectionRule("cgroup_skb/egress", .cgroupSKB, .cgroupInetEgress),
    SectionRule("cgroup/skb", .cgroupSKB),
    SectionRule("cgroup/sock_create", .cgroupSock, .cgroupInetSockCreate),
    SectionRule("cgroup/sock_release", .cgroupSock, .cgroupInetSockRelease),
    SectionRule("cgroup/sock", .cgroupSock, .cgroupInetSockCreate),
    SectionRule("cgroup/post_bind4", .cgroupSock, .cgroupInet4PostBind),
    SectionRule("cgroup/post_bind6", .cgroupSock, .cgroupInet6PostBind),
    SectionRule("cgroup/bind4", .cgroupSockAddr, .cgroupInet4Bind),
    SectionRule("cgroup/bind6", .cgroupSockAddr, .cgroupInet6Bind),
    SectionRule("cgroup/connect4", .cgroupSockAddr, .cgroupInet4Connect),
    SectionRule("cgroup/connect6", .cgroupSockAddr, .cgroupInet6Connect),
    SectionRule("cgroup/connect_unix", .cgroupSockAddr, .cgroupUnixConnect),
    SectionRule("cgroup/sendmsg4", .cgroupSockAddr, .cgroupUDP4Sendmsg),
    SectionRule("cgroup/sendmsg6", .cgroupSockAddr, .cgroupUDP6Sendmsg),
    SectionRule("cgroup/sendmsg_unix", .cgroupSockAddr, .cgroupUnixSendmsg),
    SectionRule("cgroup/recvmsg4", .cgroupSockAddr, .cgroupUDP4Recvmsg),
    SectionRule("cgroup/recvmsg6", .cgroupSockAddr, .cgroupUDP6Recvmsg),
    SectionRule("cgroup/recvmsg_unix", .cgroupSockAddr, .cgroupUnixRecvmsg),
    SectionRule("cgroup/getpeername4", .cgroupSockAddr, .cgroupInet4Getpeername),
    SectionRule("cgroup/getpeername6", .cgroupSockAddr, .cgroupInet6Getpeername),
    SectionRule("cgroup/getpeername_unix", .cgroupSockAddr, .cgroupUnixGetpeername),
    SectionRule("cgroup/getsockname4", .cgroupSockAddr, .cgroupInet4Getsockname),
    SectionRule("cgroup/getsockname6", .cgroupSockAddr, .cgroupInet6Getsockname),
    SectionRule("cgroup/getsockname_unix", .cgroupSockAddr, .cgroupUnixGetsockname),
    SectionRule("cgroup/sysctl", .cgroupSysctl, .cgroupSysctl),
    SectionRule("cgroup/getsockopt", .cgroupSockopt, .cgroupGetsockopt),
    SectionRule("cgroup/setsockopt", .cgroupSockopt, .cgroupSetsockopt),
    SectionRule("cgroup/dev", .cgroupDevice, .cgroupDevice),
    SectionRule("struct_ops+", .structOps, nil, .structOps),
    SectionRule("struct_ops.s+", .structOps, nil, .structOps, [.sleepable]),
    SectionRule("sk_lookup", .skLookup, .skLookup),
    SectionRule("netfilter", .netfilter, .netfilter),
]
