// The end-to-end corpus: each Corpus/*.c file runs natively (cc) and as BPF in the kernel,
// and both must print the same lines. Three BPF paths are checked against the native run:
// clang's object under libbpf (which validates the corpus itself), our object under
// `swiftbpf run`, and our object under libbpf (libbpf must accept what we write).
import Foundation
import KernelTestSupport
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
    /// `// LOADER: swiftbpf`: the object uses an arena, which Debian's libbpf 1.1 predates, so
    /// clang's object runs under our loader and libbpf is not asked to load ours.
    var needsArenaLoader: Bool
    /// `// CLANG: fails <regex>`: clang's object must fail to compile or load, with a message
    /// matching the regex: a clang bug or limit that swiftbpfcc does not share.
    var clangFailure: String?
    /// `// O0: fails <regex>`: unoptimized, our object must be refused by the verifier with a message
    /// matching the regex: the program relies on what optimization shows the verifier (values kept
    /// in registers rather than reloaded from memory), as clang's -O0 object would too.
    var unoptimizedFailure: String?

    var name: String { source.deletingPathExtension().lastPathComponent }
    /// What running the program needs from the kernel: an arena map, or bpf() alone.
    var kernelCapability: KernelCapability { needsArenaLoader ? .arena : .bpf }
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
        needsArenaLoader = directive("// LOADER:") == ["swiftbpf"]
        let clang = directive("// CLANG:")
        clangFailure = clang.first == "fails" ? clang.dropFirst().joined(separator: " ") : nil
        let unoptimized = directive("// O0:")
        unoptimizedFailure = unoptimized.first == "fails" ? unoptimized.dropFirst().joined(separator: " ") : nil
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

/// How our compiler builds a corpus file: optimized or not (at -O0 every call stays a BPF-to-BPF
/// call), for the v3 or the v4 instruction set, or for what the file's own CFLAGS say.
struct BuildVariant: Sendable, Hashable, CustomTestStringConvertible {
    var optimize = true
    var cpu: String?

    static let all = [true, false].flatMap { optimize in ["v3", "v4"].map { BuildVariant(optimize: optimize, cpu: $0) } }

    var flags: [String] { [optimize ? "-O2" : "-O0"] + (cpu.map { ["-mcpu=\($0)"] } ?? []) }
    /// Names this variant's object, empty for the default.
    var suffix: String { self == BuildVariant() ? "" : "-" + flags.joined().replacingOccurrences(of: "-mcpu=", with: "") }
    var testDescription: String { flags.joined(separator: " ") }
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

    /// The path of the object our compiler writes for `program` in `variant` (by default -O2 for v3).
    func ourObject(_ program: CorpusProgram, _ variant: BuildVariant = .init()) throws -> Task<String, any Error> {
        let key = program.name + variant.suffix
        if let task = ours[key] { return task }
        let directory = try directory(program)
        let task = Task<String, any Error> {
            let object = directory.appendingPathComponent("ours\(variant.suffix).o").path
            // The variant's CPU comes last: it overrides a `-mcpu=v4` that the file asks of clang.
            _ = try await runChecked(try await Tools.ours("swiftbpfcc"), [
                program.source.path, "-g", "-I", Paths.include.path,
            ] + program.compilerFlags + variant.flags + ["-o", object], in: directory)
            guard FileManager.default.fileExists(atPath: object) else {
                throw HarnessError(description: "swiftbpfcc exited 0 but wrote no \(object)")
            }
            return object
        }
        ours[key] = task
        return task
    }

