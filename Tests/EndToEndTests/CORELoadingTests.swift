// CO-RE relocations applied by our loader to clang-19's objects, written as libbpf programs are
// (bpf_core_read.h's macros, `___` flavors of kernel types with a layout of their own). What the
// relocated program reads and computes must be what libbpf's loading of the same object gives,
// what the kernel's BTF says (read with bpftool), and what the kernel's helpers report.
import Foundation
import KernelTestSupport
import Testing

@Suite("CO-RE relocations in the loader")
struct CORELoadingTests {
    static let source = """
        #include <bpf/bpf_core_read.h>

        struct list_head___mine { struct list_head___mine *next, *prev; };
        /* The kernel's task_struct, as this program needs it: another order, other offsets, a u64
           where the kernel has an unsigned int (the load narrows), a field no kernel has. */
        struct task_struct___mine {
            unsigned long long flags;
            unsigned int in_execve: 1;
            unsigned int user_dumpable: 1;
            char comm[16];
            int pid;
            int tgid;
            struct list_head___mine tasks;
            int swiftbpf_no_such_field;
        } __attribute__((preserve_access_index));
        struct swiftbpf_no_such_type { int x; };
        enum bpf_map_type___mine { BPF_MAP_TYPE_ARENA___mine = 1000, BPF_MAP_TYPE_SWIFTBPF_NONE___mine };
        /* An ENUM64 of negative values as u64, a signed ENUM; a flexible array member. */
        enum perf_callchain_context___mine { PERF_CONTEXT_KERNEL___mine = 1 };
        enum rpm_status___mine { RPM_INVALID___mine = 1 };
        struct cgroup___mine { struct cgroup___mine *ancestors[0]; } __attribute__((preserve_access_index));

        long tgid, pid, read_tgid, expected_tgid, expected_pid, flags, comm_byte, in_execve, user_dumpable;
        long flags_size, comm_offset, comm3_offset, prev_offset, execve_offset, execve_size, dumpable_lshift,
             dumpable_rshift, dumpable_signed, tgid_signed;
        long field_exists, field_missing, fallback, type_exists, type_missing, task_size, task_id, list_matches,
             arena, enum_missing, perf_kernel, rpm_invalid, ancestor_offset;

        SEC("raw_tp")
        int relocated(void *ctx)
        {
            struct task_struct___mine *t = (void *)bpf_get_current_task_btf();
            unsigned long long both = bpf_get_current_pid_tgid();
            tgid = t->tgid;
            pid = t->pid;
            read_tgid = BPF_CORE_READ(t, tgid);
            expected_tgid = both >> 32;
            expected_pid = (unsigned int)both;
            flags = t->flags;
            comm_byte = t->comm[0];
            in_execve = BPF_CORE_READ_BITFIELD(t, in_execve);
            user_dumpable = BPF_CORE_READ_BITFIELD(t, user_dumpable);

            flags_size = bpf_core_field_size(t->flags);
            comm_offset = bpf_core_field_offset(t->comm);
            comm3_offset = bpf_core_field_offset(t->comm[3]);
            prev_offset = bpf_core_field_offset(t->tasks.prev);
            execve_offset = bpf_core_field_offset(t->in_execve);
            execve_size = bpf_core_field_size(t->in_execve);
            dumpable_lshift = __builtin_preserve_field_info(t->user_dumpable, BPF_FIELD_LSHIFT_U64);
            dumpable_rshift = __builtin_preserve_field_info(t->user_dumpable, BPF_FIELD_RSHIFT_U64);
            dumpable_signed = __builtin_preserve_field_info(t->user_dumpable, BPF_FIELD_SIGNED);
            tgid_signed = __builtin_preserve_field_info(t->tgid, BPF_FIELD_SIGNED);

            field_exists = bpf_core_field_exists(t->tgid);
            field_missing = bpf_core_field_exists(t->swiftbpf_no_such_field);
            /* Poisoned on every kernel, and unreachable: the program still loads. */
            fallback = bpf_core_field_exists(t->swiftbpf_no_such_field) ? t->swiftbpf_no_such_field : -1;
            type_exists = bpf_core_type_exists(struct task_struct___mine);
            type_missing = bpf_core_type_exists(struct swiftbpf_no_such_type);
            task_size = bpf_core_type_size(struct task_struct___mine);
            task_id = bpf_core_type_id_kernel(struct task_struct___mine);
            list_matches = bpf_core_type_matches(struct list_head___mine);
            arena = bpf_core_enum_value(enum bpf_map_type___mine, BPF_MAP_TYPE_ARENA___mine);
            enum_missing = bpf_core_enum_value_exists(enum bpf_map_type___mine, BPF_MAP_TYPE_SWIFTBPF_NONE___mine);
            if (bpf_core_enum_value_exists(enum perf_callchain_context___mine, PERF_CONTEXT_KERNEL___mine))
                perf_kernel = bpf_core_enum_value(enum perf_callchain_context___mine, PERF_CONTEXT_KERNEL___mine);
            if (bpf_core_enum_value_exists(enum rpm_status___mine, RPM_INVALID___mine))
                rpm_invalid = bpf_core_enum_value(enum rpm_status___mine, RPM_INVALID___mine);
            ancestor_offset = bpf_core_field_offset(((struct cgroup___mine *)0)->ancestors[7]);
            return 0;
        }
        """

