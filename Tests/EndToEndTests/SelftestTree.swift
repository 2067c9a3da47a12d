// The kernel 6.12 BPF selftests' arena programs (and iters_task_vma, for bpf_cmp_unlikely), from Debian's linux-source-6.12 tarball: the
// part of the tree they need is unpacked under .build and libbpf 1.5 is built from it, once per
// tarball; vmlinux.h comes from the running kernel's BTF on each run. Nothing of the tarball is
// kept in the repository.
import Foundation
import Testing

/// The unpacked selftests, libbpf 1.5 built from them, and our driver linked against it.
struct SelftestTree: Sendable {
    /// The tarball's top directory (`linux-source-6.12`, as far as it is unpacked).
    var source: URL
    /// tools/testing/selftests/bpf, where the Makefile compiles from.
    var selftests: URL
    /// The Makefile's INCLUDE_DIR: libbpf's installed headers and vmlinux.h.
    var includeDirectory: URL
    /// libbpf.a, version 1.5, built from the tarball.
    var libbpf: URL
    /// Tests/Support/arena_compat_driver.c linked against `libbpf`.
    var driver: String
    /// test_progs' command line for one BPF object, from the Makefile (`SelftestsMakefile`).
    var buildRule: SelftestBuildRule
}

/// Where the tree comes from and whether it could be had.
enum SelftestTreeAvailability: Sendable {
    case ready(SelftestTree)
    /// The tarball is not installed and could not be (no network, no root): the tests skip.
    case unavailable(String)
}

enum KernelSelftests {
    static let package = "linux-source-6.12"
    static let tarball = URL(fileURLWithPath: "/usr/src/linux-source-6.12.tar.xz")
    static let cache = Paths.package.appendingPathComponent(".build/kernel-selftests")

    /// What is unpacked, below the tarball's top directory: libbpf and what its Makefile
    /// includes, the helper-definitions generator, and the selftests' headers and arena programs.
    static let members = [
        "tools/lib/bpf", "tools/include", "tools/arch/x86/include", "tools/scripts", "tools/build",
        "scripts/bpf_doc.py",
        "tools/testing/selftests/bpf/Makefile", "tools/testing/selftests/bpf/*.h",
        "tools/testing/selftests/bpf/gnu",
        "tools/testing/selftests/bpf/progs/arena_*.c", "tools/testing/selftests/bpf/progs/verifier_arena*.c",
        "tools/testing/selftests/bpf/progs/iters_task_vma.c",
    ]

    /// Set up once per test run.
    static let tree = Task<SelftestTreeAvailability, any Error> {
        guard try await ensureTarball() else {
            let reason = "\(tarball.path) is missing and `apt-get install \(package)` failed"
            print("skipping the kernel 6.12 selftests: \(reason)")
            return .unavailable(reason)
        }
        let source = try await unpackAndBuild()
        let selftests = source.appendingPathComponent("tools/testing/selftests/bpf")
        let includeDirectory = cacheDirectory(of: source).appendingPathComponent("include")
        try await writeVmlinuxHeader(into: includeDirectory)
        let libbpf = cacheDirectory(of: source).appendingPathComponent("libbpf/libbpf.a")
        let makefile = try SelftestsMakefile(contentsOf: selftests.appendingPathComponent("Makefile"))
        let rule = try await makefile.testProgsBuildRule(selftests: selftests, includeDirectory: includeDirectory)
        let driver = try await buildDriver(selftests: selftests, source: source, includeDirectory: includeDirectory,
                                           libbpf: libbpf)
        return .ready(SelftestTree(source: source, selftests: selftests, includeDirectory: includeDirectory,
                                   libbpf: libbpf, driver: driver, buildRule: rule))
    }

    /// The tree, or the test is skipped (cancelled) with the reason it cannot be had.
    static func require() async throws -> SelftestTree {
        switch try await tree.value {
        case .ready(let tree): return tree
        case .unavailable(let reason): try Test.cancel(Comment(rawValue: reason))
        }
    }

    /// Installs the package when its tarball is missing, as scripts/install-deps.sh would.
    private static func ensureTarball() async throws -> Bool {
        if FileManager.default.fileExists(atPath: tarball.path) { return true }
        let apt = getuid() == 0 ? ["/usr/bin/apt-get"] : ["/usr/bin/sudo", "-n", "/usr/bin/apt-get"]
        for step in [["update", "-q"], ["install", "-y", "-q", package]] {
            let result = try await runProcess(apt[0], Array(apt.dropFirst()) + step, in: Paths.package, timeout: 600)
            if result.status != 0 {
                print("\(apt.joined(separator: " ")) \(step.joined(separator: " ")): \(result.transcript)")
                return false
            }
        }
        return FileManager.default.fileExists(atPath: tarball.path)
    }

    private static func cacheDirectory(of source: URL) -> URL { source.deletingLastPathComponent() }

