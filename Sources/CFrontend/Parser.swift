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
    public var clangArguments: [String] {
        ["-target", "bpf", "-mcpu=\(cpu)", "-D__BPF_FEATURE_MAY_GOTO",
         "-resource-dir", "/usr/lib/llvm-19/lib/clang/19", optimize ? "-O2" : "-O0"]
            + clangFlags
            + ["-isystem", "/usr/lib/llvm-19/lib/clang/19/include", "-idirafter", "/usr/include/x86_64-linux-gnu"]
    }

    /// The command line for a main file whose prefix is in the precompiled header `path`: the
    /// `-include` files are in it too, so they are not read again. clang's own check of the
    /// header (file times, flags) is off: the cache that holds it is keyed by the headers'
    /// bytes and the whole command line.
    func clangArguments(precompiledHeader path: String) -> [String] {
        var arguments = clangArguments.filter { !$0.hasPrefix("-include") }
        arguments += ["-include-pch", path, "-Xclang", "-fno-validate-pch"]
        return arguments
    }
}

/// A file a translation unit read.
public struct IncludedFile: Sendable, Equatable {
    public var path: String
    /// In a system directory (left out of `-MMD` dependency files).
    public var isSystem: Bool
    /// The line of the main file whose `#include` first led to this file; nil for the main file
    /// itself and for files forced in with `-include`.
    public var mainFileLine: Int?
    public var size: Int

    public init(path: String, isSystem: Bool, mainFileLine: Int?, size: Int) {
        self.path = path
        self.isSystem = isSystem
        self.mainFileLine = mainFileLine
        self.size = size
    }
}

/// A file-scope function or variable declared in a precompiled header, found again by where it is:
/// libclang leaves the header's declarations out of the translation unit's children (visiting
/// them would deserialize every declaration, which costs as much as parsing vmlinux.h).
public struct DeclarationSite: Sendable, Equatable {
    public var file: String
    /// The byte offset of the declaration's expansion location in `file`.
    public var offset: Int
    public var spelling: String

    public init(file: String, offset: Int, spelling: String) {
        self.file = file
        self.offset = offset
        self.spelling = spelling
    }
}

/// A header precompiled from the start of a main file (its `-include` files and leading
/// directives), with what its parse saw: the main file is parsed against it, the prefix blanked.
public struct PrecompiledPrefix: Sendable {
    /// The `.pch` file.
    public var path: String
    /// Every file-scope function and variable declaration in it, in source order.
    public var declarations: [DeclarationSite]
    /// The files it read, in first-inclusion order, without the prefix itself.
    public var files: [IncludedFile]

    public init(path: String, declarations: [DeclarationSite], files: [IncludedFile]) {
        self.path = path
        self.declarations = declarations
        self.files = files
    }
}

/// Parses `text`, the start of a main file, as a C header named `virtualPath` (which need not
/// exist; it sits in the main file's directory so that quoted includes resolve alike) and saves
/// it as a precompiled header at `output`. Nil when it cannot stand for the start of the main
/// file: any diagnostic (replaying a header's warnings on every build is not worth it), or a
/// declaration that cannot be found again through the saved header. The files the parse read
/// come back either way, so that a cache can remember the refusal for these headers.
public func precompilePrefix(_ text: [UInt8], virtualPath: String, options: FrontendOptions, output: String)
    -> (files: [IncludedFile], header: PrecompiledPrefix?)
{
    let arguments = options.clangArguments + ["-x", "c-header"]
    let flags = CXTranslationUnit_Incomplete.rawValue | CXTranslationUnit_ForSerialization.rawValue
    guard let header = try? ParsedUnit(path: virtualPath, contents: text, arguments: arguments, flags: flags) else {
        return ([], nil)
    }
    let files = header.includedFiles().filter { $0.path != virtualPath }
    guard header.diagnostics.isEmpty else { return (files, nil) }
    let declarations = header.topLevelDeclarations.map { cursor in
        var file: CXFile?
        var offset: UInt32 = 0
        clang_getExpansionLocation(clang_getCursorLocation(cursor), &file, nil, nil, &offset)
        return DeclarationSite(file: file.map { clang_getFileName($0).consume() } ?? "", offset: Int(offset),
                               spelling: cursor.spelling)
    }
    guard clang_saveTranslationUnit(header.unit, output, 0) == 0 else { return (files, nil) }
    let prefix = PrecompiledPrefix(path: output, declarations: declarations, files: files)
    // The header's declarations must be found again from a main file parsed against it.
    let trialPath = virtualPath + ".c"
    guard ParsedUnit.parse(path: trialPath, options: options, prefix: prefix, contents: []) != nil else {
        unlink(output)
        return (files, nil)
    }
    return (files, prefix)
}

/// A parsed C file: libclang's translation unit, owned and disposed here.
final class ParsedUnit {
    let index: CXIndex
    let unit: CXTranslationUnit
    let path: String
    /// The clang command line it was parsed with.
    let arguments: [String]
    /// The file-scope function and variable declarations in source order: a precompiled
    /// prefix's first, then those parsed here.
    private(set) var topLevelDeclarations: [CXCursor]
    /// The files a precompiled prefix read, which libclang does not list among the unit's inclusions.
    private var prefixFiles: [IncludedFile] = []

    /// Parses `path` with the user's options; throws every error-level diagnostic clang
    /// reported, rendered as clang renders them.
    static func parse(path: String, options: FrontendOptions) throws(DiagnosticList) -> ParsedUnit {
        let parsed = try ParsedUnit(path: path, contents: nil, arguments: options.clangArguments)
        let problems = parsed.diagnostics.filter { $0.severity == .error }
        if !problems.isEmpty {
            throw DiagnosticList(parsed.diagnostics)
        }
        return parsed
    }

