import BPFDiagnostics
import BPFIR
import BPFObject
import CFrontend
import CodeGen
import Passes

/// What one compile produced: the bytes to write to the output file.
public struct CompileOutput: Sendable {
    public var bytes: [UInt8]
    /// clang's warnings, printed but not fatal.
    public var warnings: [Diagnostic]
    /// The dependency file's text, when `-MD` or `-MMD` asked for one.
    public var dependencies: String?
    /// The IR after each pass `--print-after` named, for standard error.
    public var passDumps: String
    /// What `-v` shows, for standard error.
    public var notes: String
}

/// Runs the whole pipeline for one C file, stage by stage:
///
///     libclang AST → IR (CFrontend) → passes (Passes) → BPF code, data and BTF (CodeGen)
///     → ELF bytes (BPFObject), or a listing for -S, or the IR for -emit-ir
public func compile(_ options: CompilerOptions) throws(DiagnosticList) -> CompileOutput {
    let cache = PrefixCache(options: options)
    let entry = cache?.lookup()
    var prefix: (header: PrecompiledPrefix, contents: [UInt8])?
    if let cache, case .precompiled(let header) = entry {
        prefix = (header, cache.prefix.blanked)
    }
    let lowered = try lowerTranslationUnit(path: options.input, options: options.frontend, prefix: prefix)
    var notes = options.verbose ? "clang arguments: \(lowered.clangArguments.joined(separator: " "))\n" : ""
    if let cache, case .missing = entry, cache.isWorthPrecompiling(lowered.files) {
        cache.startPrecompiling(arguments: options.arguments)
        if options.verbose { notes += "precompiling lines 1-\(cache.prefix.lastLine) of \(options.input) into \(cache.directory)\n" }
    }
    var module = lowered.module
    let dependencies = options.dependencyFile.map { dependencyFile in
        CompilerOptions.dependencyRule(dependencyFile, files: lowered.files
            .filter { dependencyFile.systemHeaders || !$0.isSystem }.map(\.path))
    }
    var dumps = ""
    try runPasses(&module, cpu: options.cpu, optimize: options.optimize) { pass, module in
        guard options.printAfter.contains(pass) else { return }
        dumps += "; *** IR after \(pass.rawValue) ***\n\(printIR(module))\n"
    }
    let bytes: [UInt8]
    switch options.output {
    case .ir:
        bytes = Array(printIR(module).utf8)
    case .object:
        let compiled = try assembleObject(module, cpu: options.cpu, debugInfo: options.debugInfo)
        do {
            bytes = try writeObject(compiled.object)
        } catch {
            // The writer only fails when code generation broke its own invariants.
            throw DiagnosticList([.error("internal error writing the object: \(error)", at: nil)])
        }
    case .assembly:
        let compiled = try assembleObject(module, cpu: options.cpu, debugInfo: options.debugInfo)
        bytes = Array(renderListing(compiled, module: module, source: options.input, cpu: options.cpu).utf8)
    }
    return CompileOutput(bytes: bytes, warnings: lowered.warnings, dependencies: dependencies, passDumps: dumps,
                         notes: notes)
}

/// The work of the detached process a build starts when it finds no precompiled prefix: builds
/// the cache entry for `options`' input, silently (nobody reads its output).
public func precompilePrefix(_ options: CompilerOptions) {
    PrefixCache(options: options)?.precompile(options: options.frontend)
}
