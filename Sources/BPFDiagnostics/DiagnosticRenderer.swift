import Foundation

/// Renders diagnostics as clang does: the `file:line:col: error: message` line, then the source
/// line and a caret under the column, so the reader sees the construct without opening the file.
public struct DiagnosticRenderer {
    private var files: [String: [Substring]] = [:]

    public init() {}

    public mutating func render(_ diagnostic: Diagnostic) -> String {
        var text = diagnostic.description
        if let location = diagnostic.location, let line = sourceLine(location) {
            let caretColumn = max(0, min(location.column - 1, line.count))
            // Keep tabs so the caret lines up under tab-indented code.
            let padding = line.prefix(caretColumn).map { $0 == "\t" ? "\t" : " " }.joined()
            text += "\n\(line)\n\(padding)^"
        }
        return text
    }

    private mutating func sourceLine(_ location: SourceLocation) -> Substring? {
        if files[location.file] == nil {
            guard let text = try? String(contentsOfFile: location.file, encoding: .utf8) else { return nil }
            files[location.file] = text.split(separator: "\n", omittingEmptySubsequences: false)
        }
        guard let lines = files[location.file], location.line >= 1, location.line <= lines.count else { return nil }
        return lines[location.line - 1]
    }
}
