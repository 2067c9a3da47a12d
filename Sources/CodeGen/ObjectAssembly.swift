import BPFDiagnostics
import BPFIR
import BPFInstructions
import BPFObject
import BTF

// Object assembly: the last compiler stage. Every function is compiled and placed in its ELF
// section the way clang places it: `.text` (sub-programs) first, then the program sections in
// the order their first program appears; data sections and BTF come from DataLayout and
// BTFEmission.

/// One function's code with what `-S` shows next to it.
public struct FunctionListing: Sendable {
    public var name: String
    public var section: String
    public var linkage: Linkage
    public var stackSize: Int
    public var code: CompiledFunction
}

/// The compiled object and its listing.
public struct CompiledObject: Sendable {
    public var object: ObjectFile
    public var listings: [FunctionListing]
}

/// Compiles every function of `module` (already through `runPasses`) into an object file.
/// With `debugInfo`, each instruction that starts a new source line gets a line_info record.
public func assembleObject(_ module: Module, cpu: CPUVersion, debugInfo: Bool) throws(DiagnosticList) -> CompiledObject {
    let dataSections = layOutData(module)
    let (btf, btfFunctions, btfTypes) = buildBTF(module, dataSections: dataSections)

    var sectionOrder: [String] = []
    for function in module.functions {
        let name = function.section ?? ".text"
        if !sectionOrder.contains(name) { sectionOrder.append(name) }
    }
    sectionOrder.sort { a, b in a == ".text" && b != ".text" }

    var sections: [String: CodeSection] = [:]
    var listings: [FunctionListing] = []
    var problems: [Diagnostic] = []
    for function in module.functions {
        let sectionName = function.section ?? ".text"
        let code: CompiledFunction
        do {
            code = try compileFunction(function, in: module, cpu: cpu, btfTypes: btfTypes)
        } catch {
            problems.append(contentsOf: error.diagnostics)
            continue
        }
        var section = sections[sectionName] ?? CodeSection(name: sectionName)
        let start = section.instructions.count
        section.instructions += code.instructions
        section.relocations += code.relocations.map {
            CodeRelocation(instructionIndex: start + $0.instructionIndex, symbol: $0.symbol)
        }
        for (index, relocation) in code.coreRelocations {
            guard let type = btfTypes[relocation.type], let kind = CoreRelocationKind(rawValue: relocation.kind.rawValue)
            else { preconditionFailure("BTF emission skipped the root type of a CO-RE relocation") }
            section.coreRelocations.append(CoreRelocationRecord(
                instructionIndex: start + index, type: type, accessString: relocation.accessString, kind: kind))
        }
        section.functions.append(FunctionSymbol(name: function.name, firstInstruction: start,
                                                instructionCount: code.instructions.count,
                                                binding: symbolBinding(function),
                                                isHidden: function.symbolAttributes.isHidden,
                                                btfFunction: btfFunctions[function.name]))
        if debugInfo {
            section.lines += lineRecords(code, start: start, function: function, module: module)
        }
        sections[sectionName] = section
        listings.append(FunctionListing(name: function.name, section: sectionName, linkage: function.linkage,
                                        stackSize: code.stackSize, code: code))
    }
    if !problems.isEmpty { throw DiagnosticList(problems) }

    // Nothing to describe (an empty file): no .BTF at all, as clang writes it; the kernel refuses
    // BTF without types ("No type found").
    let object = ObjectFile(codeSections: sectionOrder.compactMap { sections[$0] }, dataSections: dataSections,
                            externs: module.externs.map { ExternSymbol(name: $0.name, isWeak: $0.isWeak) },
                            btf: btf.types.isEmpty ? nil : btf)
    return CompiledObject(object: object, listings: listings)
}

/// Programs must be global symbols for libbpf, even when written `static`; a weak definition is
/// STB_WEAK.
private func symbolBinding(_ function: Function) -> SymbolBinding {
    guard function.linkage == .global || function.section != nil else { return .local }
    return function.symbolAttributes.isWeak ? .weak : .global
}

/// One line_info record per change of source line. The kernel wants every function to start
/// with a record, so the first instruction gets one even without a location of its own.
private func lineRecords(_ code: CompiledFunction, start: Int, function: Function, module: Module) -> [LineRecord] {
    var records: [LineRecord] = []
    var previous: SourceLocation?
    for (index, location) in code.locations.enumerated() {
        // The second half of an ld_imm64 must never carry a record.
        if index > 0 && code.instructions[index - 1].isLoadImm64 { continue }
        guard let location = location ?? (index == 0 ? function.location : nil) else { continue }
        if let previous, previous.file == location.file && previous.line == location.line { continue }
        records.append(LineRecord(instructionIndex: start + index, file: location.file, line: location.line,
                                  column: location.column, sourceText: module.sourceText(location)))
        previous = location
    }
    return records
}
