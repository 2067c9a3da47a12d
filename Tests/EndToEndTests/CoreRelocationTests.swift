// CO-RE: accesses through `preserve_access_index` types and the CO-RE builtins become
// `.BTF.ext` core_relo records that upstream libbpf applies against the running kernel's BTF.
// Our objects are compared with clang-19's (the same relocation kinds, root types, access
// strings, local values and instruction shapes, as llvm-objdump-19 decodes them), and loaded by
// the system libbpf (1.1) through libbpf_run: a struct whose local layout differs from the
// kernel's must still read the kernel's field, and the existence, size, offset and enumerator
// values must be the kernel's, read here with bpftool.
import Foundation
import KernelTestSupport
import Testing

@Suite("CO-RE relocations")
struct CoreRelocationTests {
    static let preamble = """
        #include <linux/types.h>
        #include <bpf/bpf_helpers.h>
        #include <bpf/bpf_core_read.h>
        char LICENSE[] SEC("license") = "GPL";

        """

    /// Programs covering each way an access or builtin is relocated. Each root pointer comes
    /// from a call of its own: from `(void *)p + 8`, LLVM may move the constant into the load and
    /// keep the relocated offset in a register, which is its scheduling, not a CO-RE rule.
    /// A bit-field is read directly in the kernel test below (where clang loads the storage unit
    /// its record layout chose, we load the one libbpf assumes), and the bit-fields asked about here
    /// sit in a record no more aligned than their type: for a more aligned record clang reports the
    /// record's alignment as the byte size, libbpf (which recomputes such values unchecked) and we
    /// the field type's size.
    static let programs: [(name: String, source: String, comparesShapes: Bool)] = [
        ("members", """
            struct inner { int x; int y[4]; };
            struct task { int pad; int tgid; struct inner in; struct inner *pin; union { int u1; long u2; };
                          unsigned int bf1:3, bf2:5; int arr[8]; } __attribute__((preserve_access_index));
            SEC("raw_tp") int prog(void *ctx) {
                struct task *t = (void *)bpf_get_current_task();
                int *p = &t->arr[3];
                int i = t->pad & 7;
                return t->tgid + t->in.y[2] + t->u2 + t->pin->x + *p + t->arr[i];
            }
            """, true),
        ("stores_and_roots", """
            struct s { int a; int :3; int b:4; int c; long l; } __attribute__((preserve_access_index));
            typedef struct s s_t;
            SEC("raw_tp") int prog(void *ctx) {
                s_t *t = (void *)bpf_get_current_task();
                const struct s *u = (void *)bpf_get_current_task();
                struct s local = {};
                int *q = &local.c;
                t->c = 5;
                t->l = 7;
                t->a += 1;
                bpf_get_current_task();
                return u->c + t[1].c + (*t).a + *q;
            }
            """, true),
        ("pragma_nested", """
            #pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
            struct kern { int a; struct nested { int b; int c; } n; struct { int d; int e; }; };
            typedef struct { int q; int r; } kern_t;
            #pragma clang attribute pop
            SEC("raw_tp") int prog(void *ctx) {
                struct kern *k = (void *)bpf_get_current_task();
                struct nested *n = (void *)bpf_get_current_task();
                kern_t *kt = (void *)bpf_get_current_task();
                return k->n.c + k->e + n->c + kt->r;
            }
            """, true),
        // A marked struct inside plain ones: the chain starts at the member. Whether the
        // relocated offset lands in the load or in a `mov` depends on how LLVM reassociates the
        // plain member's constant offset, so only the relocations and their values are compared.
        ("embedded", """
            struct s { int a; int b; int c; } __attribute__((preserve_access_index));
            struct outer { int z; struct s in; };
            struct plain { int p; struct outer o[2]; };
            SEC("raw_tp") int prog(void *ctx) {
                struct outer *o = (void *)bpf_get_current_task();
                struct plain *pl = (void *)bpf_get_current_task();
                return o->in.c + pl->o[1].in.b + pl->p;
            }
            """, false),
        ("builtins", """
            struct s { int a; int b; unsigned int bf1:3, bf2:5; int c:4; int l; struct { int x; int y; } in;
                       int arr[4]; } __attribute__((preserve_access_index));
            struct plain { int a; };
            enum e { E1 = 1, E2 = 0x123456789 };
            enum e32 { F1 = 5, F2 = 7 };
            typedef struct s s_t;
            SEC("raw_tp") int prog(void *ctx) {
                struct s *t = (void *)bpf_get_current_task();
                long r = 0;
                r += bpf_core_field_exists(t->b) + bpf_core_field_size(t->l) + bpf_core_field_offset(t->in.y);
                r += bpf_core_field_exists(struct s, bf2) + bpf_core_field_exists(t->arr[2]);
                r += __builtin_preserve_field_info(t->bf2, BPF_FIELD_SIGNED);
                r += __builtin_preserve_field_info(t->c, BPF_FIELD_LSHIFT_U64);
                r += __builtin_preserve_field_info(t->c, BPF_FIELD_RSHIFT_U64);
                r += bpf_core_type_exists(struct s) + bpf_core_type_size(s_t) + bpf_core_type_matches(struct plain);
                r += bpf_core_enum_value_exists(enum e, E1) + bpf_core_enum_value(enum e, E2);
                r += bpf_core_enum_value(enum e32, F2);
                r += bpf_core_type_id_local(struct s) + bpf_core_type_id_kernel(s_t);
                return r;
            }
            SEC("raw_tp") int reads(void *ctx) {
                struct s *t = (void *)bpf_get_current_task();
                int w;
                char name[8];
                BPF_CORE_READ_INTO(&w, t, b);
                BPF_CORE_READ_STR_INTO(&name, t, arr);
                return BPF_CORE_READ(t, in.y) + w + name[0] + BPF_CORE_READ_BITFIELD_PROBED(t, c)
                    + BPF_CORE_READ_BITFIELD(t, bf2);
            }
            """, true),
    ]