    /// The globals the program sets, in the order it sets them.
    static let globals = [
        "tgid", "pid", "read_tgid", "expected_tgid", "expected_pid", "flags", "comm_byte", "in_execve", "user_dumpable",
        "flags_size", "comm_offset", "comm3_offset", "prev_offset", "execve_offset", "execve_size", "dumpable_lshift",
        "dumpable_rshift", "dumpable_signed", "tgid_signed", "field_exists", "field_missing", "fallback", "type_exists",
        "type_missing", "task_size", "task_id", "list_matches", "arena", "enum_missing", "perf_kernel", "rpm_invalid",
        "ancestor_offset",
    ]

    /// clang-19's object for `source` (with libbpf's headers), in a fresh directory.
    static func clangObject(_ name: String, _ source: String) async throws -> URL {
        let directory = try Paths.workDirectory("core/\(name)")
        try """
            #include <linux/bpf.h>
            #include <bpf/bpf_helpers.h>
            char LICENSE[] SEC("license") = "GPL";
            \(source)
            """.write(to: directory.appendingPathComponent("\(name).c"), atomically: true, encoding: .utf8)
        _ = try await runChecked(try which("clang-19"), ["-target", "bpf", "-O2", "-g", "-I", "/usr/include/x86_64-linux-gnu",
                                                         "-c", "\(name).c", "-o", "\(name).o"], in: directory)
        return directory
    }

    /// vmlinux BTF as bpftool prints it: `[ID] KIND 'NAME' ...` lines, each followed by its
    /// members' or enumerators' indented lines.
    struct KernelTypes {
        var lines: [Substring]

        /// The id and line of the first type of this kind and name.
        func type(_ kind: String, _ name: String) throws -> (id: Int, line: Substring) {
            let line = try #require(lines.first { $0.contains("] \(kind) '\(name)' ") }, "no \(kind) '\(name)' in vmlinux BTF")
            return (try #require(Int(line.dropFirst().prefix { $0 != "]" })), line)
        }

        /// The indented line of a member (or enumerator) of type `id`.
        func member(_ name: String, of id: Int) throws -> Substring {
            let start = try #require(lines.firstIndex { $0.hasPrefix("[\(id)] ") })
            return try #require(lines[(start + 1)...].prefix { $0.hasPrefix("\t") }.first { $0.hasPrefix("\t'\(name)' ") },
                                "type \(id) has no member \(name)")
        }

        /// A `key=value` number of a line.
        static func number(_ key: String, in line: Substring) throws -> Int {
            let field = try #require(line.split(separator: " ").first { $0.hasPrefix("\(key)=") }, "no \(key)= in \(line)")
            return try #require(Int(field.dropFirst(key.count + 1)))
        }
    }

    /// Runs the object with swiftbpf and with libbpf; returns both runs' values.
    static func run(_ directory: URL, _ object: String) async throws -> (ours: [String: String], libbpf: [String: String]) {
        let arguments = [object, "--prog", "relocated"] + globals.flatMap { ["--get", $0] }
        let ours = try await runProcess(try await Tools.ours("swiftbpf"), ["run"] + arguments, in: directory)
        try #require(ours.status == 0, "swiftbpf: \(ours.transcript)")
        let libbpf = try await runProcess(try await Tools.libbpfRun.value, arguments, in: directory)
        try #require(libbpf.status == 0, "libbpf_run: \(libbpf.transcript)")
        return (ExternTests.values(ours.stdout), ExternTests.values(libbpf.stdout))
    }

