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
    let (lowered, warnings, files) = try lowerTranslationUnit(
        path: options.input, options: options.frontend, systemHeaders: options.dependencyFile?.systemHeaders ?? true)
    let dependencies = options.dependencyFile.map { CompilerOptions.dependencyRule($0, files: files) }
    var dumps = ""
    func passes(alwaysInline: Set<String>) throws(DiagnosticList) -> Module {
        var module = lowered
        dumps = ""
        try runPasses(&module, cpu: options.cpu, optimize: options.optimize, alwaysInline: alwaysInline) { pass, module in
            guard options.printAfter.contains(pass) else { return }
            dumps += "; *** IR after \(pass.rawValue) ***\n\(printIR(module))\n"
        }
        return module
    }
    let bytes: [UInt8]
    switch options.output {
    case .ir:
        // The IR before any inlining the call-chain stack check would ask for: that needs code.
        bytes = Array(printIR(try passes(alwaysInline: [])).utf8)
    case .object:
        let compiled = try compileWithinStackLimits(options, passes: passes).compiled
        do {
            bytes = try writeObject(compiled.object)
        } catch {
            // The writer only fails when code generation broke its own invariants.
            throw DiagnosticList([.error("internal error writing the object: \(error)", at: nil)])
        }
    case .assembly:
        let (module, compiled) = try compileWithinStackLimits(options, passes: passes)
        bytes = Array(renderListing(compiled, module: module, source: options.input, cpu: options.cpu).utf8)
    }
    return CompileOutput(bytes: bytes, warnings: warnings, dependencies: dependencies, passDumps: dumps)
}

/// The module through `passes` and code generation, its static functions inlined into their callers
/// as long as some chain of calls needs more stack than the kernel allows. A chain that no more
/// inlining shortens, or whose inlining makes a frame too large, is an error naming it.
private func compileWithinStackLimits(
    _ options: CompilerOptions, passes: (Set<String>) throws(DiagnosticList) -> Module
) throws(DiagnosticList) -> (module: Module, compiled: CompiledObject) {
    var alwaysInline: Set<String> = []
    var previous: [OverlongCallChain] = []
    while true {
        let module = try passes(alwaysInline)
        let compiled: CompiledObject
        do {
            compiled = try assembleObject(module, cpu: options.cpu, debugInfo: options.debugInfo)
        } catch where !previous.isEmpty {
            let why = error.diagnostics.first { $0.severity == .error }.map { ": \($0.message)" } ?? ""
            throw DiagnosticList(previous.flatMap {
                $0.diagnostics(notes: ["inlining the chain's static functions does not help\(why)"])
            })
        }
        let chains = overlongCallChains(module, compiled)
        if chains.isEmpty { return (module, compiled) }
        let functions = Dictionary(module.functions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let inlinable = Set(chains.flatMap { $0.functions.dropFirst() }.filter {
            functions[$0]?.linkage == .static && functions[$0]?.section == nil
        }).subtracting(alwaysInline)
        guard !inlinable.isEmpty else {
            throw DiagnosticList(chains.flatMap { chain in
                chain.diagnostics(notes: chain.functions.dropFirst().filter { functions[$0]?.linkage == .global }.map {
                    "'\($0)' is a global function: the kernel verifies it on its own, so it is not inlined"
                })
            })
        }
        alwaysInline.formUnion(inlinable)
        previous = chains
    }
}
