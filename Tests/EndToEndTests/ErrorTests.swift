// Constructs outside the C subset: each Errors/*.c file must make swiftbpfcc exit 1 with a
// clang-style `Errors/<file>.c:LINE:COL: error: MESSAGE` on the line marked
// `// ERROR: <regex>`, and MESSAGE must match the regex. When a file marks several lines
// (a cycle of calls has no first call), the error may be on any of them. A line marked
// `// NOTE: <regex>` must carry a `note:` whose text matches (the stack check names its largest
// contributors in notes).
import Foundation
import Testing

/// An error-corpus file and the lines it marks.
struct ErrorCase: Sendable, CustomTestStringConvertible {
    /// A marked line and the regex its error message must match.
    struct Mark: Sendable {
        var line: Int
        var pattern: String
    }

    var source: URL
    var marks: [Mark]
    var notes: [Mark]

    var testDescription: String { source.lastPathComponent }
    /// The path as given to the compiler, relative to Tests/EndToEndTests, as the message shows it.
    var relativePath: String { "Errors/\(source.lastPathComponent)" }

    static let all: [ErrorCase] = Paths.cFiles(in: Paths.errors).map { ErrorCase(source: $0) }

    init(source: URL) {
        self.source = source
        let text = (try? String(contentsOf: source, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        func marked(_ marker: String) -> [Mark] {
            lines.enumerated().compactMap { index, line in
                guard let range = line.range(of: marker) else { return nil }
                return Mark(line: index + 1, pattern: String(line[range.upperBound...]))
            }
        }
        marks = marked("// ERROR: ")
        notes = marked("// NOTE: ")
    }
}

@Suite("Constructs outside the subset")
struct ErrorTests {
    @Test func everyConstructHasAFile() {
        let names = Set(ErrorCase.all.map(\.testDescription))
        for expected in ["floating_point.c", "varargs.c", "function_pointer.c", "recursion.c", "mutual_recursion.c",
                         "six_arguments.c", "large_stack.c", "syntax_error.c", "struct_argument.c"] {
            #expect(names.contains(expected))
        }
    }

    @Test(arguments: ErrorCase.all)
    func compilerReportsTheMarkedLine(_ errorCase: ErrorCase) async throws {
        try #require(!errorCase.marks.isEmpty, "\(errorCase.relativePath) has no // ERROR: line")
        let directory = try Paths.workDirectory("errors/\(errorCase.source.deletingPathExtension().lastPathComponent)")
        let object = directory.appendingPathComponent("out.o").path
        let result = try await runProcess(try await Tools.ours("swiftbpfcc"), [
            errorCase.relativePath, "-O2", "-g", "-I", Paths.include.path, "-o", object,
        ], in: Paths.endToEnd)
        #expect(result.status == 1, "\(result.transcript)")

        // `file:line:col: error: message`, one per line of standard error.
        let prefix = "\(errorCase.relativePath):"
        var reported: [(line: Int, message: String)] = []
        var notes: [(line: Int, message: String)] = []
        for text in result.stderr.split(separator: "\n") where text.hasPrefix(prefix) {
            let fields = text.dropFirst(prefix.count).split(separator: ":", maxSplits: 3)
            guard fields.count == 4, let line = Int(fields[0]), Int(fields[1]) != nil else { continue }
            if fields[2] == " error" { reported.append((line, String(fields[3].dropFirst()))) }
            if fields[2] == " note" { notes.append((line, String(fields[3].dropFirst()))) }
        }
        for mark in errorCase.notes {
            let pattern = try Regex(mark.pattern)
            #expect(notes.contains { $0.line == mark.line && $0.message.firstMatch(of: pattern) != nil },
                    "no note matching /\(mark.pattern)/ at line \(mark.line): \(result.transcript)")
        }
        let hit = reported.first { error in errorCase.marks.contains { $0.line == error.line } }
        guard let hit else {
            Issue.record("no `\(prefix)LINE:COL: error:` at line(s) \(errorCase.marks.map(\.line)): \(result.transcript)")
            return
        }
        let mark = errorCase.marks.first { $0.line == hit.line }
        let pattern = try Regex(mark?.pattern ?? "")
        #expect(hit.message.firstMatch(of: pattern) != nil, "'\(hit.message)' does not match /\(mark?.pattern ?? "")/")
    }
}