    /// A struct whose layout differs from the kernel's reads the kernel's fields: the tgid and pid
    /// the helper reports, and every relocated value libbpf gives the same object; offsets, sizes,
    /// type ids and enum values are the ones bpftool reads from vmlinux BTF; the guarded access to
    /// a field no kernel has is poisoned and unreached.
    @Test func relocatedValuesMatchTheKernelAndLibbpf() async throws {
        try KernelCapability.bpf.require()
        let directory = try await Self.clangObject("relocated", Self.source)
        let (ours, libbpf) = try await Self.run(directory, "relocated.o")
        // The task is the loader's process: its ids are the helper's, its name the executable's.
        for (run, executable) in [(ours, "swiftbpf"), (libbpf, "libbpf_run")] {
            #expect(run["tgid"] == run["expected_tgid"] && run["read_tgid"] == run["expected_tgid"], "\(run)")
            #expect(run["pid"] == run["expected_pid"], "\(run)")
            #expect(run["comm_byte"] == executable.utf8.first.map { String($0) }, "\(run)")
        }
        let processIndependent = Self.globals.filter {
            !["tgid", "pid", "read_tgid", "expected_tgid", "expected_pid", "comm_byte"].contains($0)
        }
        for name in processIndependent {
            #expect(ours[name] != nil && ours[name] == libbpf[name], "\(name): swiftbpf \(ours[name] ?? "-"), libbpf \(libbpf[name] ?? "-")")
        }

        let dump = try await runChecked(try which("bpftool"), ["btf", "dump", "file", "/sys/kernel/btf/vmlinux"], in: directory)
        let kernel = KernelTypes(lines: dump.split(separator: "\n"))
        let (taskID, taskLine) = try kernel.type("STRUCT", "task_struct")
        let offset = { (member: String) throws -> Int in
            try KernelTypes.number("bits_offset", in: try kernel.member(member, of: taskID)) / 8
        }
        #expect(ours["task_id"] == String(taskID))
        #expect(ours["task_size"] == String(try KernelTypes.number("size", in: taskLine)))
        #expect(ours["comm_offset"] == String(try offset("comm")))
        #expect(ours["comm3_offset"] == String(try offset("comm") + 3))
        let flagsType = try KernelTypes.number("type_id", in: try kernel.member("flags", of: taskID))
        let flagsTypeLine = try #require(kernel.lines.first { $0.hasPrefix("[\(flagsType)] ") })
        #expect(ours["flags_size"] == String(try KernelTypes.number("size", in: flagsTypeLine)))
        let (listID, _) = try kernel.type("STRUCT", "list_head")
        let prev = try KernelTypes.number("bits_offset", in: try kernel.member("prev", of: listID)) / 8
        #expect(ours["prev_offset"] == String(try offset("tasks") + prev))
        let (mapTypeID, _) = try kernel.type("ENUM", "bpf_map_type")
        #expect(ours["arena"] == String(try KernelTypes.number("val", in: try kernel.member("BPF_MAP_TYPE_ARENA", of: mapTypeID))))
        #expect(ours["field_exists"] == "1" && ours["field_missing"] == "0" && ours["fallback"] == "-1")
        #expect(ours["type_exists"] == "1" && ours["type_missing"] == "0" && ours["list_matches"] == "1")
        #expect(ours["enum_missing"] == "0" && ours["tgid_signed"] == "1" && ours["dumpable_signed"] == "0")
    }

    /// A relocation the kernel cannot satisfy, on a path the program takes, stops the load: the
    /// verifier's rejection at the poisoned instruction names the source line, the field as the
    /// program spells it and the kernel's type. libbpf refuses the same object.
    @Test(arguments: [
        ("missing_field", "got = t->swiftbpf_no_such_field;",
         "`struct task_struct___old.swiftbpf_no_such_field` (access 0:1) failed: struct task_struct [", "has no member 'swiftbpf_no_such_field'"),
        ("signed_resized", "got = t->prio;",
         "`struct task_struct___old.prio` (access 0:2) failed: the object reads long long of 8 bytes, the kernel's field is int of 4 bytes", "only pointers and unsigned integers"),
        ("missing_type", "got = ((struct swiftbpf_no_such_type *)t)->x;",
         "`struct swiftbpf_no_such_type.x` (access 0:0) failed: the running kernel's BTF has no struct named 'swiftbpf_no_such_type'",
         "(in vmlinux or modules)"),
    ])
    func unsatisfiedRelocationOnAReachedPathIsAnError(_ name: String, _ statement: String, _ explanation: String, _ detail: String) async throws {
        try KernelCapability.bpf.require()
        let directory = try await Self.clangObject(name, """
            #include <bpf/bpf_core_read.h>
            struct task_struct___old { int tgid; int swiftbpf_no_such_field; long long prio; } __attribute__((preserve_access_index));
            struct swiftbpf_no_such_type { int x; } __attribute__((preserve_access_index));
            long got;
            SEC("raw_tp") int reads(void *ctx)
            {
                struct task_struct___old *t = (void *)bpf_get_current_task_btf();
                got = t->tgid;
                \(statement)
                return 0;
            }
            """)
        let result = try await runProcess(try await Tools.ours("swiftbpf"), ["run", "\(name).o", "--prog", "reads"], in: directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(name).c:12:"), "\(result.stderr)")
        #expect(result.stderr.contains("error: verifier rejected program 'reads': invalid func unknown#195896080"), "\(result.stderr)")
        #expect(result.stderr.contains(explanation) && result.stderr.contains(detail), "\(result.stderr)")
        let libbpf = try await runProcess(try await Tools.libbpfRun.value, ["\(name).o", "--prog", "reads"], in: directory)
        #expect(libbpf.status != 0 && libbpf.stderr.contains("CO-RE relocation"), "\(libbpf.transcript)")
    }
}
