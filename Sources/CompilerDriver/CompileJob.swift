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
}

/// Runs the whole pipeline for one C file, stage by stage:
///
///     libclang AST → IR (CFrontend) → passes (Passes) → BPF code, data and BTF (CodeGen)
///     → ELF bytes (BPFObject), or a listing for -S, or the IR for -emit-ir
public func compile(_ options: CompilerOptions) throws(DiagnosticList) -> CompileOutput {
    var (module, warnings, files) = try lowerTranslationUnit(
        path: options.input, options: options.frontend, systemHeaders: options.dependencyFile?.systemHeaders ?? true)
    let dependencies = options.dependencyFile.map { CompilerOptions.dependencyRule($0, files: files) }
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
    return CompileOutput(bytes: bytes, warnings: warnings, dependencies: dependencies, passDumps: dumps)
}
