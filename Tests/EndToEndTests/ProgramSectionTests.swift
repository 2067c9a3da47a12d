// Every program section libbpf knows, compiled by us and by clang-19 and loaded by our loader and
// by libbpf: the kernel must report the same program type for each program, and the program must
// have been given the expected attach type libbpf gives it. Programs attached by BTF (fentry,
// lsm, ...) load under our loader exactly where they load under libbpf. (Programs that run on a
// packet and the maps these programs use are Reference programs: packet_programs.c,
// tail_calls.c, map_types.c.)
import Foundation
import KernelTestSupport
import Testing

@Suite("Program sections")
struct ProgramSectionTests {
    /// Sections Debian's libbpf 1.1 knows whose programs load without attaching, one program each.
    static let sections = """
        #include <linux/ptrace.h>
        #define __TARGET_ARCH_x86
        #include <bpf/bpf_tracing.h>
        struct filename;
        SEC("kprobe/do_unlinkat") int BPF_KPROBE(on_unlink, int dfd, struct filename *name) { return dfd == 3; }
        SEC("kretprobe/do_unlinkat") int BPF_KRETPROBE(on_unlink_return, long ret) { return ret != 0; }
        SEC("kprobe.multi/do_unlinkat") int on_unlink_multi(struct pt_regs *ctx) { return 0; }
        SEC("ksyscall/execve") int on_execve(struct pt_regs *ctx) { return PT_REGS_PARM1(ctx) != 0; }
        SEC("kretsyscall/execve") int on_execve_return(struct pt_regs *ctx) { return 0; }
        SEC("uprobe//bin/true:main") int on_main(struct pt_regs *ctx) { return 0; }
        SEC("uretprobe.s//bin/true:main") int on_main_return(struct pt_regs *ctx) { return 0; }
        SEC("usdt") int on_usdt(struct pt_regs *ctx) { return 0; }
        SEC("tp/syscalls/sys_enter_execve") int on_tp(void *ctx) { return 0; }
        SEC("tracepoint/sched/sched_switch") int on_switch(void *ctx) { return 0; }
        SEC("raw_tp/sys_enter") int BPF_PROG(on_raw, struct pt_regs *regs, long id) { return id == 59; }
        SEC("tp_btf/sys_enter") int BPF_PROG(on_btf_tp, struct pt_regs *regs, long id) { return 0; }
        SEC("iter/task") int on_task(void *ctx) { return 0; }
        SEC("perf_event") int on_perf(void *ctx) { return 0; }
        SEC("xdp") int on_xdp(struct xdp_md *ctx) { return XDP_PASS; }
        SEC("xdp.frags") int on_xdp_frags(struct xdp_md *ctx) { return XDP_PASS; }
        SEC("tc") int on_tc(struct __sk_buff *skb) { return 0; }
        SEC("classifier") int on_classifier(struct __sk_buff *skb) { return 0; }
        SEC("action") int on_action(struct __sk_buff *skb) { return 0; }
        SEC("socket") int on_socket(struct __sk_buff *skb) { return skb->len; }
        SEC("sk_skb/stream_verdict") int on_verdict(struct __sk_buff *skb) { return SK_PASS; }
        SEC("sk_msg") int on_msg(struct sk_msg_md *msg) { return SK_PASS; }
        SEC("sockops") int on_sockops(struct bpf_sock_ops *ops) { return 1; }
        SEC("cgroup_skb/egress") int on_cgroup_skb(struct __sk_buff *skb) { return 1; }
        SEC("cgroup/sock_create") int on_sock_create(struct bpf_sock *sk) { return 1; }
        SEC("cgroup/connect4") int on_connect(struct bpf_sock_addr *ctx) { return 1; }
        SEC("cgroup/sysctl") int on_sysctl(struct bpf_sysctl *ctx) { return 1; }
        SEC("cgroup/getsockopt") int on_getsockopt(struct bpf_sockopt *ctx) { return 1; }
        SEC("cgroup/dev") int on_dev(struct bpf_cgroup_dev_ctx *ctx) { return 1; }
        SEC("flow_dissector") int on_flow(struct __sk_buff *skb) { return BPF_OK; }
        SEC("sk_lookup") int on_lookup(struct bpf_sk_lookup *ctx) { return SK_PASS; }
        SEC("lwt_in") int on_lwt(struct __sk_buff *skb) { return BPF_OK; }
        SEC("sk_reuseport") int on_reuseport(struct sk_reuseport_md *md) { return SK_PASS; }
        SEC("syscall") int on_syscall(void *ctx) { return 5; }
        """