    @Test(arguments: programs.map(\.name))
    func relocationsMatchClang(_ name: String) async throws {
        let program = try #require(Self.programs.first { $0.name == name })
        let source = program.source
        let (directory, objects) = try await Self.compile("relocations/\(name)", Self.preamble + source)
        let objdump = try which("llvm-objdump-19")
        var relocations: [[String]] = []
        for object in objects {
            let listing = try await runChecked(objdump, ["-dr", object], in: directory)
            let instructions = Self.relocatedInstructions(listing)
            relocations.append(program.comparesShapes ? instructions : instructions.map(Self.valueAndRelocation).sorted())
        }
        #expect(!relocations[1].isEmpty, "clang's object has no CO-RE relocation")
        #expect(relocations[0] == relocations[1], "ours:\n\(relocations[0].joined(separator: "\n"))\nclang's:\n\(relocations[1].joined(separator: "\n"))")
    }

    /// Each CO-RE relocated instruction of an `llvm-objdump -dr` listing, registers left out
    /// (allocation differs) and the type's BTF id too (numbering differs): what it holds, how,
    /// and what it relocates. Sorted, since the two compilers schedule differently.
    static func relocatedInstructions(_ listing: String) -> [String] {
        var result: [String] = []
        var previous = ""
        for line in listing.split(separator: "\n").map(String.init) {
            guard let marker = line.range(of: "CO-RE ") else {
                // `  12:\t61 02 04 00 00 00 00 00\tr2 = *(u32 *)(r0 + 0x4)`: the text after the bytes.
                if let text = line.split(separator: "\t").last, line.contains(":\t") { previous = String(text) }
                continue
            }
            let relocation = line[marker.upperBound...].replacing(#/\[\d+\] /#, with: "")
            let instruction = previous.replacing(/\b[rw]\d+\b/, with: "r")
            result.append("\(instruction)  \(relocation)")
        }
        return result.sorted()
    }

    /// `r = *(u32 *)(r + 0x8)  <byte_off> ...` as `0x8  <byte_off> ...`: the local value, in an
    /// immediate or an offset, and the relocation.
    static func valueAndRelocation(_ instruction: String) -> String {
        let parts = instruction.split(separator: "  ", maxSplits: 1)
        let value = parts[0].matches(of: /-?0x[0-9a-f]+/).last.map { String($0.output) } ?? "0x0"
        return "\(value)  \(parts.count > 1 ? String(parts[1]) : "")"
    }

    /// The kernel's `task_struct` through a local struct that puts `tgid` at offset 4, read
    /// directly (a BTF pointer) and with BPF_CORE_READ (a probe read): both must read the tgid the
    /// kernel reports, and every CO-RE builtin must give the kernel's answer.
    @Test func differingLayoutReadsTheKernelsValues() async throws {
        try KernelCapability.bpf.require()
        let (directory, objects) = try await Self.compile("kernel_values", Self.preamble + """
            struct task_struct___mine {
                int pad;
                int tgid;
                int swiftbpf_no_such_field;
            } __attribute__((preserve_access_index));
            enum bpf_map_type___mine { BPF_MAP_TYPE_RINGBUF = 1, SWIFTBPF_NO_SUCH_MAP_TYPE = 2 };
            struct swiftbpf_no_such_type { int x; };

            long pid, direct_tgid, read_tgid, tgid_exists, missing_exists, type_exists, missing_type_exists;
            long task_size, tgid_offset, tgid_size, ringbuf, ringbuf_exists, missing_enum_exists;

            SEC("raw_tp") int prog(void *ctx)
            {
                struct task_struct___mine *task = (void *)bpf_get_current_task_btf();
                pid = bpf_get_current_pid_tgid() >> 32;
                direct_tgid = task->tgid;
                read_tgid = BPF_CORE_READ((struct task_struct___mine *)bpf_get_current_task(), tgid);
                tgid_exists = bpf_core_field_exists(task->tgid);
                missing_exists = bpf_core_field_exists(struct task_struct___mine, swiftbpf_no_such_field);
                type_exists = bpf_core_type_exists(struct task_struct___mine);
                missing_type_exists = bpf_core_type_exists(struct swiftbpf_no_such_type);
                task_size = bpf_core_type_size(struct task_struct___mine);
                tgid_offset = bpf_core_field_offset(struct task_struct___mine, tgid);
                tgid_size = bpf_core_field_size(task->tgid);
                ringbuf = bpf_core_enum_value(enum bpf_map_type___mine, BPF_MAP_TYPE_RINGBUF);
                ringbuf_exists = bpf_core_enum_value_exists(enum bpf_map_type___mine, BPF_MAP_TYPE_RINGBUF);
                missing_enum_exists = bpf_core_enum_value_exists(enum bpf_map_type___mine, SWIFTBPF_NO_SUCH_MAP_TYPE);
                return 0;
            }
            """)
        let kernel = try await KernelBTF.load()
        let task = try #require(kernel.structs["task_struct"], "vmlinux BTF has no task_struct")
        let expected: [String: Int] = [
            "tgid_exists": 1, "missing_exists": 0, "type_exists": 1, "missing_type_exists": 0,
            "task_size": task.size, "tgid_offset": try #require(task.members["tgid"]) / 8, "tgid_size": 4,
            "ringbuf": try #require(kernel.enumerators["BPF_MAP_TYPE_RINGBUF"]), "ringbuf_exists": 1,
            "missing_enum_exists": 0,
        ]
        for object in objects {
            let values = try await Self.runWithLibbpf(object, in: directory, reading: ["pid", "direct_tgid", "read_tgid"]
                                                      + expected.keys.sorted())
            #expect(values["pid"] != 0 && values["pid"] != nil, "\(object): \(values)")
            #expect(values["direct_tgid"] == values["pid"], "\(object): \(values)")
            #expect(values["read_tgid"] == values["pid"], "\(object): \(values)")
            for (name, value) in expected {
                #expect(values[name] == value, "\(object): \(name) is \(values[name].map(String.init) ?? "missing"), the kernel says \(value)")
            }
        }
    }

    /// A tracing program in the style of libbpf-bootstrap, on a vmlinux.h generated from the
    /// running kernel and libbpf 1.5's headers from the kernel 6.12 tree: chained reads, a
    /// string, a bit-field, a flavor of task_struct with a field the kernel lacks.
    @Test func vmlinuxProgramReadsTheKernelsValues() async throws {
        try KernelCapability.bpf.require()
        let tree = try await KernelSelftests.require()
        let (directory, objects) = try await Self.compile("vmlinux", """
            #include "vmlinux.h"
            #include <bpf/bpf_helpers.h>
            #include <bpf/bpf_core_read.h>
            #include <bpf/bpf_tracing.h>
            char LICENSE[] SEC("license") = "GPL";

            struct task_struct___old { int swiftbpf_renamed_pid; } __attribute__((preserve_access_index));

            long pid, tgid, parent_tgid, parent_tgid_read, comm0, pid_exists, old_exists, ringbuf, in_execve;
            long in_execve_direct;

            SEC("raw_tp") int prog(void *ctx)
            {
                struct task_struct *task = bpf_get_current_task_btf();
                char comm[16];
                pid = bpf_get_current_pid_tgid() >> 32;
                tgid = task->tgid;
                parent_tgid = task->real_parent->tgid;
                parent_tgid_read = BPF_CORE_READ(task, real_parent, tgid);
                BPF_CORE_READ_STR_INTO(&comm, task, comm);
                comm0 = comm[0];
                pid_exists = bpf_core_field_exists(task->pid);
                old_exists = bpf_core_field_exists(((struct task_struct___old *)task)->swiftbpf_renamed_pid);
                ringbuf = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
                in_execve = BPF_CORE_READ_BITFIELD(task, in_execve);
                in_execve_direct = task->in_execve;
                return 0;
            }
            """, includes: [tree.includeDirectory.path])
        let kernel = try await KernelBTF.load()
        for object in objects {
            let values = try await Self.runWithLibbpf(object, in: directory, reading: [
                "pid", "tgid", "parent_tgid", "parent_tgid_read", "comm0", "pid_exists", "old_exists", "ringbuf",
                "in_execve", "in_execve_direct",
            ])
            #expect(values["pid"] != nil && values["tgid"] == values["pid"], "\(object): \(values)")
            #expect(values["parent_tgid"] == Int(ProcessInfo.processInfo.processIdentifier), "\(object): \(values)")
            #expect(values["parent_tgid_read"] == values["parent_tgid"], "\(object): \(values)")
            #expect(values["comm0"] == Int(Character("l").asciiValue ?? 0), "libbpf_run's comm: \(values)")
            #expect(values["pid_exists"] == 1 && values["old_exists"] == 0, "\(object): \(values)")
            #expect(values["ringbuf"] == kernel.enumerators["BPF_MAP_TYPE_RINGBUF"], "\(object): \(values)")
            #expect(values["in_execve"] == 0 && values["in_execve_direct"] == 0, "\(object): \(values)")
        }
    }

    /// `source` compiled by us and by clang-19 with the same flags; the objects are
    /// `ours.o` and `clang.o` in the returned directory.
    static func compile(_ name: String, _ source: String, includes: [String] = []) async throws
        -> (directory: URL, objects: [String])
    {
        let directory = try Paths.workDirectory("core/\(name)")
        let file = directory.appendingPathComponent("prog.c")
        try source.write(to: file, atomically: true, encoding: .utf8)
        let flags = ["-O2", "-g", "-I", "/usr/include/x86_64-linux-gnu"] + includes.flatMap { ["-I", $0] }
            + ["-c", file.path]
        _ = try await runChecked(try await Tools.ours("swiftbpfcc"), flags + ["-o", "ours.o"], in: directory)
        _ = try await runChecked(try which("clang-19"), ["-target", "bpf"] + flags + ["-o", "clang.o"], in: directory)
        return (directory, ["ours.o", "clang.o"])
    }

    /// Loads `object` with the system libbpf, which applies its CO-RE relocations, test-runs
    /// `prog` and reads the globals back.
    static func runWithLibbpf(_ object: String, in directory: URL, reading globals: [String]) async throws
        -> [String: Int]
    {
        let result = try await runProcess(try await Tools.libbpfRun.value,
                                          [object, "--prog", "prog"] + globals.flatMap { ["--get", $0] }, in: directory)
        try #require(result.status == 0, "libbpf did not load or run \(object): \(result.transcript)")
        var values: [String: Int] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Int(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }
}

/// Facts of the running kernel's BTF, as `bpftool btf dump` prints them.
struct KernelBTF {
    /// Size and member bit offsets of each struct.
    var structs: [String: (size: Int, members: [String: Int])] = [:]
    /// Value of each enumerator.
    var enumerators: [String: Int] = [:]

    static func load() async throws -> KernelBTF {
        let directory = try Paths.workDirectory("core/kernel_btf")
        let dump = try await runChecked(try which("bpftool"), ["btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                                        in: directory)
        var facts = KernelBTF()
        var currentStruct: String?
        for line in dump.split(separator: "\n") {
            if let header = line.firstMatch(of: /^\[\d+\] STRUCT '(\w+)' size=(\d+)/) {
                currentStruct = String(header.1)
                facts.structs[String(header.1)] = (Int(header.2) ?? 0, [:])
            } else if line.hasPrefix("[") {
                currentStruct = nil
            } else if let member = line.firstMatch(of: /^\t'(\w+)' type_id=\d+ bits_offset=(\d+)/), let name = currentStruct {
                facts.structs[name]?.members[String(member.1)] = Int(member.2)
            } else if let value = line.firstMatch(of: /^\t'(\w+)' val=(-?\d+)/) {
                facts.enumerators[String(value.1)] = Int(value.2)
            }
        }
        return facts
    }
}
