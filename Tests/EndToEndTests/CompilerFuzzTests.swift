// Compiler fuzzing: the corpus files, mutated at random from a fixed seed (tokens and lines
// deleted, duplicated or swapped, numbers replaced by extremes, keywords inserted), compiled by
// the swiftbpfcc executable. Whatever the mutant, the compiler must finish in time with status 0
// or a clean error: a run that ends by a signal (a Swift trap is SIGILL) or hangs fails the test.
// Failing mutants stay in .build/e2e/compiler-fuzz to be reproduced by hand.
import Foundation
import IRTestSupport
import Testing

/// Random edits of C source, at the level of tokens and lines.
struct SourceMutator {
    var random: RandomSource

    /// Values that overflow widths, sizes and shifts.
    static let extremes = ["0", "-1", "1", "(1UL << 63)", "4294967296", "9223372036854775807", "0x7fffffff",
                           "(-2147483647 - 1)", "18446744073709551615UL", "65536", "1000000000", "63", "64"]
    /// Keywords and punctuation that change what the surrounding code means.
    static let insertions = ["static", "const", "volatile", "struct", "union", "return", "break;", "continue;",
                             "goto out;", "case 1:", "default:", "__attribute__((packed))", "sizeof", "*", "&",
                             "(", ")", "{", "}", ";", ",", "int", "long", "unsigned", "_Bool", "char", "void",
                             "__arena", "extern", "...", "[", "]", "[0]", ":3", "= 0", "->", ".", "!", "~", "?:"]

    /// `source` with one to three random edits.
    mutating func mutate(_ source: String) -> String {
        var text = source
        for _ in 0...random.below(3) {
            switch random.below(8) {
            case 0: text = editTokens(text) { tokens, i, _ in tokens.remove(at: i) }
            case 1: text = editTokens(text) { tokens, i, _ in tokens.insert(tokens[i], at: i) }
            case 2: text = editTokens(text) { tokens, i, _ in if i + 2 < tokens.count { tokens.swapAt(i, i + 2) } }
            case 3: text = editLines(text) { lines, i, _ in lines.remove(at: i) }
            case 4: text = editLines(text) { lines, i, _ in lines.insert(lines[i], at: i) }
            case 5: text = editLines(text) { lines, i, j in lines.swapAt(i, j) }
            case 6: text = replaceNumber(text)
            default:
                let word = random.pick(Self.insertions)
                text = editTokens(text) { tokens, i, _ in tokens.insert(" \(word) ", at: i) }
            }
        }
        return text
    }

    /// Splits into identifiers and numbers, runs of spaces, and single other characters.
    static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        func kind(_ c: Character) -> Int { c.isLetter || c.isNumber || c == "_" ? 0 : c.isWhitespace ? 1 : 2 }
        for c in text {
            if let last = current.last, kind(last) == kind(c), kind(c) != 2 {
                current.append(c)
            } else {
                if !current.isEmpty { tokens.append(current) }
                current = String(c)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// Applies `edit` at a random token past the header comment (whose directives must survive).
    private mutating func editTokens(_ text: String, _ edit: (inout [String], Int, Int) -> Void) -> String {
        let (header, body) = splitHeader(text)
        var tokens = Self.tokens(body)
        guard !tokens.isEmpty else { return text }
        edit(&tokens, random.below(tokens.count), random.below(tokens.count))
        return header + tokens.joined()
    }

    private mutating func editLines(_ text: String, _ edit: (inout [String], Int, Int) -> Void) -> String {
        let (header, body) = splitHeader(text)
        var lines = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return text }
        edit(&lines, random.below(lines.count), random.below(lines.count))
        return header + lines.joined(separator: "\n")
    }

    private mutating func replaceNumber(_ text: String) -> String {
        let (header, body) = splitHeader(text)
        var tokens = Self.tokens(body)
        let numbers = tokens.indices.filter { tokens[$0].first?.isNumber ?? false }
        guard !numbers.isEmpty else { return text }
        tokens[random.pick(numbers)] = random.pick(Self.extremes)
        return header + tokens.joined()
    }

    /// The leading `//` comment lines, kept as they are, and the rest.
    private func splitHeader(_ text: String) -> (String, String) {
        var header = ""
        var rest = text[...]
        while rest.hasPrefix("//"), let end = rest.firstIndex(of: "\n") {
            header += rest[...end]
            rest = rest[rest.index(after: end)...]
        }
        return (header, String(rest))
    }
}

@Suite("Compiler fuzzing")
struct CompilerFuzzTests {
    static let seed: UInt64 = 0x5eed_c0de_0008
    static let mutantCount = 800
    /// Far above any honest compile of a corpus-sized file (well under a second, though the first
    /// compiles of a full test run, started while every suite starts its own work on two cores,
    /// were seen to take over 30 s), far below the minutes a runaway expansion takes.
    static let timeLimit = 60.0

