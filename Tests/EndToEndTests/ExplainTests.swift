// `swiftbpf explain` on programs the verifier rejects and on one it accepts. Each Explain/*.c file
// is built by swiftbpfcc and by clang-19 and explained; directives in its header comment:
//   // PROG: NAME            the program to explain
//   // WHY: REGEX            the rule the explanation names (`note: RULE: meaning`)
//   // OURS: refuses REGEX   swiftbpfcc refuses the program itself, with an error matching REGEX
// and the line the verifier refuses is marked `// REJECTED: REGEX`, REGEX matching the verifier's
// message. The explanation must name that line as `FILE:LINE:COL: error: verifier rejected
// program 'NAME': MESSAGE`, then explain the rule and its usual fix.
import Foundation
import KernelTestSupport
import Testing

/// An Explain/*.c file and its directives.
struct ExplainCase: Sendable, CustomTestStringConvertible {
    var source: URL
    var program: String
    var rule: String
    var ourRefusal: String?
    /// Line number and the regex the verifier's message must match.
    var marks: [(line: Int, pattern: String)]

    var testDescription: String { source.lastPathComponent }
    var relativePath: String { "Explain/\(source.lastPathComponent)" }

    static let directory = Paths.endToEnd.appendingPathComponent("Explain")
    static let all: [ExplainCase] = Paths.cFiles(in: directory).map { ExplainCase(source: $0) }