    /// Parses `path`, whose text is `contents` (the main file with its prefix blanked), against
    /// `prefix`. Nil when the prefix cannot stand in for the text it replaced: one of its
    /// declarations is not found again, or clang reports an error (a parse without the prefix
    /// then reports exactly what clang says).
    static func parse(path: String, options: FrontendOptions, prefix: PrecompiledPrefix, contents: [UInt8])
        -> ParsedUnit?
    {
        guard let parsed = try? ParsedUnit(path: path, contents: contents,
                                           arguments: options.clangArguments(precompiledHeader: prefix.path),
                                           excludingPrecompiledDeclarations: true),
              !parsed.diagnostics.contains(where: { $0.severity == .error }) else { return nil }
        var found: [CXCursor] = []
        for site in prefix.declarations {
            guard let file = clang_getFile(parsed.unit, site.file) else { return nil }
            let cursor = clang_getCursor(parsed.unit, clang_getLocationForOffset(parsed.unit, file, UInt32(site.offset)))
            guard cursor.isFileScopeFunctionOrVariable, cursor.spelling == site.spelling else { return nil }
            found.append(cursor)
        }
        parsed.topLevelDeclarations = found + parsed.topLevelDeclarations
        parsed.prefixFiles = prefix.files
        return parsed
    }

    /// Parses `path` (from `contents` when given, else from disk) with `arguments`; clang's
    /// diagnostics are left in `diagnostics`. With `excludingPrecompiledDeclarations`, the
    /// unit's children leave out what a precompiled header declares.
    init(path: String, contents: [UInt8]?, arguments: [String], flags extraFlags: UInt32 = 0,
         excludingPrecompiledDeclarations: Bool = false) throws(DiagnosticList)
    {
        guard let index = clang_createIndex(excludingPrecompiledDeclarations ? 1 : 0, 0) else {
            throw DiagnosticList([.error("cannot start libclang", at: nil)])
        }
        let argv = arguments.map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var unit: CXTranslationUnit?
        let flags = CXTranslationUnit_KeepGoing.rawValue | CXTranslationUnit_DetailedPreprocessingRecord.rawValue
            | extraFlags
        let text = contents ?? []
        let status = path.withCString { name in
            text.withUnsafeBufferPointer { text in
                text.withMemoryRebound(to: CChar.self) { text in
                    var unsaved = [CXUnsavedFile(Filename: name, Contents: text.baseAddress ?? name, Length: UInt(text.count))]
                    return argv.withUnsafeBufferPointer { buffer in
                        buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { argv in
                            unsaved.withUnsafeMutableBufferPointer { unsaved in
                                clang_parseTranslationUnit2(index, path, argv.baseAddress, Int32(argv.count),
                                                            contents == nil ? nil : unsaved.baseAddress,
                                                            contents == nil ? 0 : 1, flags, &unit)
                            }
                        }
                    }
                }
            }
        }
        guard status == CXError_Success, let unit else {
            clang_disposeIndex(index)
            // libclang says nothing more; an unreadable file and a flag clang refuses (an
            // unknown `-std=`) are the two causes seen.
            guard contents != nil || access(path, R_OK) == 0 else {
                throw DiagnosticList([.error("no such file or directory: '\(path)'", at: nil)])
            }
            throw DiagnosticList([.error("clang refused the command line for '\(path)': \(arguments.joined(separator: " "))",
                                         at: nil)])
        }
        self.index = index
        self.unit = unit
        self.path = path
        self.arguments = arguments
        topLevelDeclarations = []
        topLevelDeclarations = root.children.filter(\.isFileScopeFunctionOrVariable)
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
    /// order it was first included (a precompiled prefix's headers before the others).
    func includedFiles() -> [IncludedFile] {
        final class Collected {
            var files: [IncludedFile] = []
            let unit: CXTranslationUnit
            init(unit: CXTranslationUnit) { self.unit = unit }
        }
        let collected = Collected(unit: unit)
        clang_getInclusions(unit, { file, stack, depth, data in
            guard let file, let data else { return }
            let collected = Unmanaged<Collected>.fromOpaque(data).takeUnretainedValue()
            let start = clang_getLocationForOffset(collected.unit, file, 0)
            // The stack's last entry is the outermost `#include`: in the main file, or in the
            // predefines for an `-include`.
            var line: UInt32 = 0
            if depth > 0, let stack, clang_Location_isFromMainFile(stack[Int(depth) - 1]) != 0 {
                clang_getExpansionLocation(stack[Int(depth) - 1], nil, &line, nil, nil)
            }
            var size = 0
            _ = clang_getFileContents(collected.unit, file, &size)
            collected.files.append(IncludedFile(path: clang_getFileName(file).consume(),
                                                isSystem: clang_Location_isInSystemHeader(start) != 0,
                                                mainFileLine: line == 0 ? nil : Int(line), size: size))
        }, Unmanaged.passUnretained(collected).toOpaque())
        var seen: Set<String> = []
        let files = Array(collected.files.prefix(1)) + prefixFiles + collected.files.dropFirst()
        return files.filter { seen.insert($0.path).inserted }
    }
}

extension CXCursor {
    /// A function or variable declared at file scope (not a local `extern` or `static`).
    var isFileScopeFunctionOrVariable: Bool {
        (kind == CXCursor_FunctionDecl || kind == CXCursor_VarDecl)
            && clang_getCursorSemanticParent(self).kind == CXCursor_TranslationUnit
    }
}

/// libclang's version, which a precompiled header is valid for.
public var libclangVersion: String { clang_getClangVersion().consume() }