    /// A constant index whose byte offset overflows 64 bits once trapped the compiler. Reading it
    /// is undefined, so nothing runs: clang warns and compiles it, and so must we.
    @Test func farConstantIndexCompilesWithClangsWarning() async throws {
        let directory = try Paths.workDirectory("compiler-fuzz-far-index")
        let source = directory.appendingPathComponent("far.c")
        try """
            long table[4];
            __attribute__((section("syscall"), used)) int prog(void *ctx)
            {
            \treturn table[0x4000000000000000L] + table[-0x7fffffffffffffffL];
            }

            """.write(to: source, atomically: true, encoding: .utf8)
        let result = try await runProcess(try await Tools.ours("swiftbpfcc"), [source.path, "-O2", "-o", "far.o"],
                                          in: directory, timeout: Self.timeLimit)
        #expect(result.status == 0 && !result.signaled, "\(result.transcript)")
        #expect(result.stderr.contains("warning: array index 4611686018427387904 is past the end"), "\(result.transcript)")
    }

    /// BTF sizes and counts are 32 bits; a pointer to a type past 4 GiB once trapped the compiler.
    /// clang keeps the low 32 bits (a zero count here, as `bpftool btf dump` shows), and so do we.
    @Test func pointersToTypesPastFourGiBCompile() async throws {
        let directory = try Paths.workDirectory("compiler-fuzz-huge-types")
        let source = directory.appendingPathComponent("huge.c")
        try """
            char (*rows)[1L << 40];
            struct wide { char bytes[1L << 33]; int tail; } *wide;
            __attribute__((section("syscall"), used)) int prog(void *ctx)
            {
            \treturn rows != 0 && wide != 0;
            }

            """.write(to: source, atomically: true, encoding: .utf8)
        let result = try await runProcess(try await Tools.ours("swiftbpfcc"), [source.path, "-O2", "-g", "-o", "huge.o"],
                                          in: directory, timeout: Self.timeLimit)
        #expect(result.status == 0 && !result.signaled, "\(result.transcript)")
    }

    @Test func mutatedCorpusNeverTrapsOrHangs() async throws {
        let directory = try Paths.workDirectory("compiler-fuzz")
        let sources = try Paths.cFiles(in: Paths.corpus).map { try String(contentsOf: $0, encoding: .utf8) }
        try #require(!sources.isEmpty)
        var mutator = SourceMutator(random: RandomSource(state: Self.seed))
        var mutants: [(name: String, flags: [String])] = []
        for index in 0..<Self.mutantCount {
            let name = "mutant-\(index).c"
            let text = mutator.mutate(mutator.random.pick(sources))
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
            let flags = [["-O2"], ["-O0"], ["-O2", "-mcpu=v4"]][index % 3]
            mutants.append((name, flags))
        }

        let compiler = try await Tools.ours("swiftbpfcc")
        var problems: [String] = []
        var errors = 0
        // Two compiles at a time: the machines this runs on have two cores.
        for batch in stride(from: 0, to: mutants.count, by: 2) {
            let results = try await withThrowingTaskGroup(of: (String, ProcessResult).self) { group in
                for (name, flags) in mutants[batch..<min(batch + 2, mutants.count)] {
                    group.addTask {
                        let arguments = [name, "-g", "-I", Paths.include.path] + flags + ["-o", name + ".o"]
                        return (name, try await runProcess(compiler, arguments, in: directory, timeout: Self.timeLimit))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for (name, result) in results {
                if result.timedOut {
                    problems.append("\(name): still compiling after \(Self.timeLimit) s")
                } else if result.signaled {
                    problems.append("\(name): killed by signal \(result.status)\n\(result.stderr.prefix(2000))")
                } else {
                    if result.status != 0 { errors += 1 }
                    try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
                    try? FileManager.default.removeItem(at: directory.appendingPathComponent(name + ".o"))
                }
            }
        }
        print("CompilerFuzzTests: \(mutants.count) mutants, \(errors) rejected with an error, \(problems.count) traps or hangs")
        #expect(problems.isEmpty, "\(problems.count) of \(mutants.count) mutants (in \(directory.path)):\n\(problems.joined(separator: "\n"))")
        // Mutants that all compile or all fail would not be exercising both paths.
        #expect(errors > 0 && errors < mutants.count)
    }
}