    init(source: URL) {
        self.source = source
        let text = (try? String(contentsOf: source, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func directive(_ prefix: String) -> String? {
            lines.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        }
        program = directive("// PROG: ") ?? ""
        rule = directive("// WHY: ") ?? ""
        ourRefusal = directive("// OURS: refuses ")
        marks = lines.enumerated().compactMap { index, line in
            line.range(of: "// REJECTED: ").map { (index + 1, String(line[$0.upperBound...])) }
        }
    }
}

/// Which compiler builds an explained program.
enum ExplainCompiler: String, Sendable, CaseIterable {
    case ours, clang

    /// Compiles `source` (relative to Tests/EndToEndTests) to `object`.
    func compile(_ source: String, to object: String) async throws -> ProcessResult {
        switch self {
        case .ours:
            try await runProcess(try await Tools.ours("swiftbpfcc"), [
                source, "-O2", "-g", "-I", Paths.include.path, "-o", object,
            ], in: Paths.endToEnd)
        case .clang:
            try await runProcess(try which("clang-19"), [
                "-target", "bpf", "-O2", "-g", "-mcpu=v3", "-I", Paths.include.path,
                "-I", "/usr/include/x86_64-linux-gnu", "-c", source, "-o", object,
            ], in: Paths.endToEnd)
        }
    }
}

@Suite struct ExplainTests {
    @Test func everyCommonMessageHasAProgram() {
        let rules = Set(ExplainCase.all.map(\.rule))
        for rule in ["unchecked pointer that may be NULL", "loop without visible progress", "complexity limit",
                     "dereferencing a number", "access out of range", "no arena association",
                     "modified context pointer", "stack limit"] {
            #expect(rules.contains(rule), "no Explain/*.c program for '\(rule)'")
        }
    }

    @Test(arguments: ExplainCase.all, ExplainCompiler.allCases)
    func explainsTheRejectionAtItsLine(_ explainCase: ExplainCase, compiler: ExplainCompiler) async throws {
        try #require(!explainCase.program.isEmpty && !explainCase.rule.isEmpty && !explainCase.marks.isEmpty,
                     "\(explainCase.relativePath) lacks PROG, WHY or a REJECTED line")
        let directory = try Paths.workDirectory("explain/\(explainCase.source.deletingPathExtension().lastPathComponent)-\(compiler)")
        let object = directory.appendingPathComponent("out.o").path
        let compile = try await compiler.compile(explainCase.relativePath, to: object)
        if compiler == .ours, let refusal = explainCase.ourRefusal {
            #expect(compile.status == 1, "\(compile.transcript)")
            #expect(compile.stderr.firstMatch(of: try Regex(refusal)) != nil, "\(compile.transcript)")
            return
        }
        try #require(compile.status == 0, "\(compile.transcript)")
        try KernelCapability.bpf.require()
        let result = try await runProcess(try await Tools.ours("swiftbpf"), ["explain", object, "--prog", explainCase.program],
                                          in: directory, timeout: 300)
        #expect(result.status == 0, "\(result.transcript)")

        // `FILE:LINE:COL: error: verifier rejected program 'NAME': MESSAGE`; clang names the file by
        // its absolute path, we as given.
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let prefix = "error: verifier rejected program '\(explainCase.program)': "
        let errors = lines.filter { $0.contains(": " + prefix) }
        try #require(errors.count == 1, "\(result.transcript)")
        let error = errors[0]
        let location = error[..<error.range(of: ": " + prefix)!.lowerBound].split(separator: ":")
        let message = String(error[error.range(of: prefix)!.upperBound...])
        #expect(location.count == 3 && location[0].hasSuffix(explainCase.relativePath), "\(error)")
        let line = location.count == 3 ? Int(location[1]) : nil
        let mark = explainCase.marks.first { $0.line == line }
        #expect(mark != nil, "the error is not at a REJECTED line \(explainCase.marks.map(\.line)): \(error)")
        if let mark {
            #expect(message.firstMatch(of: try Regex(mark.pattern)) != nil, "'\(message)' does not match /\(mark.pattern)/")
        }
        #expect(lines.contains { $0.hasPrefix("note: \(explainCase.rule): ") }, "\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("note: usual fix: ") }, "\(result.stdout)")
        // The listing marks the instruction the verifier stopped at, under its C line.
        #expect(lines.contains { $0.hasSuffix("<- rejected here") }, "\(result.stdout)")
    }

    static let constants = """
        #include <swiftbpf.h>

        char LICENSE[] SEC("license") = "GPL";

        int seed = 3;

        SEC("syscall") int constants(void *ctx)
        {
        \tint five = 5;
        \tint sum = seed + five;
        \tif (sum > 100)
        \t\treturn 7;
        \treturn sum * 2;
        }
        """

    /// An accepted program: each instruction that sets a register to a constant is followed by the
    /// verifier's state with that register at that value, and every line header quotes its line of
    /// the source.
    @Test(arguments: ExplainCompiler.allCases)
    func acceptedProgramShowsStatesPerLine(_ compiler: ExplainCompiler) async throws {
        let directory = try Paths.workDirectory("explain/constants-\(compiler)")
        let source = directory.appendingPathComponent("constants.c")
        try Self.constants.write(to: source, atomically: true, encoding: .utf8)
        let object = directory.appendingPathComponent("constants.o").path
        let compile = try await compiler.compile(source.path, to: object)
        try #require(compile.status == 0, "\(compile.transcript)")
        try KernelCapability.bpf.require()
        let result = try await runProcess(try await Tools.ours("swiftbpf"), ["explain", object, "--prog", "constants"],
                                          in: directory)
        #expect(result.status == 0, "\(result.transcript)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasSuffix(": accepted by the verifier") == true, "\(result.stdout)")

        let sourceLines = Self.constants.split(separator: "\n", omittingEmptySubsequences: false)
        var headers = 0
        var constantsChecked = 0
        for line in lines {
            if line.hasPrefix(source.path + ":") {
                // `FILE:LINE: text`
                let rest = line.dropFirst(source.path.count + 1)
                let number = Int(rest.prefix { $0.isNumber }) ?? 0
                #expect(number >= 1 && number <= sourceLines.count
                        && sourceLines[number - 1].trimmingCharacters(in: .whitespaces)
                            == rest.drop { $0 != " " }.dropFirst().trimmingCharacters(in: .whitespaces),
                        "\(line) is not line \(number) of the source")
                headers += 1
            }
            // `    N: rK = V    STATE` (or wK): the state must hold RK=V.
            guard let match = line.firstMatch(of: #/^ *[0-9]+: [rw]([0-9]+) = (-?[0-9]+) +(\S.*)$/#) else { continue }
            let register = match.1, value = match.2, state = match.3
            #expect(state.split(separator: " ").contains { $0 == "R\(register)=\(value)" },
                    "after setting r\(register) to \(value) the verifier's state is \(state)")
            constantsChecked += 1
        }
        #expect(headers >= 3, "\(result.stdout)")
        #expect(constantsChecked >= 1, "no instruction sets a register to a constant: \(result.stdout)")
    }
}

/// The page `swiftbpf explain --html` writes, in a real browser.
@Suite struct ExplainPageTests {
    /// The instruction indexes the text explanation lists under the header of `key` (`FILE:LINE`).
    static func instructions(under key: String, in text: String) -> [Int] {
        var indexes: [Int] = []
        var inside = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { inside = false }
            if line.hasPrefix(key + ": ") { inside = true }
            if inside, let match = line.firstMatch(of: #/^ +([0-9]+): /#) { indexes.append(Int(match.1)!) }
        }
        return indexes
    }

    /// `swiftbpf explain --html` on the program of `explainCase`: its text output and the page.
    static func explain(_ explainCase: ExplainCase, compiledBy compiler: ExplainCompiler,
                        in directory: URL) async throws -> (text: ProcessResult, page: URL) {
        let object = directory.appendingPathComponent("out.o").path
        let compile = try await compiler.compile(explainCase.relativePath, to: object)
        try #require(compile.status == 0, "\(compile.transcript)")
        try KernelCapability.bpf.require()
        let page = directory.appendingPathComponent("page.html")
        // From Tests/EndToEndTests, where the file names line_info records can be read.
        let result = try await runProcess(try await Tools.ours("swiftbpf"), [
            "explain", object, "--prog", explainCase.program, "--html", page.path,
        ], in: Paths.endToEnd)
        try #require(result.status == 0, "\(result.transcript)")
        return (result, page)
    }

