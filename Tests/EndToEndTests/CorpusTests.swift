// The end-to-end corpus: each Corpus/*.c file runs natively (cc) and as BPF in the kernel,
// and both must print the same lines. Three BPF paths are checked against the native run:
// clang's object under libbpf (which validates the corpus itself), our object under
// `swiftbpf run`, and our object under libbpf (libbpf must accept what we write).
import Foundation
import Testing

/// One step of a `// RUN:` directive; the directive is exactly the `swiftbpf run` arguments.
enum RunAction: Sendable, Equatable {
    case prog(String)
    case set(variable: String, value: String)
    case get(String)
}

/// A corpus file and the directives in its header comment.
struct CorpusProgram: Sendable, CustomTestStringConvertible {
    var source: URL
    /// The `// RUN:` words, passed unchanged to `swiftbpf run` and libbpf_run after the object.
    var runArguments: [String]
    /// Extra compiler options from `// CFLAGS:` (e.g. `-mcpu=v4`), given to clang and to swiftbpfcc.
    var compilerFlags: [String]

    var name: String { source.deletingPathExtension().lastPathComponent }
    var testDescription: String { source.lastPathComponent }

    static let all: [CorpusProgram] = Paths.cFiles(in: Paths.corpus).map { CorpusProgram(source: $0) }

    init(source: URL) {
        self.source = source
        let text = (try? String(contentsOf: source, encoding: .utf8)) ?? ""
        func directive(_ prefix: String) -> [String] {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return [] }
            return line.dropFirst(prefix.count).split(separator: " ").map(String.init)
        }
        runArguments = directive("// RUN:")
        compilerFlags = directive("// CFLAGS:")
    }

    /// The RUN words as actions, or a description of what is malformed.
    func actions() throws -> [RunAction] {
        var actions: [RunAction] = []
        var words = runArguments[...]
        while let option = words.popFirst() {
            guard let operand = words.popFirst() else {
                throw HarnessError(description: "\(option) has no operand in the RUN line")
            }
            switch option {
            case "--prog":
                actions.append(.prog(operand))
            case "--get":
                actions.append(.get(operand))
            case "--set":
                let parts = operand.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, Int64(parts[1]) != nil || UInt64(parts[1]) != nil else {
                    throw HarnessError(description: "--set wants VAR=DECIMAL, got \(operand)")
                }
                actions.append(.set(variable: parts[0], value: parts[1]))
            default:
                throw HarnessError(description: "unknown RUN option \(option)")
            }
        }
        return actions
    }

    /// A C driver that includes the corpus file (static globals included), applies the --set
    /// values, runs the programs and prints the --get globals: see Tests/Support/native_driver.h.
    func nativeDriver() throws -> String {
        var setup: [String] = []
        var steps: [String] = []
        for action in try actions() {
            switch action {
            case .set(let variable, let value):
                // The bit pattern, as the BPF loaders store it: the low bytes of a 64-bit value.
                let bits = Int64(value).map { UInt64(bitPattern: $0) } ?? UInt64(value) ?? 0
                setup.append("\t\(variable) = 0x\(String(bits, radix: 16))ull;")
            case .prog(let program):
                steps.append("\tSWIFTBPF_RUN(\(program));")
            case .get(let variable):
                steps.append("\tSWIFTBPF_GET(\(variable));")
            }
        }
        return """
            #include "\(source.path)"
            #include "native_driver.h"

            int main(void)
            {
            \((setup + steps).joined(separator: "\n"))
            \treturn 0;
            }

            """
    }
}

