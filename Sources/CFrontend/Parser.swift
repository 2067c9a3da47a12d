import BPFDiagnostics
import CClang
import Glibc

/// Options that shape how libclang reads the source, from the driver's flags.
public struct FrontendOptions: Sendable {
    /// The user's preprocessor and language flags, passed to clang as written and in order:
    /// `-I`, `-iquote`, `-isystem`, `-idirafter`, `-include`, `-D`, `-U`, `-std=`, `-W…`, `-w`, `-f…`.
    public var clangFlags: [String]
    public var optimize: Bool
    public var cpu: String

    public init(clangFlags: [String] = [], optimize: Bool = true, cpu: String = "v3") {
        self.clangFlags = clangFlags
        self.optimize = optimize
        self.cpu = cpu
    }

    /// Whether C's aliasing rule may be relied on, as clang does by default: the last of
    /// `-fstrict-aliasing` and `-fno-strict-aliasing` decides.
    public var strictAliasing: Bool {
        clangFlags.last { $0 == "-fstrict-aliasing" || $0 == "-fno-strict-aliasing" } != "-fno-strict-aliasing"
    }

    /// The clang command line: BPF target and CPU (which set `__BPF_FEATURE_*`), may_goto (which
    /// clang-19 defines only from v2 on, and which the selftests' `can_loop` needs), the user's
    /// flags, then the directories we add, searched after the user's own as clang searches its
    /// system directories after every `-I` and `-isystem`: clang's builtin headers (libclang
    /// looks for them next to itself, which on Debian is the wrong place) and Debian's multiarch
    /// directory, which `-target bpf` does not search (BPF Makefiles add it with `-idirafter`).
    var clangArguments: [String] {
        ["-target", "bpf", "-mcpu=\(cpu)", "-D__BPF_FEATURE_MAY_GOTO",
         "-resource-dir", "/usr/lib/llvm-19/lib/clang/19", optimize ? "-O2" : "-O0"]
            + clangFlags
            + ["-isystem", "/usr/lib/llvm-19/lib/clang/19/include", "-idirafter", "/usr/include/x86_64-linux-gnu"]
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
            // libclang says nothing more; an unreadable file and a flag clang refuses (an
            // unknown `-std=`) are the two causes seen.
            guard access(path, R_OK) == 0 else {
                throw DiagnosticList([.error("no such file or directory: '\(path)'", at: nil)])
            }
            throw DiagnosticList([.error("clang refused the command line for '\(path)': \(options.clangFlags.joined(separator: " "))",
                                         at: nil)])
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

    /// The files the translation unit read, the main file first, then each header once in the
    /// order it was first included; with `systemHeaders` false, headers from system directories
    /// are left out (as clang's `-MMD`).
    func includedFiles(systemHeaders: Bool) -> [String] {
        final class Collected {
            var files: [(name: String, isSystem: Bool)] = []
            let unit: CXTranslationUnit
            init(unit: CXTranslationUnit) { self.unit = unit }
        }
        let collected = Collected(unit: unit)
        clang_getInclusions(unit, { file, _, _, data in
            guard let file, let data else { return }
            let collected = Unmanaged<Collected>.fromOpaque(data).takeUnretainedValue()
            let start = clang_getLocationForOffset(collected.unit, file, 0)
            collected.files.append((clang_getFileName(file).consume(), clang_Location_isInSystemHeader(start) != 0))
        }, Unmanaged.passUnretained(collected).toOpaque())
        var seen: Set<String> = []
        return collected.files.filter { systemHeaders || !$0.isSystem }.map(\.name).filter { seen.insert($0).inserted }
    }
}