    /// `sections` compiled once by us and by clang, for the tests that share it.
    static let sectionObjects = Task { try await ExternTests.objects("sections", sections) }

    /// `NAME key=value...` lines, by name.
    static func fields(_ output: String) -> [String: [String: String]] {
        var result: [String: [String: String]] = [:]
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard let name = words.first, words.count > 1 else { continue }
            result[String(name)] = Dictionary(words.dropFirst().compactMap { word in
                let parts = word.split(separator: "=", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }, uniquingKeysWith: { a, _ in a })
        }
        return result
    }

    static func programNames(_ source: String) -> [String] {
        source.matches(of: /SEC\("[^"]*"\) \w+ (?:BPF_\w+\()?(\w+)/).map { String($0.output.1) }
    }

    /// Compares our loader's view of each program with libbpf's: the program type the kernel
    /// reports, and the expected attach type (libbpf gives 0, the number of
    /// BPF_CGROUP_INET_INGRESS, to programs that have none; ours prints none).
    static func expectSameTypes(_ object: String, programs: [String], in directory: URL) async throws {
        let ours = try await runProcess(try await Tools.ours("swiftbpf"), ["stats", object], in: directory)
        try #require(ours.status == 0, "\(object): \(ours.transcript)")
        let libbpf = try await runProcess(try await Tools.libbpfRun.value,
                                          [object] + programs.flatMap { ["--describe", $0] }, in: directory)
        try #require(libbpf.status == 0, "\(object): \(libbpf.transcript)")
        let (ourFields, libbpfFields) = (fields(ours.stdout), fields(libbpf.stdout))
        #expect(Set(ourFields.keys) == Set(programs), "\(object)")
        for program in programs {
            #expect(ourFields[program]?["type"] == libbpfFields[program]?["type"], "\(object): \(program)")
            #expect(ourFields[program]?["attach"] ?? "cgroup_inet_ingress" == libbpfFields[program]?["attach"],
                    "\(object): \(program)")
        }
    }

    @Test func everySectionLoadsWithLibbpfsTypes() async throws {
        try KernelCapability.bpf.require()
        let programs = Self.programNames(Self.sections)
        #expect(programs.count == Self.sections.matches(of: /SEC\(/).count)
        let (directory, objects) = try await Self.sectionObjects.value
        for object in objects {
            try await Self.expectSameTypes(object, programs: programs, in: directory)
        }
    }

    /// A kprobe section names the kernel function its probe goes on; a ksyscall, the
    /// architecture's wrapper of the system call where the kernel has one.
    @Test func targetsComeFromTheSectionName() async throws {
        try KernelCapability.bpf.require()
        let (directory, objects) = try await Self.sectionObjects.value
        let kallsyms = try String(contentsOfFile: "/proc/kallsyms", encoding: .utf8)
        let wrapper = kallsyms.contains(" __x64_sys_execve\n") ? "__x64_sys_execve" : "sys_execve"
        let ours = try await runProcess(try await Tools.ours("swiftbpf"), ["stats", objects[0]], in: directory)
        let stats = Self.fields(ours.stdout)
        #expect(stats["on_unlink"]?["target"] == "do_unlinkat")
        #expect(stats["on_tp"]?["target"] == "syscalls/sys_enter_execve")
        #expect(stats["on_task"]?["target"] == "bpf_iter_task")
        #expect(stats["on_xdp"]?["target"] == nil)
        if FileManager.default.fileExists(atPath: "/sys/bus/event_source/devices/kprobe/type") {
            #expect(stats["on_execve"]?["target"] == wrapper)
        }
    }