    /// Unpacks `members` and builds libbpf unless the cache already holds them for this tarball
    /// (same size and modification time, same members); returns the unpacked top directory.
    private static func unpackAndBuild() async throws -> URL {
        let attributes = try FileManager.default.attributesOfItem(atPath: tarball.path)
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        let modified = Int64((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
        let directory = cache.appendingPathComponent("\(size)-\(modified)")
        let source = directory.appendingPathComponent(package)
        let stamp = directory.appendingPathComponent("complete")
        let stampText = ([tarball.path] + members).joined(separator: "\n")
        if (try? String(contentsOf: stamp, encoding: .utf8)) == stampText { return source }

        try? FileManager.default.removeItem(at: cache)
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        // Unpacking reads the whole 140 MB xz stream, and on two busy cores (the rest of the suite
        // runs beside it) that takes minutes, not the seconds a tool's run gets.
        _ = try await runChecked("/bin/tar", ["-xJf", tarball.path, "-C", source.path, "--strip-components=1",
                                              "--wildcards"] + members.map { "\(package)/\($0)" }, in: directory,
                                 timeout: 900)
        // As the selftests' Makefile builds it: objects in a scratch OUTPUT, headers installed
        // under DESTDIR with an empty prefix, so that they land in INCLUDE_DIR/bpf.
        let libbpfOutput = directory.appendingPathComponent("libbpf")
        try FileManager.default.createDirectory(at: libbpfOutput, withIntermediateDirectories: true)
        _ = try await runChecked(try which("make"), [
            "-j2", "-C", source.appendingPathComponent("tools/lib/bpf").path,
            "OUTPUT=\(libbpfOutput.path)/", "DESTDIR=\(directory.path)", "prefix=", "BUILD_STATIC_ONLY=1",
            libbpfOutput.appendingPathComponent("libbpf.a").path, "install_headers",
        ], in: directory, timeout: 900)
        try stampText.write(to: stamp, atomically: true, encoding: .utf8)
        return source
    }

    /// vmlinux.h from the running kernel's BTF, as the Makefile's `$(INCLUDE_DIR)/vmlinux.h` rule
    /// makes it; rewritten only when it changes.
    private static func writeVmlinuxHeader(into includeDirectory: URL) async throws {
        let header = try await runChecked(try which("bpftool"),
                                          ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"],
                                          in: includeDirectory)
        let path = includeDirectory.appendingPathComponent("vmlinux.h")
        if (try? String(contentsOf: path, encoding: .utf8)) != header {
            try header.write(to: path, atomically: true, encoding: .utf8)
        }
    }

    private static func buildDriver(selftests: URL, source: URL, includeDirectory: URL, libbpf: URL)
        async throws -> String
    {
        let directory = try Paths.workDirectory("kernel-selftests-driver")
        let binary = directory.appendingPathComponent("arena_compat_driver").path
        _ = try await runChecked(try which("cc"), [
            "-O2", "-Wall", "-Werror", "-I", includeDirectory.path,
            "-I", source.appendingPathComponent("tools/include/uapi").path, "-I", selftests.path,
            "-o", binary, Paths.support.appendingPathComponent("arena_compat_driver.c").path,
            libbpf.path, "-lelf", "-lz", "-lpthread",
        ], in: directory)
        return binary
    }
}

/// test_progs' compile command for one BPF object, with the compiler, source and object left
/// open: `arguments(compiler:source:object:)` fills them in.
struct SelftestBuildRule: Sendable {
    fileprivate static let compilerSlot = "\u{1}CLANG", sourceSlot = "\u{1}1", objectSlot = "\u{1}2"
    var words: [String]
    /// Per-file flags the Makefile adds (`progs/FILE.c-CFLAGS`), by source path.
    var fileFlags: [String: [String]]

    /// The whole command line, the compiler first; `source` as the Makefile names it
    /// (`progs/arena_list.c`, relative to the selftests directory) or an absolute path.
    func arguments(compiler: String, source: String, object: String) -> [String] {
        words.flatMap { word -> [String] in
            switch word {
            case Self.compilerSlot: [compiler]
            case Self.sourceSlot: [source]
            case Self.objectSlot: [object]
            case Self.fileFlagsSlot: fileFlags[source] ?? []
            default: [word]
            }
        }
    }

    fileprivate static let fileFlagsSlot = "\u{1}FILE-CFLAGS"
}

/// The Makefile of tools/testing/selftests/bpf, read only as far as the BPF objects' command
/// line goes: test_progs' TRUNNER_BPF_CFLAGS and TRUNNER_BPF_BUILD_RULE, with the variables they
/// name expanded. A reference this does not know fails the test, so a changed Makefile is noticed
/// rather than half-followed.
struct SelftestsMakefile {
    var lines: [String]

    init(contentsOf url: URL) throws {
        // Continuation lines joined, so that each definition is one line.
        let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\\\n", with: " ")
        lines = text.components(separatedBy: "\n")
    }

    /// The first `NAME = …` or `NAME := …` at the start of a line.
    func definition(_ name: String) throws -> String {
        for line in lines {
            guard line.hasPrefix(name) else { continue }
            let rest = line.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
            for assignment in [":=", "="] where rest.hasPrefix(assignment) {
                return String(rest.dropFirst(assignment.count)).trimmingCharacters(in: .whitespaces)
            }
        }
        throw HarnessError(description: "the selftests' Makefile does not define \(name)")
    }

    /// test_progs' flags and rule: the two assignments just before its DEFINE_TEST_RUNNER.
    func testProgsBuildRule(selftests: URL, includeDirectory: URL) async throws -> SelftestBuildRule {
        guard let eval = lines.firstIndex(of: "$(eval $(call DEFINE_TEST_RUNNER,test_progs))"), eval >= 2,
              lines[eval - 2].hasPrefix("TRUNNER_BPF_BUILD_RULE :="), lines[eval - 1].hasPrefix("TRUNNER_BPF_CFLAGS :=")
        else { throw HarnessError(description: "the Makefile's test_progs runner is not where it was") }
        let ruleName = lines[eval - 2].dropFirst("TRUNNER_BPF_BUILD_RULE :=".count).trimmingCharacters(in: .whitespaces)
        let flags = String(lines[eval - 1].dropFirst("TRUNNER_BPF_CFLAGS :=".count))
        guard let start = lines.firstIndex(of: "define \(ruleName)"),
              let command = lines[start...].prefix(while: { $0 != "endef" }).first(where: { $0.contains("$(CLANG)") })
        else { throw HarnessError(description: "the Makefile has no command in \(ruleName)") }

        var bindings = [
            "CURDIR": selftests.path, "OUTPUT": selftests.path, "INCLUDE_DIR": includeDirectory.path,
            "SRCARCH": "x86", "Q": "", "CLANG": SelftestBuildRule.compilerSlot,
            "$1": SelftestBuildRule.sourceSlot, "$2": SelftestBuildRule.objectSlot,
            "CLANG_CFLAGS": try await clangSystemIncludes().joined(separator: " "),
        ]
        // MENDIAN: x86 is little-endian, which the Makefile finds out from $(CC).
        bindings["MENDIAN"] = "-mlittle-endian"
        // The per-file flags, `$$($$<-CFLAGS)` in DEFINE_TEST_RUNNER_RULES, stand after the runner's.
        bindings["$3"] = try expand(flags, bindings, relativeTo: selftests) + " " + SelftestBuildRule.fileFlagsSlot
        let words = try expand(command, bindings, relativeTo: selftests).split(whereSeparator: \.isWhitespace)
            .map(String.init)
        var fileFlags: [String: [String]] = [:]
        for line in lines {
            guard let range = line.range(of: ".c-CFLAGS :=") else { continue }
            let file = String(line[..<range.lowerBound]) + ".c"
            fileFlags[file] = line[range.upperBound...].split(whereSeparator: \.isWhitespace).map(String.init)
        }
        return SelftestBuildRule(words: words, fileFlags: fileFlags)
    }

    /// Expands `$(NAME)`, `$(abspath PATH)` and `$N` from `bindings`, else from the Makefile's
    /// definitions; anything else is an error.
    func expand(_ text: String, _ bindings: [String: String], relativeTo directory: URL) throws -> String {
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let after = rest.index(after: dollar)
            guard after < rest.endIndex else { throw HarnessError(description: "a lone $ in `\(text)`") }
            if rest[after].isNumber {
                let name = "$\(rest[after])"
                guard let value = bindings[name] else { throw HarnessError(description: "\(name) in `\(text)`") }
                result += value
                rest = rest[rest.index(after: after)...]
                continue
            }
            guard rest[after] == "(" else { throw HarnessError(description: "an unknown reference in `\(text)`") }
            var depth = 0
            var close = after
            for index in rest[after...].indices {
                if rest[index] == "(" { depth += 1 }
                if rest[index] == ")" { depth -= 1 }
                if depth == 0 { close = index; break }
            }
            let inner = String(rest[rest.index(after: after)..<close])
            if inner.hasPrefix("abspath ") {
                let path = try expand(String(inner.dropFirst("abspath ".count)), bindings, relativeTo: directory)
                result += URL(fileURLWithPath: path, relativeTo: directory).standardizedFileURL.path
            } else if let value = bindings[inner] {
                result += value
            } else if inner.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                result += try expand(try definition(inner), bindings, relativeTo: directory)
            } else {
                throw HarnessError(description: "the Makefile's `$(\(inner))` is not understood here")
            }
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    /// CLANG_CFLAGS, which the Makefile's get_sys_includes makes from `$(CLANG) -v -E -`: each
    /// directory of clang's `#include <...>` search list as `-idirafter DIR`. (Its other parts
    /// apply to riscv, loongarch and mips only.)
    private func clangSystemIncludes() async throws -> [String] {
        let directory = try Paths.workDirectory("kernel-selftests-includes")
        let result = try await runProcess(try which("clang-19"), ["-v", "-E", "-"], in: directory)
        guard result.status == 0 else { throw HarnessError(description: "clang-19 -v -E -: \(result.transcript)") }
        var inList = false
        var flags: [String] = []
        for line in result.stderr.split(separator: "\n") {
            if line.hasPrefix("#include <...> search starts here:") { inList = true; continue }
            if line.hasPrefix("End of search list.") { break }
            if inList, line.hasPrefix(" /") { flags += ["-idirafter", line.trimmingCharacters(in: .whitespaces)] }
        }
        return flags
    }
}