    /// Clicking the C line the verifier refused highlights exactly its instructions, with the
    /// states after them; clicking an instruction of another line highlights that C line.
    @Test func clickingLinksCLinesAndInstructions() async throws {
        let explainCase = try #require(ExplainCase.all.first { $0.testDescription == "unchecked_lookup.c" })
        let directory = try Paths.workDirectory("explain-page")
        let (result, page) = try await Self.explain(explainCase, compiledBy: .ours, in: directory)
        let html = try String(contentsOf: page, encoding: .utf8)
        for external in ["http:", "https:", "<script src", "<link", "@import", "url("] {
            #expect(!html.contains(external), "the page refers to something outside it: \(external)")
        }

        if let reason = HeadlessChromium.unavailability {
            print("skipping the browser test: \(reason)")
            try Test.cancel(Comment(rawValue: reason))
        }
        let browser = try HeadlessChromium(profile: directory.appendingPathComponent("profile"))
        try browser.open(page)
        /// What is highlighted: C lines by key, instructions by index, and the focused row's states.
        func highlighted() throws -> (lines: [String], instructions: [Int], states: String, background: String) {
            let json = try browser.evaluate("""
                JSON.stringify({
                  lines: [...document.querySelectorAll('#source tr.sel')].map(e => e.dataset.src),
                  instructions: [...document.querySelectorAll('#bpf tr.insn.sel')].map(e => Number(e.dataset.index)),
                  states: [...document.querySelectorAll('#bpf tr.insn.sel td.state')].map(e => e.textContent).join('|'),
                  background: [...document.querySelectorAll('tr.sel td.t')].map(e => getComputedStyle(e).backgroundColor)[0] || ''
                })
                """) as? String ?? "{}"
            let value = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
            return (value["lines"] as? [String] ?? [], value["instructions"] as? [Int] ?? [],
                    value["states"] as? String ?? "", value["background"] as? String ?? "")
        }
        let unselected = try browser.evaluate("getComputedStyle(document.querySelector('#source tr.src td.t')).backgroundColor") as? String

        // The refused line: its key as the page's header names it, its instructions as the text lists them.
        let rejected = try #require(explainCase.marks.first?.line)
        let rejectedKey = "\(explainCase.relativePath):\(rejected)"
        let expected = Self.instructions(under: rejectedKey, in: result.stdout)
        try #require(!expected.isEmpty, "no instructions under \(rejectedKey): \(result.stdout)")
        try browser.click("#source tr[data-src=\"\(rejectedKey)\"]")
        let afterLine = try highlighted()
        #expect(afterLine.lines == [rejectedKey])
        #expect(afterLine.instructions == expected)
        #expect(afterLine.states.contains("rejected here: R0 invalid mem access 'map_value_or_null'"), "\(afterLine.states)")
        #expect(!afterLine.background.isEmpty && afterLine.background != unselected, "the highlight is not visible")

        // The line above it calls bpf_map_lookup_elem: clicking its call selects that C line.
        let lookupKey = "\(explainCase.relativePath):\(rejected - 1)"
        let call = try #require(Self.instructions(under: lookupKey, in: result.stdout).last)
        try browser.click("#bpf tr.insn[data-index=\"\(call)\"]")
        let afterInstruction = try highlighted()
        #expect(afterInstruction.lines == [lookupKey])
        #expect(afterInstruction.instructions == Self.instructions(under: lookupKey, in: result.stdout))
        #expect(afterInstruction.states.contains("map_value_or_null"), "\(afterInstruction.states)")
        #expect(try browser.evaluate("document.querySelector('#bpf tr.focus')?.dataset.index") as? String == "\(call)")
    }

    /// An `addr_space_cast` in the program is marked on the page with why it is there (clang's
    /// object of arena_without_map.c has one, and needs no arena map to be explained).
    @Test func castsAreMarked() async throws {
        let explainCase = try #require(ExplainCase.all.first { $0.testDescription == "arena_without_map.c" })
        let (result, page) = try await Self.explain(explainCase, compiledBy: .clang,
                                                    in: try Paths.workDirectory("explain-page-cast"))
        let html = try String(contentsOf: page, encoding: .utf8)
        #expect(html.contains("<span class=\"cast\">cast</span><span class=\"why\">cast_kern: "), "\(html)")
        #expect(result.stdout.contains("; cast_kern: "), "\(result.stdout)")
    }
}