    /// Test runs: what the kernel cannot run says why (packet programs run in packet_programs.c).
    @Test(arguments: [
        ("on_unlink", "program 'on_unlink' cannot be test-run: a kprobe program runs only when its event fires"),
        ("on_perf", "program 'on_perf' cannot be test-run: a perf_event program runs only when its event fires"),
        ("on_task", "program 'on_task' cannot be test-run: a tracing program runs only once attached to 'bpf_iter_task'"),
        ("on_verdict", "program 'on_verdict' cannot be test-run: swiftbpf test-runs syscall, raw_tp, and packet programs"),
    ])
    func untestableProgramsSaySo(_ program: String, _ message: String) async throws {
        try KernelCapability.bpf.require()
        let (directory, objects) = try await Self.sectionObjects.value
        let run = try await runProcess(try await Tools.ours("swiftbpf"), ["run", objects[0], "--prog", program], in: directory)
        #expect(run.status == 1)
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }

    /// Programs attached by a BTF id: each loads under our loader exactly where it loads under
    /// libbpf (a kernel may refuse trampolines or LSM programs to everyone), and then with the
    /// same types.
    @Test(arguments: [
        "SEC(\"fentry/do_unlinkat\") int BPF_PROG(prog, int dfd, struct filename *name) { return 0; }",
        "SEC(\"fexit/do_unlinkat\") int BPF_PROG(prog, int dfd, struct filename *name, long ret) { return 0; }",
        "SEC(\"fmod_ret/bpf_modify_return_test\") int BPF_PROG(prog, int a, int *b, int ret) { return ret; }",
        "SEC(\"fentry.s/bpf_modify_return_test\") int BPF_PROG(prog, int a, int *b) { return 0; }",
        "SEC(\"lsm/file_open\") int BPF_PROG(prog, struct file *file) { return 0; }",
        "SEC(\"lsm.s/file_open\") int BPF_PROG(prog, struct file *file) { return 0; }",
        "SEC(\"iter/task\") int prog(void *ctx) { return 0; }",
        "SEC(\"tp_btf/sys_enter\") int BPF_PROG(prog, struct pt_regs *regs, long id) { return 0; }",
    ])
    func btfAttachedProgramsLoadWhereLibbpfLoadsThem(_ program: String) async throws {
        try KernelCapability.bpf.require()
        let section = program.split(separator: "\"")[1].replacingOccurrences(of: "/", with: "_")
        let (directory, objects) = try await ExternTests.objects("btf_attach_\(section)", """
            #include <linux/ptrace.h>
            #define __TARGET_ARCH_x86
            #include <bpf/bpf_tracing.h>
            struct filename;
            struct file;
            \(program)
            """)
        for object in objects {
            let ours = try await runProcess(try await Tools.ours("swiftbpf"), ["stats", object], in: directory)
            let libbpf = try await runProcess(try await Tools.libbpfRun.value, [object, "--describe", "prog"], in: directory)
            #expect((ours.status == 0) == (libbpf.status == 0), "\(object)\nours: \(ours.transcript)\nlibbpf: \(libbpf.transcript)")
            if ours.status == 0 && libbpf.status == 0 {
                try await Self.expectSameTypes(object, programs: ["prog"], in: directory)
            }
        }
    }