/// What each corpus file produces, made once per test run and shared by the tests that
/// compare against it (the tests run in parallel).
actor Artifacts {
    static let shared = Artifacts()

    private var directories: [String: URL] = [:]
    private var native: [String: Task<String, any Error>] = [:]
    private var ours: [String: Task<String, any Error>] = [:]

    /// The directory holding everything made for `program` (created afresh once per run).
    func directory(_ program: CorpusProgram) throws -> URL {
        if let directory = directories[program.name] { return directory }
        let directory = try Paths.workDirectory("corpus/\(program.name)")
        directories[program.name] = directory
        return directory
    }

    /// The output of the native build of `program`, compiled with UBSan so that a corpus file
    /// that relies on undefined behaviour fails here rather than differing in BPF.
    func nativeOutput(_ program: CorpusProgram) throws -> Task<String, any Error> {
        if let task = native[program.name] { return task }
        let directory = try directory(program)
        let task = Task<String, any Error> {
            let driver = directory.appendingPathComponent("driver.c")
            try program.nativeDriver().write(to: driver, atomically: true, encoding: .utf8)
            let binary = directory.appendingPathComponent("native").path
            _ = try await runChecked(try which("cc"), [
                "-std=gnu11", "-O2", "-fsanitize=undefined", "-fno-sanitize-recover=all",
                "-I", Paths.include.path, "-I", Paths.support.path, "-o", binary, driver.path,
            ], in: directory)
            return try await runChecked(binary, [], in: directory)
        }
        native[program.name] = task
        return task
    }

    /// The path of the object our compiler writes for `program`.
    func ourObject(_ program: CorpusProgram) throws -> Task<String, any Error> {
        if let task = ours[program.name] { return task }
        let directory = try directory(program)
        let task = Task<String, any Error> {
            let object = directory.appendingPathComponent("ours.o").path
            _ = try await runChecked(try await Tools.ours("swiftbpfcc"), [
                program.source.path, "-O2", "-g", "-I", Paths.include.path,
            ] + program.compilerFlags + ["-o", object], in: directory)
            guard FileManager.default.fileExists(atPath: object) else {
                throw HarnessError(description: "swiftbpfcc exited 0 but wrote no \(object)")
            }
            return object
        }
        ours[program.name] = task
        return task
    }

    /// clang's object for `program`: the reference the corpus is validated with.
    func clangObject(_ program: CorpusProgram) async throws -> String {
        let directory = try directory(program)
        let object = directory.appendingPathComponent("clang.o").path
        _ = try await runChecked(try which("clang-19"), [
            "-target", "bpf", "-O2", "-g", "-mcpu=v3",
        ] + program.compilerFlags + ["-I", Paths.include.path, "-c", program.source.path, "-o", object], in: directory)
        return object
    }
}

@Suite("End-to-end corpus")
struct CorpusTests {
    @Test func corpusIsThere() {
        #expect(CorpusProgram.all.count >= 15, "Corpus/ holds \(CorpusProgram.all.count) files")
    }

    /// The driver and the directive agree: one `NAME retval=R` per --prog, one `VAR=V` per --get.
    @Test(arguments: CorpusProgram.all)
    func nativeRunPrintsEveryStep(_ program: CorpusProgram) async throws {
        let actions = try program.actions()
        #expect(actions.contains { if case .prog = $0 { true } else { false } }, "RUN runs no program")
        let lines = try await Artifacts.shared.nativeOutput(program).value.split(separator: "\n").map(String.init)
        var expected: [String] = []
        for action in actions {
            switch action {
            case .prog(let name): expected.append("\(name) retval=")
            case .get(let name): expected.append("\(name)=")
            case .set: break
            }
        }
        try #require(lines.count == expected.count, "native output: \(lines)")
        for (line, prefix) in zip(lines, expected) {
            let value = line.dropFirst(prefix.count)
            #expect(line.hasPrefix(prefix) && (Int64(value) != nil || UInt64(value) != nil),
                    "\(line) is not \(prefix)<decimal>")
        }
    }

    /// (b) clang-19 + libbpf in the kernel must agree with the native run: this validates the corpus.
    @Test(.enabled("needs bpf()") { await Kernel.bpfPermitted() }, arguments: CorpusProgram.all)
    func clangObjectMatchesNative(_ program: CorpusProgram) async throws {
        let expected = try await Artifacts.shared.nativeOutput(program).value
        let object = try await Artifacts.shared.clangObject(program)
        let result = try await runProcess(try await Tools.libbpfRun.value, [object] + program.runArguments,
                                          in: try await Artifacts.shared.directory(program))
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.stdout == expected)
    }

    /// (c) our compiler's object, run by our loader, must agree with the native run.
    @Test(.enabled("needs bpf()") { await Kernel.bpfPermitted() }, arguments: CorpusProgram.all)
    func ourObjectMatchesNative(_ program: CorpusProgram) async throws {
        let expected = try await Artifacts.shared.nativeOutput(program).value
        let object = try await Artifacts.shared.ourObject(program).value
        let result = try await runProcess(try await Tools.ours("swiftbpf"), ["run", object] + program.runArguments,
                                          in: try await Artifacts.shared.directory(program))
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.stdout == expected)
    }

    /// (d) libbpf must load and run our compiler's object with the same results.
    @Test(.enabled("needs bpf()") { await Kernel.bpfPermitted() }, arguments: CorpusProgram.all)
    func libbpfRunsOurObject(_ program: CorpusProgram) async throws {
        let expected = try await Artifacts.shared.nativeOutput(program).value
        let object = try await Artifacts.shared.ourObject(program).value
        let result = try await runProcess(try await Tools.libbpfRun.value, [object] + program.runArguments,
                                          in: try await Artifacts.shared.directory(program))
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.stdout == expected)
    }
}
