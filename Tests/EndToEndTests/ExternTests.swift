// Externs resolved from the running kernel, checked against what the test finds out on its own:
// `__kconfig` values against `uname` and the kernel's configuration file (read here with gzip),
// `__ksym`s against the kernel's BTF as bpftool prints it. Reference/kconfig_ksyms.c also runs in
// ReferenceTests, where clang's object and libbpf must agree with ours.
import Foundation
import KernelTestSupport
import Testing

/// What the test knows of the running kernel without our loader.
struct RunningKernel {
    /// CONFIG_NAME -> value as written (`y`, `250`, `"(none)"`).
    var configuration: [String: String] = [:]
    /// The file it came from, as libbpf picks it.
    var configurationPath = ""
    /// KERNEL_VERSION(a, b, c) of the release.
    var version: UInt32 = 0

    static func read(in directory: URL) async throws -> RunningKernel {
        var kernel = RunningKernel()
        let release = try await runChecked(try which("uname"), ["-r"], in: directory).trimmingCharacters(in: .whitespacesAndNewlines)
        let boot = "/boot/config-\(release)"
        kernel.configurationPath = FileManager.default.fileExists(atPath: boot) ? boot : "/proc/config.gz"
        let text = try await runChecked(try which("gzip"), ["-dcf", kernel.configurationPath], in: directory)
        for line in text.split(separator: "\n") where line.hasPrefix("CONFIG_") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { kernel.configuration[String(parts[0])] = String(parts[1]) }
        }
        // Debian kernels carry the upstream version in `uname -v` ("... Debian 6.1.55-1 ...").
        let uts = try await runChecked(try which("uname"), ["-v"], in: directory)
        let words = uts.split(separator: " ")
        let upstream = words.firstIndex(of: "Debian").map { words[$0 + 1] } ?? Substring(release)
        let numbers = upstream.split(separator: ".").prefix(3).map { UInt32($0.prefix { $0.isNumber }) ?? 0 }
        kernel.version = numbers[0] << 16 | numbers[1] << 8 | min(numbers[2], 255)
        return kernel
    }

    func isYes(_ option: String) -> Bool { configuration[option] == "y" }
}

@Suite("Kernel externs")
struct ExternTests {
    static let program = CorpusProgram(source: Paths.endToEnd.appendingPathComponent("Reference/kconfig_ksyms.c"))

