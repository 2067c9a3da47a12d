import Testing
import ToolTestSupport
@testable import BPFLoader

/// Section names read as libbpf's section table reads them, and the BTF targets of tracing, LSM
/// and iterator programs found where bpftool finds them in the running kernel's BTF.
struct SectionNameTests {
    @Test(arguments: [
        // (section, program type, expected attach type, sleepable, target)
        ("kprobe/do_unlinkat", "kprobe", nil, false, "do_unlinkat"),
        ("kretprobe", "kprobe", nil, false, ""),
        ("kprobe.multi/do_*", "kprobe", "trace_kprobe_multi", false, "do_*"),
        ("uprobe.s//bin/true:main", "kprobe", nil, true, "/bin/true:main"),
        ("tp/syscalls/sys_enter_execve", "tracepoint", nil, false, "syscalls/sys_enter_execve"),
        ("fentry/do_unlinkat", "tracing", "trace_fentry", false, "do_unlinkat"),
        ("fexit.s/do_unlinkat", "tracing", "trace_fexit", true, "do_unlinkat"),
        ("lsm.s/file_open", "lsm", "lsm_mac", true, "bpf_lsm_file_open"),
        ("iter/task", "tracing", "trace_iter", false, "bpf_iter_task"),
        ("tp_btf/sys_enter", "tracing", "trace_raw_tp", false, "btf_trace_sys_enter"),
        ("tc/ingress", "sched_cls", "tcx_ingress", false, ""),
        ("tc", "sched_cls", nil, false, ""),
        ("xdp.frags/devmap", "xdp", "xdp_devmap", false, ""),
        ("sk_reuseport/migrate", "sk_reuseport", "sk_reuseport_select_or_migrate", false, ""),
        ("cgroup/sock", "cgroup_sock", "cgroup_inet_sock_create", false, ""),
        ("struct_ops.s/init", "struct_ops", nil, true, "init"),
        ("syscall", "syscall", nil, true, ""),
    ] as [(String, String, String?, Bool, String)])
    func sectionsReadAsLibbpfReadsThem(_ name: String, _ type: String, _ attach: String?, _ sleepable: Bool, _ target: String) throws {
        let section = try #require(ProgramSection(section: name))
        #expect(section.type.name == type)
        #expect(section.expectedAttachType?.name == attach)
        #expect(section.isSleepable == sleepable)
        #expect(section.target == target)
    }

    /// A kind must be the whole name or be followed by `/`: `kprobex` is no kprobe, `xdp/foo`
    /// names no XDP attach point, and `syscall/x` is not `syscall`.
    @Test(arguments: ["kprobex", "xdp/foo", "syscall/x", "tcx", "fentryx/f", ".text", ""])
    func unknownSectionsNameNoProgramType(_ name: String) {
        #expect(ProgramSection(section: name) == nil)
    }

    /// `xdp.frags` programs load with BPF_F_XDP_HAS_FRAGS, sleepable ones with BPF_F_SLEEPABLE.
    @Test func loadFlags() throws {
        #expect(try #require(ProgramSection(section: "xdp.frags")).flags == 1 << 5)
        #expect(try #require(ProgramSection(section: "lsm.s/file_open")).flags == 1 << 4)
        #expect(try #require(ProgramSection(section: "xdp")).flags == 0)
    }
}

extension ProgramBTFKernelTests {
    /// fentry, lsm, iter and tp_btf programs attach by the vmlinux BTF id of a FUNC or TYPEDEF
    /// named after their target, with libbpf's prefixes.
    @Test(arguments: [
        ("fentry/do_unlinkat", "FUNC", "do_unlinkat"),
        ("lsm/file_open", "FUNC", "bpf_lsm_file_open"),
        ("iter/task", "FUNC", "bpf_iter_task"),
        ("tp_btf/sys_enter", "TYPEDEF", "btf_trace_sys_enter"),
    ])
    func attachTargetsAreVmlinuxTypes(_ name: String, _ kind: String, _ btfName: String) throws {
        let section = try #require(ProgramSection(section: name))
        let symbols = KernelSymbols()
        let id: UInt32
        switch section.btfTarget {
        case .function(let function)?: id = try symbols.attachTarget(function, isTypedef: false, section: section, program: "p")
        case .typedef(let typedef)?: id = try symbols.attachTarget(typedef, isTypedef: true, section: section, program: "p")
        case .structOpsMember?, .program?, nil: Issue.record("\(name) has no BTF target"); return
        }
        #expect(Int32(id) == (try Self.vmlinuxID(kind, btfName)))
    }

    /// A section that names no target, or one the kernel lacks, is an error naming both.
    @Test func missingAttachTargets() throws {
        let symbols = KernelSymbols()
        let bare = try #require(ProgramSection(section: "fentry"))
        #expect(throws: LoadError.self) { try symbols.attachTarget("", isTypedef: false, section: bare, program: "p") }
        let absent = try #require(ProgramSection(section: "fentry/swiftbpf_no_such_function"))
        do {
            _ = try symbols.attachTarget("swiftbpf_no_such_function", isTypedef: false, section: absent, program: "p")
            Issue.record("an absent function resolved")
        } catch {
            #expect(error.description.contains("has no swiftbpf_no_such_function (FUNC)"))
        }
    }
}
