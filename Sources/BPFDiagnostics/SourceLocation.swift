/// A position in a C source file, 1-based, as clang prints it.
///
/// One value feeds diagnostics, `-S` comments, BTF `line_info` and the mapping of verifier-log
/// instructions back to source lines.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    /// The line as a listing names it: `35` in `mainFile`, `arena_list.h:35` in any other file
    /// (a header's line 35 is not the main file's).
    public func lineReference(mainFile: String) -> String {
        file == mainFile ? "\(line)" : "\(file.split(separator: "/").last.map(String.init) ?? file):\(line)"
    }
}