    /// `VAR=VALUE` lines of a run.
    static func values(_ output: String) -> [String: String] {
        Dictionary(output.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }, uniquingKeysWith: { a, _ in a })
    }

    @Test func valuesMatchTheRunningKernel() async throws {
        try KernelCapability.bpf.require()
        let directory = try await Artifacts.shared.directory(Self.program)
        let kernel = try await RunningKernel.read(in: directory)
        let object = try await Artifacts.shared.ourObject(Self.program).value
        let run = try await runProcess(try await Tools.ours("swiftbpf"), ["run", object] + Self.program.runArguments,
                                       in: directory)
        try #require(run.status == 0, "\(run.transcript)")
        let got = Self.values(run.stdout)

        func tristate(_ option: String) -> String {
            switch kernel.configuration[option] { case "y": "1"; case "m": "2"; default: "0" }
        }
        // The first three characters between the quotes, then NUL padding, as a little-endian int.
        let hostname = Array((kernel.configuration["CONFIG_DEFAULT_HOSTNAME"] ?? "\"\"").utf8.dropFirst().dropLast().prefix(3))
        let hostnameHead = (hostname + [0, 0, 0, 0]).prefix(4).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let vmlinux = try await runChecked(try which("bpftool"), ["btf", "dump", "file", "/sys/kernel/btf/vmlinux"], in: directory)
        let expected: [String: String] = [
            "read_config retval": kernel.isYes("CONFIG_BPF_SYSCALL") ? "1" : "2",
            "kernel_version": String(kernel.version),
            // libbpf asks whether a kprobe opens on the wrapper: both must exist.
            "syscall_wrapper": kernel.isYes("CONFIG_ARCH_HAS_SYSCALL_WRAPPER") && kernel.isYes("CONFIG_KPROBES") ? "1" : "0",
            // bpf_get_attach_cookie arrived in 5.15.
            "bpf_cookie": kernel.version >= 5 << 16 | 15 << 8 ? "1" : "0",
            "bpf_syscall": tristate("CONFIG_BPF_SYSCALL"),
            "hz": kernel.configuration["CONFIG_HZ"] ?? "missing",
            "nr_cpus": kernel.configuration["CONFIG_NR_CPUS"] ?? "0",
            "jit_letter": String(kernel.configuration["CONFIG_BPF_JIT"]?.utf8.first ?? 0),
            "hostname_head": String(hostnameHead),
            "absent_option": "0",
            "absent_linux": "0",
            "kfunc_exists": vmlinux.contains("FUNC 'bpf_rcu_read_lock' ") ? "1" : "0",
            "absent_kfunc_exists": "0",
            "absent_variable_exists": "0",
        ]
        let retval = run.stdout.split(separator: "\n").first { $0.hasPrefix("read_config retval=") }
        #expect(retval == "read_config retval=\(expected["read_config retval"]!)")
        for (name, value) in expected where name != "read_config retval" {
            #expect(got[name] == value, "\(name)")
        }
    }

    /// Writes `source` as a one-program object, compiled by us and by clang.
    static func objects(_ name: String, _ source: String) async throws -> (directory: URL, objects: [String]) {
        let directory = try Paths.workDirectory("externs/\(name)")
        let file = directory.appendingPathComponent("\(name).c")
        try """
            #include <linux/bpf.h>
            #include <bpf/bpf_helpers.h>
            char LICENSE[] SEC("license") = "GPL";
            \(source)
            """.write(to: file, atomically: true, encoding: .utf8)
        let flags = ["-O2", "-g", "-I", "/usr/include/x86_64-linux-gnu", "-c", file.path]
        _ = try await runChecked(try await Tools.ours("swiftbpfcc"), flags + ["-o", "ours.o"], in: directory)
        _ = try await runChecked(try which("clang-19"), ["-target", "bpf"] + flags + ["-o", "clang.o"], in: directory)
        return (directory, ["ours.o", "clang.o"])
    }

    /// A strong `__kconfig` the configuration lacks, or whose value does not fit its type, stops
    /// the load with the variable named; libbpf refuses the same objects.
    @Test(arguments: [
        ("missing", "extern _Bool CONFIG_SWIFTBPF_NO_SUCH_OPTION __kconfig;", "CONFIG_SWIFTBPF_NO_SUCH_OPTION",
         "__kconfig 'CONFIG_SWIFTBPF_NO_SUCH_OPTION': not set in "),
        ("letter_for_int", "extern int CONFIG_BPF_SYSCALL __kconfig;", "CONFIG_BPF_SYSCALL",
         "__kconfig 'CONFIG_BPF_SYSCALL': value 'y' implies bool, enum libbpf_tristate or char"),
        ("unsupported_type", "extern long *CONFIG_BPF_SYSCALL __kconfig;", "!!CONFIG_BPF_SYSCALL",
         "__kconfig 'CONFIG_BPF_SYSCALL': type is unsupported"),
        ("unknown_linux", "extern int LINUX_SWIFTBPF_NO_SUCH_VALUE __kconfig;", "LINUX_SWIFTBPF_NO_SUCH_VALUE",
         "__kconfig 'LINUX_SWIFTBPF_NO_SUCH_VALUE': not a kernel configuration option"),
    ])
    func unresolvableKconfigIsAnError(_ name: String, _ declaration: String, _ use: String, _ message: String) async throws {
        try KernelCapability.bpf.require()
        let (directory, objects) = try await Self.objects(name, """
            \(declaration)
            int seen;
            SEC("syscall") int prog(void *ctx) { seen = \(use); return 0; }
            """)
        for object in objects {
            let ours = try await runProcess(try await Tools.ours("swiftbpf"), ["run", object], in: directory)
            #expect(ours.status == 1, "\(object): \(ours.transcript)")
            #expect(ours.stderr.contains(message), "\(object): \(ours.stderr)")
            let libbpf = try await runProcess(try await Tools.libbpfRun.value, [object, "--prog", "prog"], in: directory)
            #expect(libbpf.status != 0, "libbpf loaded \(object): \(libbpf.transcript)")
        }
    }

    /// A typed per-CPU kernel variable: `cpu_number` holds each CPU's own number. The kernel
    /// resolves the BTF id to an address through kallsyms, which lists variables only with
    /// CONFIG_KALLSYMS_ALL; without it, the kernel refuses the program, for clang's object and
    /// under libbpf alike.
    @Test func perCPUKernelVariable() async throws {
        try KernelCapability.bpf.require()
        let (directory, objects) = try await Self.objects("per_cpu", """
            extern const int cpu_number __ksym;
            int this_cpu_matches, cpus, cpus_matching;
            SEC("syscall") int per_cpu(void *ctx)
            {
            	const int *mine = bpf_this_cpu_ptr(&cpu_number);
            	this_cpu_matches = *mine == bpf_get_smp_processor_id();
            	for (int i = 0; i < 4096; i++) {
            		const int *theirs = bpf_per_cpu_ptr(&cpu_number, i);
            		if (!theirs)
            			break;
            		cpus++;
            		cpus_matching += *theirs == i;
            	}
            	return 0;
            }
            """)
        let kernel = try await RunningKernel.read(in: directory)
        // "0-3" or "0": the CPUs the kernel has per-CPU areas for (nr_cpu_ids).
        let possible = try String(contentsOfFile: "/sys/devices/system/cpu/possible", encoding: .utf8)
        let possibleCount = (Int(possible.split(separator: "-").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0) + 1
        let arguments = ["--prog", "per_cpu", "--get", "this_cpu_matches", "--get", "cpus", "--get", "cpus_matching"]
        for object in objects {
            let ours = try await runProcess(try await Tools.ours("swiftbpf"), ["run", object] + arguments, in: directory)
            let libbpf = try await runProcess(try await Tools.libbpfRun.value, [object] + arguments, in: directory)
            if kernel.isYes("CONFIG_KALLSYMS_ALL") {
                #expect(ours.status == 0, "\(object): \(ours.transcript)")
                #expect(Self.values(ours.stdout) == ["per_cpu retval": "0", "this_cpu_matches": "1",
                                                     "cpus": String(possibleCount), "cpus_matching": String(possibleCount)])
                #expect(libbpf.stdout == ours.stdout, "\(object): \(libbpf.transcript)")
            } else {
                #expect(ours.status == 1)
                #expect(ours.stderr.contains("ldimm64 failed to find the address for kernel symbol 'cpu_number'"),
                        "\(object): \(ours.transcript)")
                #expect(libbpf.status != 0, "\(object): \(libbpf.transcript)")
            }
        }
    }
}