    /// clang's compile of `program`, the reference the corpus is validated with.
    func compileWithClang(_ program: CorpusProgram) async throws -> (object: String, result: ProcessResult) {
        let directory = try directory(program)
        let object = directory.appendingPathComponent("clang.o").path
        let result = try await runProcess(try which("clang-19"), [
            "-target", "bpf", "-O2", "-g", "-mcpu=v3",
        ] + program.compilerFlags + [
            "-I", Paths.include.path, "-I", "/usr/include/x86_64-linux-gnu", "-c", program.source.path, "-o", object,
        ], in: directory)
        return (object, result)
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

    /// (b) clang-19's object in the kernel must agree with the native run: this validates the corpus.
    /// Under libbpf, or under our loader for arena objects. Where the file says clang fails, it
    /// must fail, with the message the file expects.
    @Test(arguments: CorpusProgram.all)
    func clangObjectMatchesNative(_ program: CorpusProgram) async throws {
        try program.kernelCapability.cancelIfRanOnHost()
        let expected = try await Artifacts.shared.nativeOutput(program).value
        let (object, compile) = try await Artifacts.shared.compileWithClang(program)
        var result = compile
        if compile.status == 0 {
            try program.kernelCapability.require()
            let runner = program.needsArenaLoader ? try await Tools.ours("swiftbpf") : try await Tools.libbpfRun.value
            result = try await runProcess(runner, (program.needsArenaLoader ? ["run"] : []) + [object]
                                            + program.runArguments,
                                          in: try await Artifacts.shared.directory(program))
        }
        if let failure = program.clangFailure {
            #expect(result.status != 0, "clang's object was expected to fail (\(failure)): \(result.transcript)")
            #expect(result.stderr.firstMatch(of: try Regex(failure)) != nil, "\(result.transcript)")
            return
        }
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.stdout == expected)
    }