    /// struct_ops programs implement the members of a kernel struct that a `.struct_ops`
    /// variable assigns them to: they load with the kernel struct and member as their target.
    @Test func structOpsProgramsLoad() async throws {
        try KernelCapability.bpf.require()
        let (directory, objects) = try await ExternTests.objects("struct_ops", """
            #define __TARGET_ARCH_x86
            #include <bpf/bpf_tracing.h>
            struct sock;
            struct tcp_congestion_ops {
            	__u32 (*ssthresh)(struct sock *sk);
            	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
            	__u32 (*undo_cwnd)(struct sock *sk);
            	char name[16];
            };
            SEC("struct_ops/ssthresh") __u32 BPF_PROG(swift_ssthresh, struct sock *sk) { return 2; }
            SEC("struct_ops/cong_avoid") void BPF_PROG(swift_cong_avoid, struct sock *sk, __u32 ack, __u32 acked) {}
            SEC("struct_ops/undo_cwnd") __u32 BPF_PROG(swift_undo_cwnd, struct sock *sk) { return 10; }
            SEC(".struct_ops") struct tcp_congestion_ops swift_cc = {
            	.ssthresh = (void *)swift_ssthresh,
            	.cong_avoid = (void *)swift_cong_avoid,
            	.undo_cwnd = (void *)swift_undo_cwnd,
            	.name = "swift_cc",
            };
            """)
        for object in objects {
            let ours = try await runProcess(try await Tools.ours("swiftbpf"), ["stats", object], in: directory)
            #expect(ours.status == 0, "\(object): \(ours.transcript)")
            let stats = Self.fields(ours.stdout)
            for name in ["swift_ssthresh", "swift_cong_avoid", "swift_undo_cwnd"] {
                #expect(stats[name]?["type"] == "struct_ops", "\(object): \(name)")
            }
            let libbpf = try await runProcess(try await Tools.libbpfRun.value, [object], in: directory)
            #expect(libbpf.status == 0, "\(object): \(libbpf.transcript)")
        }
    }

    /// A map pinned by name outlives the loader and is reused by the next load, ours or
    /// libbpf's: the counter goes on counting.
    @Test func pinnedMapsAreReused() async throws {
        try KernelCapability.bpf.require()
        // Named after this process, so that two test runs on one machine pin different maps.
        let name = "swiftbpf_pinned_\(getpid())"
        let pin = "/sys/fs/bpf/" + name
        try? FileManager.default.removeItem(atPath: pin)
        defer { try? FileManager.default.removeItem(atPath: pin) }
        let (directory, objects) = try await ExternTests.objects("pinning", """
            struct {
            	__uint(type, BPF_MAP_TYPE_ARRAY);
            	__uint(max_entries, 1);
            	__type(key, __u32);
            	__type(value, long);
            	__uint(pinning, LIBBPF_PIN_BY_NAME);
            } \(name) SEC(".maps");
            long seen;
            SEC("syscall") int bump(void *ctx)
            {
            	__u32 key = 0;
            	long *count = bpf_map_lookup_elem(&\(name), &key);
            	if (!count)
            		return 1;
            	seen = ++*count;
            	return 0;
            }
            """)
        let arguments = ["--prog", "bump", "--get", "seen"]
        var outputs: [String] = []
        for object in objects {
            outputs.append(try await runChecked(try await Tools.ours("swiftbpf"), ["run", object] + arguments, in: directory))
            outputs.append(try await runChecked(try await Tools.libbpfRun.value, [object] + arguments, in: directory))
        }
        #expect(FileManager.default.fileExists(atPath: pin))
        #expect(outputs.map { ExternTests.values($0)["seen"] } == ["1", "2", "3", "4"])

        // A pinned map of another shape is not taken for this one.
        try FileManager.default.removeItem(atPath: pin)
        let (otherDirectory, other) = try await ExternTests.objects("pinning_other", """
            struct {
            	__uint(type, BPF_MAP_TYPE_HASH);
            	__uint(max_entries, 4);
            	__type(key, __u32);
            	__type(value, long);
            	__uint(pinning, LIBBPF_PIN_BY_NAME);
            } \(name) SEC(".maps");
            SEC("syscall") int other(void *ctx)
            {
            	__u32 key = 0;
            	return bpf_map_lookup_elem(&\(name), &key) != 0;
            }
            """)
        _ = try await runChecked(try await Tools.ours("swiftbpf"), ["run", other[0], "--prog", "other"], in: otherDirectory)
        let mismatch = try await runProcess(try await Tools.ours("swiftbpf"), ["run", objects[0]] + arguments, in: directory)
        #expect(mismatch.status == 1)
        #expect(mismatch.stderr.contains("map '\(name)': the map pinned at \(pin) has type 1"), "\(mismatch.stderr)")
    }
}
