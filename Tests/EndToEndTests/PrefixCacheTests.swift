// The precompiled prefix cache (Sources/CompilerDriver/PrefixCache.swift): a program whose first
// lines include a large header is parsed against a precompiled header from its second build on;
// the object is the same either way, and an edited header is read again, not taken from the cache.
import Foundation
import Testing

@Suite("Prefix cache")
struct PrefixCacheTests {
    /// A header well over the cache's threshold: struct definitions, with `ANSWER` at the top.
    static func largeHeader(answer: Int) -> String {
        var text = "#ifndef LARGE_H\n#define LARGE_H\n#define ANSWER \(answer)\n"
        for i in 0..<8000 {
            text += "struct filler_\(i) { long a_\(i); int b_\(i)[\(i % 7 + 1)]; struct filler_\(i) *next; };\n"
        }
        return text + "#endif\n"
    }

    static let program = """
        // A program reading a constant and a type from the large header.
        #include "large.h"
        #include <swiftbpf.h>

        char LICENSE[] SEC("license") = "GPL";
        SEC("syscall") int prog(void *ctx) { return ANSWER + sizeof(struct filler_5) - 64; }

        """

    struct Build {
        var usedPrecompiledHeader: Bool
        var startedPrecompiling: Bool
        var object: Data
        var retval: String
    }

    /// Compiles prog.c with -v and runs its program.
    static func build(in directory: URL, cache: URL, output: String, flags: [String] = []) async throws -> Build {
        let result = try await runProcess(try await Tools.ours("swiftbpfcc"),
                                          ["-v", "-O2", "-g", "-I", Paths.include.path] + flags + ["prog.c", "-o", output],
                                          in: directory, environment: ["XDG_CACHE_HOME": cache.path])
        try #require(result.status == 0, "\(result.transcript)")
        let run = try await runProcess(try await Tools.ours("swiftbpf"), ["run", output, "--prog", "prog"], in: directory)
        try #require(run.status == 0, "\(run.transcript)")
        return Build(usedPrecompiledHeader: result.stderr.contains("-include-pch"),
                     startedPrecompiling: result.stderr.contains("precompiling lines 1-4 of prog.c"),
                     object: try Data(contentsOf: directory.appendingPathComponent(output)),
                     retval: run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Waits for the detached process a build started to leave an entry for the headers as they are.
    static func waitForEntry(_ cache: URL, count: Int) async throws {
        let directory = cache.appendingPathComponent("swiftbpfcc")
        for _ in 0..<600 {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            if names.filter({ $0.hasSuffix(".prefix") }).count >= count { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw HarnessError(description: "no cache entry in \(directory.path) after 60 s")
    }

    @Test func secondBuildUsesThePrecompiledPrefixAndAnEditedHeaderIsReadAgain() async throws {
        let directory = try Paths.workDirectory("prefix-cache")
        let cache = directory.appendingPathComponent("cache")
        let header = directory.appendingPathComponent("large.h")
        try Self.largeHeader(answer: 41).write(to: header, atomically: true, encoding: .utf8)
        try Self.program.write(to: directory.appendingPathComponent("prog.c"), atomically: true, encoding: .utf8)
        // sizeof(struct filler_5) is 8 + 4 * 6 + 8 = 40 bytes, 24 below 64.
        let first = try await Self.build(in: directory, cache: cache, output: "first.o")
        #expect(!first.usedPrecompiledHeader)
        #expect(first.startedPrecompiling)
        #expect(first.retval == "prog retval=17")
        try await Self.waitForEntry(cache, count: 1)
        let second = try await Self.build(in: directory, cache: cache, output: "second.o")
        #expect(second.usedPrecompiledHeader)
        #expect(second.object == first.object)
        #expect(second.retval == first.retval)

        // One byte of the header changes: the cache's entry no longer applies.
        try Self.largeHeader(answer: 42).write(to: header, atomically: true, encoding: .utf8)
        let edited = try await Self.build(in: directory, cache: cache, output: "edited.o")
        #expect(!edited.usedPrecompiledHeader)
        #expect(edited.retval == "prog retval=18")
        try await Self.waitForEntry(cache, count: 1)
        let again = try await Self.build(in: directory, cache: cache, output: "again.o")
        #expect(again.usedPrecompiledHeader)
        #expect(again.object == edited.object)
        #expect(again.retval == "prog retval=18")
    }

    /// A flag that changes what the prefix means (-D) is a different entry.
    @Test func preprocessorFlagsAreInTheKey() async throws {
        let directory = try Paths.workDirectory("prefix-cache-flags")
        let cache = directory.appendingPathComponent("cache")
        try Self.largeHeader(answer: 41)
            .replacingOccurrences(of: "#define ANSWER 41", with: "#ifndef ANSWER\n#define ANSWER 41\n#endif")
            .write(to: directory.appendingPathComponent("large.h"), atomically: true, encoding: .utf8)
        try Self.program.write(to: directory.appendingPathComponent("prog.c"), atomically: true, encoding: .utf8)
        let first = try await Self.build(in: directory, cache: cache, output: "first.o")
        #expect(first.retval == "prog retval=17")
        try await Self.waitForEntry(cache, count: 1)
        #expect(try await Self.build(in: directory, cache: cache, output: "second.o").usedPrecompiledHeader)
        let defined = try await Self.build(in: directory, cache: cache, output: "defined.o", flags: ["-DANSWER=50"])
        #expect(!defined.usedPrecompiledHeader)
        #expect(defined.retval == "prog retval=26")
    }
}