    /// (c) our compiler's object, run by our loader, must agree with the native run; at -O2 and
    /// -O0, for v3 and v4.
    @Test(arguments: CorpusProgram.all, BuildVariant.all)
    func ourObjectMatchesNative(_ program: CorpusProgram, variant: BuildVariant) async throws {
        try program.kernelCapability.cancelIfRanOnHost()
        let expected = try await Artifacts.shared.nativeOutput(program).value
        let object = try await Artifacts.shared.ourObject(program, variant).value
        try program.kernelCapability.require()
        let result = try await runProcess(try await Tools.ours("swiftbpf"), ["run", object] + program.runArguments,
                                          in: try await Artifacts.shared.directory(program))
        if !variant.optimize, let failure = program.unoptimizedFailure {
            #expect(result.status != 0, "the -O0 object was expected to fail (\(failure)): \(result.transcript)")
            #expect(result.stderr.firstMatch(of: try Regex(failure)) != nil, "\(result.transcript)")
            return
        }
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.stdout == expected)
    }

    /// (d) libbpf must load and run our compiler's object with the same results (arena objects
    /// excepted: Debian's libbpf 1.1 predates arenas).
    @Test(.needs(.bpf), arguments: CorpusProgram.all.filter { !$0.needsArenaLoader })
    func libbpfRunsOurObject(_ program: CorpusProgram) async throws {
        let expected = try await Artifacts.shared.nativeOutput(program).value
        let object = try await Artifacts.shared.ourObject(program).value
        let result = try await runProcess(try await Tools.libbpfRun.value, [object] + program.runArguments,
                                          in: try await Artifacts.shared.directory(program))
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.stdout == expected)
    }

    /// (e) LLVM's disassembler and bpftool's BTF dumper read our objects without complaint.
    @Test(arguments: CorpusProgram.all)
    func toolsReadOurObject(_ program: CorpusProgram) async throws {
        let object = try await Artifacts.shared.ourObject(program).value
        let directory = try await Artifacts.shared.directory(program)
        let objdump = try await runProcess(try which("llvm-objdump-19"), ["-d", "-r", object], in: directory)
        #expect(objdump.status == 0 && objdump.stderr.isEmpty, "\(objdump.transcript)")
        #expect(objdump.stdout.contains("exit"), "no code disassembled")
        let bpftool = try await runProcess(try which("bpftool"), ["btf", "dump", "file", object], in: directory)
        #expect(bpftool.status == 0 && bpftool.stderr.isEmpty, "\(bpftool.transcript)")
        #expect(bpftool.stdout.contains("FUNC '"), "no functions in the BTF dump")
        // Our own dump shows the source lines, and says why each arena cast is there.
        let dump = try await runProcess(try await Tools.ours("swiftbpf"), ["dump", object], in: directory)
        #expect(dump.status == 0, "\(dump.transcript)")
        #expect(dump.stdout.contains("; "), "no source lines in the dump")
        if program.needsArenaLoader {
            #expect(dump.stdout.contains("addr_space_cast") && dump.stdout.contains("; cast_kern: "),
                    "arena casts are not explained: \(dump.stdout)")
        }
    }

    /// (f) Our symbols say what clang's say: every global and weak function and object has the same
    /// binding and visibility (attributes from any declaration apply), and every static one that
    /// clang keeps, we keep (clang may drop more: it folds reads of const statics).
    @Test(arguments: CorpusProgram.all)
    func symbolsMatchClangs(_ program: CorpusProgram) async throws {
        let (clangObject, compile) = try await Artifacts.shared.compileWithClang(program)
        guard compile.status == 0 else {
            // Only where the file says clang cannot build it (see clangObjectMatchesNative).
            #expect(program.clangFailure != nil, "\(compile.transcript)")
            return
        }
        let object = try await Artifacts.shared.ourObject(program).value
        let directory = try await Artifacts.shared.directory(program)
        /// "TYPE BIND VIS NAME" of each function and object symbol, from llvm-readelf.
        func symbols(_ path: String) async throws -> Set<String> {
            let table = try await runChecked(try which("llvm-readelf-19"), ["-s", path], in: directory)
            return Set(table.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                guard fields.count == 8, fields[3] == "FUNC" || fields[3] == "OBJECT", !fields[7].hasPrefix(".") else {
                    return nil
                }
                return fields[3...5].joined(separator: " ") + " " + fields[7]
            })
        }
        let theirs = try await symbols(clangObject), ours = try await symbols(object)
        let isLocal = { (symbol: String) in symbol.split(separator: " ")[1] == "LOCAL" }
        #expect(ours.filter { !isLocal($0) } == theirs.filter { !isLocal($0) })
        // Where the kernel refuses clang's object, its static functions are no reference: one may be
        // a call we inline to fit the stack limit of a call chain (call_chain_inlining.c).
        if program.clangFailure == nil {
            #expect(theirs.filter(isLocal).isSubset(of: ours), "clang's static symbols missing from ours")
        }
    }

    /// The `-S -O2` listing of `source`, compiled in `directory`.
    private func listing(of source: URL, in directory: URL) async throws -> String {
        let result = try await runProcess(try await Tools.ours("swiftbpfcc"), [
            "-S", source.path, "-O2", "-I", Paths.include.path, "-o", "-",
        ], in: directory)
        #expect(result.status == 0, "\(result.transcript)")
        return result.stdout
    }

    /// Every C line a `-S` listing quotes is that line of the file it names: `;35:` is the main
    /// file's line 35, `;arena_list.h:35:` the header's. Over the corpus and the samples, whose
    /// code comes from their headers too.
    @Test(arguments: CorpusProgram.all.map(\.source) + ["samples/hello.c", "samples/arena_list/arena_list.c",
                                                        "samples/arena_htab/arena_htab.c"].map(Paths.package.appendingPathComponent))
    func listingQuotesEachLineFromItsFile(_ source: URL) async throws {
        let listing = try await listing(of: source, in: Paths.workDirectory("listing/\(source.deletingPathExtension().lastPathComponent)"))
        func lines(of file: URL) -> [Substring] {
            ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n", omittingEmptySubsequences: false)
        }
        var quoted = 0
        for line in listing.split(separator: "\n") where line.hasPrefix(";") {
            // `;LINE: text` or `;FILE:LINE: text`; the header comment `; swiftbpfcc ...` is neither.
            let parts = line.dropFirst().split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            let (file, number, text): (URL, Int?, Substring)
            if let n = Int(parts[0]), parts.count >= 2 {
                (file, number, text) = (source, n, parts.dropFirst().joined(separator: ":").dropFirst())
            } else if parts.count == 3, let n = Int(parts[1]) {
                // A header next to the file, in include/, or elsewhere in samples/ (arena_htab.c
                // includes ../arena_list/arena_alloc.h).
                let name = String(parts[0])
                let samples = FileManager.default.enumerator(atPath: Paths.package.appendingPathComponent("samples").path)?
                    .compactMap { $0 as? String }.filter { $0.hasSuffix("/" + name) }
                    .map { Paths.package.appendingPathComponent("samples/" + $0) } ?? []
                let candidates = [source.deletingLastPathComponent().appendingPathComponent(name),
                                  Paths.include.appendingPathComponent(name)] + samples
                file = candidates.first { FileManager.default.fileExists(atPath: $0.path) } ?? candidates[0]
                (number, text) = (n, parts[2].dropFirst())
            } else {
                continue
            }
            guard let number else { continue }
            let source = lines(of: file)
            #expect(number >= 1 && number <= source.count
                    && source[number - 1].trimmingCharacters(in: .whitespaces) == String(text),
                    "\(line) is not line \(number) of \(file.lastPathComponent)")
            quoted += 1
        }
        #expect(quoted > 0, "the listing quotes no source line")
    }

    /// A cast's note names its lines as the listing does (`30` the main file's, `arena_htab.h:49`
    /// a header's): every line it names is one the listing quotes in the same function, also in a
    /// function defined in a header, whose lines are not the main file's.
    @Test(arguments: ["samples/arena_list/arena_list.c", "samples/arena_htab/arena_htab.c"]
            .map(Paths.package.appendingPathComponent))
    func castNotesNameLinesAsTheListingDoes(_ source: URL) async throws {
        let listing = try await listing(of: source,
                                        in: Paths.workDirectory("listing-notes/\(source.deletingPathExtension().lastPathComponent)"))
        // Functions start at a line `name:\t...; kind, N instructions`; their quoted lines are `;REF: text`.
        var quoted: Set<Substring> = [], notes: [(line: Substring, references: [Substring])] = []
        var checked = 0
        func checkFunction() {
            for note in notes {
                for reference in note.references {
                    let isQuoted = quoted.contains(reference)
                    #expect(isQuoted, "\(note.line): line \(reference) is not quoted in its function")
                    checked += 1
                }
            }
            (quoted, notes) = ([], [])
        }
        for line in listing.split(separator: "\n") {
            if line.contains(":\t") && line.contains(" instructions, ") && !line.hasPrefix(" ") {
                checkFunction()
            } else if line.hasPrefix(";"), let colon = line.dropFirst().firstIndex(of: " ") {
                quoted.insert(line[line.index(after: line.startIndex)..<colon].dropLast())
            } else if let note = line.firstMatch(of: #/; cast_kern: .* at lines? ([^ ,]+(, [^ ,]+)*)/#) {
                notes.append((line, note.output.1.split(separator: ", ")))
            }
        }
        checkFunction()
        #expect(checked > 0, "no cast note names a line")
    }

    /// `swiftbpf dump` names each cast's line with its file (the dump shows no line numbers, and a
    /// header's line 60 is not the main file's): the line named is the source line shown above it.
    @Test(arguments: ["samples/arena_list/arena_list.c", "samples/arena_htab/arena_htab.c"]
            .map(Paths.package.appendingPathComponent))
    func dumpNamesTheFileOfEachCastsLine(_ source: URL) async throws {
        let directory = try Paths.workDirectory("dump-notes/\(source.deletingPathExtension().lastPathComponent)")
        let object = directory.appendingPathComponent("out.o").path
        let compile = try await runProcess(try await Tools.ours("swiftbpfcc"), [
            "-O2", "-g", "-I", Paths.include.path, source.path, "-o", object,
        ], in: directory)
        #expect(compile.status == 0, "\(compile.transcript)")
        let dump = try await runProcess(try await Tools.ours("swiftbpf"), ["dump", object], in: directory)
        #expect(dump.status == 0, "\(dump.transcript)")
        var shownLine: Substring = "", checked = 0
        for line in dump.stdout.split(separator: "\n") {
            if line.hasPrefix("; ") {
                shownLine = line.dropFirst(2)
            } else if line.contains("; cast_kern: ") {
                let named = line.firstMatch(of: #/\(([^():]+):([0-9]+)\)$/#)
                #expect(named != nil, "\(line): no file and line")
                guard let named, let number = Int(named.output.2) else { continue }
                let file = URL(fileURLWithPath: String(named.output.1), relativeTo: source.deletingLastPathComponent())
                let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                #expect(number <= lines.count && lines[number - 1] == shownLine, "\(line): not the line shown above it")
                checked += 1
            }
        }
        #expect(checked > 0, "no cast in the dump")
    }

    /// `-S` listings mark each cast the compiler inserted with its reason and source line.
    @Test(arguments: CorpusProgram.all.filter(\.needsArenaLoader))
    func listingExplainsArenaCasts(_ program: CorpusProgram) async throws {
        let listing = try await listing(of: program.source, in: Artifacts.shared.directory(program))
        let casts = listing.split(separator: "\n").filter { $0.contains("addr_space_cast(") && $0.contains(", 0, 1)") }
        #expect(!casts.isEmpty)
        for line in casts {
            #expect(line.contains("; cast_kern: ") && line.contains("line"), "unexplained cast: \(line)")
        }
    }
}
