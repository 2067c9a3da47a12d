import BPFDiagnostics
import CClang
import Glibc

/// Options that shape how libclang reads the source, from the driver's flags.
public struct FrontendOptions: Sendable {
    public var includeDirectories: [String]
    /// `-D` and `-U` in command-line order: `("NAME=VALUE", true)` defines, `("NAME", false)` undefines.
    public var macros: [(String, Bool)]
    public var optimize: Bool
    public var cpu: String

    public init(includeDirectories: [String] = [], macros: [(String, Bool)] = [], optimize: Bool = true,
                cpu: String = "v3") {
        self.includeDirectories = includeDirectories
        self.macros = macros
        self.optimize = optimize
        self.cpu = cpu
    }

    /// The clang command line: BPF target and CPU (which set `__BPF_FEATURE_*`), may_goto (which
    /// clang-19 defines only from v2 on, and which the selftests' `can_loop` needs), and Debian's
    /// multiarch include directory, which `-target bpf` does not search.
    var clangArguments: [String] {
        var arguments = ["-target", "bpf", "-mcpu=\(cpu)", "-D__BPF_FEATURE_MAY_GOTO",
                         "-resource-dir", "/usr/lib/llvm-19/lib/clang/19",
                         "-I/usr/include/x86_64-linux-gnu",
                         // libclang looks for its builtin headers (stddef.h) next to itself, which on
                         // Debian is the wrong place.
                         "-isystem", "/usr/lib/llvm-19/lib/clang/19/include"]
        arguments.append(optimize ? "-O2" : "-O0")
        arguments += includeDirectories.map { "-I\($0)" }
        arguments += macros.map { $0.1 ? "-D\($0.0)" : "-U\($0.0)" }
        return arguments
    }
}

/// A parsed C file: libclang's translation unit, owned and disposed here.
final class ParsedUnit {
    let index: CXIndex
    let unit: CXTranslationUnit
    let path: String

    /// Parses `path`; throws every error-level diagnostic clang reported, rendered as clang renders them.
    init(path: String, options: FrontendOptions) throws(DiagnosticList) {
        guard let index = clang_createIndex(0, 0) else {
            throw DiagnosticList([.error("cannot start libclang", at: nil)])
        }
        let arguments = options.clangArguments.map { strdup($0) }
        defer { arguments.forEach { free($0) } }
        var unit: CXTranslationUnit?
        let flags = CXTranslationUnit_KeepGoing.rawValue | CXTranslationUnit_DetailedPreprocessingRecord.rawValue
        let status = arguments.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { argv in
                clang_parseTranslationUnit2(index, path, argv.baseAddress, Int32(argv.count), nil, 0, flags, &unit)
            }
        }
        guard status == CXError_Success, let unit else {
            clang_disposeIndex(index)
            throw DiagnosticList([.error("no such file or cannot parse: '\(path)'", at: nil)])
        }
        self.index = index
        self.unit = unit
        self.path = path
        let problems = diagnostics.filter { $0.severity == .error }
        if !problems.isEmpty {
            throw DiagnosticList(diagnostics)
        }
    }

    deinit {
        clang_disposeTranslationUnit(unit)
        clang_disposeIndex(index)
    }

    /// Warnings and errors as clang reports them, each with its location.
    var diagnostics: [Diagnostic] {
        (0..<clang_getNumDiagnostics(unit)).compactMap { i -> Diagnostic? in
            let d = clang_getDiagnostic(unit, i)
            defer { clang_disposeDiagnostic(d) }
            let severity: Diagnostic.Severity
            switch clang_getDiagnosticSeverity(d) {
            case CXDiagnostic_Error, CXDiagnostic_Fatal: severity = .error
            case CXDiagnostic_Warning: severity = .warning
            default: return nil
            }
            var file: CXFile?
            var line: UInt32 = 0
            var column: UInt32 = 0
            clang_getSpellingLocation(clang_getDiagnosticLocation(d), &file, &line, &column, nil)
            let location = file.map {
                SourceLocation(file: clang_getFileName($0).consume(), line: Int(line), column: Int(column))
            }
            return Diagnostic(severity, clang_getDiagnosticSpelling(d).consume(), at: location)
        }
    }

    var root: CXCursor { clang_getTranslationUnitCursor(unit) }
}
