#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BPFObject
import BTF

// `.ksyms` externs name things of the running kernel: kfuncs (`extern int bpf_foo(void) __ksym`),
// typed kernel variables (`extern const int cpu_number __ksym`, per-CPU ones included) and
// typeless ones (`extern const void sym __ksym`). As libbpf's bpf_object__resolve_externs does for
// vmlinux (module BTF is not searched), a function or typed variable is found by name and kind in
// the kernel's BTF (/sys/kernel/btf/vmlinux) and must have a compatible type (libbpf's
// bpf_core_types_are_compat); a typeless one is an address from /proc/kallsyms. A weak extern the
// kernel lacks resolves to nothing: its address reads 0, and a call to it must be dead code.

/// An extern's declaration in the object's BTF: its VAR or FUNC, and the DATASEC listing it.
struct ExternDeclaration {
    enum Kind {
        case function(proto: BTFTypeID)
        case variable(type: BTFTypeID)
    }

    var name: String
    var id: BTFTypeID
    var kind: Kind
    var section: String
}

/// Finds the BTF of the extern `name`: a VAR or FUNC of extern linkage and its DATASEC.
func externDeclaration(_ name: String, in object: ObjectFile) throws(LoadError) -> ExternDeclaration {
    guard let btf = object.btf else {
        throw .btf("extern '\(name)' cannot be resolved without the object's BTF (compile with -g)")
    }
    for type in btf.types {
        guard case .dataSection(let section, _, let entries) = type else { continue }
        for entry in entries {
            if case .variable(name, let type, .external)? = btf[entry.type] {
                return ExternDeclaration(name: name, id: entry.type, kind: .variable(type: type), section: section)
            }
            if case .function(name, let proto, .external)? = btf[entry.type] {
                return ExternDeclaration(name: name, id: entry.type, kind: .function(proto: proto), section: section)
            }
        }
    }
    throw .btf("extern '\(name)' has no extern VAR or FUNC in a DATASEC of the object's BTF")
}

/// What a `.ksyms` extern is in the running kernel.
enum KernelSymbol: Hashable {
    /// The id of a FUNC or VAR in vmlinux BTF: a call becomes a kfunc call, an ld_imm64 a
    /// BPF_PSEUDO_BTF_ID load whose address the kernel fills in.
    case btf(Int32)
    /// A typeless symbol's address, from /proc/kallsyms.
    case address(UInt64)
    /// A weak extern the kernel does not have (or not with that type).
    case absent
}

/// Resolves `.ksyms` externs against the running kernel. vmlinux BTF is read and decoded once, on
/// first use, as is /proc/kallsyms.
final class KernelSymbols {
    private let kernel: KernelBTF
    /// vmlinux BTF, and its FUNCs and VARs by name: their ids and the prototype or type they declare.
    private var vmlinux: (spec: BTFSpec, functions: [String: Declared], variables: [String: Declared])?
    typealias Declared = (id: BTFTypeID, type: BTFTypeID)
    private var resolved: [String: KernelSymbol] = [:]

    init(kernel: KernelBTF = KernelBTF()) {
        self.kernel = kernel
    }

    /// What the extern `name` of `object` resolves to; nil when `name` is not a `.ksyms` extern.
    func resolve(_ name: String, in object: ObjectFile) throws(LoadError) -> KernelSymbol? {
        if let done = resolved[name] { return done }
        guard let symbol = object.externs.first(where: { $0.name == name }) else { return nil }
        let declaration = try externDeclaration(name, in: object)
        guard declaration.section == ksymsSection, let btf = object.btf else { return nil }
        let result: KernelSymbol
        switch declaration.kind {
        case .function(let proto):
            result = try typed(declaration, localType: proto, isFunction: true, in: btf, isWeak: symbol.isWeak)
        case .variable(let type) where btf.resolved(type) == nil:
            // `const void`: no type to check, only an address to find.
            guard let address = kernelSymbolAddress(name) else {
                if symbol.isWeak { result = .absent; break }
                throw .unknownKernelSymbol(name, source: "/proc/kallsyms", kind: "symbol")
            }
            result = .address(address)
        case .variable(let type):
            result = try typed(declaration, localType: type, isFunction: false, in: btf, isWeak: symbol.isWeak)
        }
        resolved[name] = result
        return result
    }

    /// A kfunc or typed variable: the vmlinux FUNC or VAR of its name, whose prototype or type
    /// must be compatible with `localType`: a call through a wrong prototype would pass the wrong
    /// arguments. As libbpf, a weak kfunc with another prototype counts as absent.
    private func typed(_ declaration: ExternDeclaration, localType: BTFTypeID, isFunction: Bool, in object: BTFSpec,
                       isWeak: Bool) throws(LoadError) -> KernelSymbol
    {
        let (kernel, functions, variables) = try kernelBTF()
        let name = declaration.name
        guard let (id, kernelType) = (isFunction ? functions : variables)[name] else {
            if isWeak { return .absent }
            throw .unknownKernelSymbol(name, source: "BTF (/sys/kernel/btf/vmlinux)", kind: isFunction ? "function" : "variable")
        }
        guard object.isCompatible(localType, with: kernelType, in: kernel) else {
            if isWeak && isFunction { return .absent }
            throw .kernelSymbolMismatch(name: name, kernel: kernel.cDeclaration(of: id), object: object.cDeclaration(of: declaration.id))
        }
        return .btf(Int32(bitPattern: id.rawValue))
    }

    /// The vmlinux BTF id a tracing, LSM or iterator program attaches by, as libbpf finds it:
    /// the FUNC `name` (fentry, fexit, fmod_ret; `bpf_lsm_HOOK` for lsm, `bpf_iter_NAME` for
    /// iter), or, for tp_btf, the TYPEDEF `btf_trace_NAME` the kernel declares for each
    /// tracepoint. Module BTF is not searched.
    func attachTarget(_ name: String, isTypedef: Bool, section: ProgramSection, program: String) throws(LoadError) -> UInt32 {
        guard !name.isEmpty else {
            throw .unsupportedProgram(program: program, section: section.name,
                                      reason: "names no attach target; write SEC(\"\(section.name)/\(isTypedef ? "TRACEPOINT" : "FUNCTION")\")")
        }
        let (kernel, functions, _) = try kernelBTF()
        let id: BTFTypeID?
        if isTypedef {
            id = kernel.first(where: { if case .typedef(name, _) = $0 { true } else { false } })?.id
        } else {
            id = functions[name]?.id
        }
        guard let id else {
            throw .unsupportedProgram(program: program, section: section.name,
                                      reason: "the running kernel's BTF has no \(name) (\(isTypedef ? "TYPEDEF" : "FUNC")) to attach to")
        }
        return id.rawValue
    }

    /// The vmlinux STRUCT `name` and its id, for a struct_ops map's type.
    func kernelStruct(_ name: String) throws(LoadError) -> (id: BTFTypeID, type: BTFType)? {
        let (kernel, _, _) = try kernelBTF()
        return kernel.first { if case .structure(name, _, _) = $0 { true } else { false } }
    }

    private func kernelBTF() throws(LoadError) -> (spec: BTFSpec, functions: [String: Declared], variables: [String: Declared]) {
        if let vmlinux { return vmlinux }
        let spec = try kernel.vmlinux()
        var functions: [String: Declared] = [:], variables: [String: Declared] = [:]
        for (index, type) in spec.types.enumerated() {
            let id = BTFTypeID(rawValue: UInt32(index + 1))
            switch type {
            case .function(let name, let proto, _) where functions[name] == nil: functions[name] = (id, proto)
            case .variable(let name, let type, _) where variables[name] == nil: variables[name] = (id, type)
            default: continue
            }
        }
        vmlinux = (spec, functions, variables)
        return (spec, functions, variables)
    }
}

/// The address /proc/kallsyms gives `name`; nil when it lists no such symbol, or lists it only
/// at address 0 (kptr_restrict hides addresses from this process).
func kernelSymbolAddress(_ name: String) -> UInt64? {
    let wanted = Array(name.utf8)
    var found: UInt64?
    forEachKernelSymbol { address, symbol in
        guard symbol.elementsEqual(wanted) else { return true }
        found = address
        return false
    }
    return found
}

/// The names /proc/kallsyms gives the symbols starting at `addresses`: the helpers, kfuncs and
/// thunks a JIT image calls.
public func kernelSymbolNames(at addresses: Set<UInt64>) -> [UInt64: String] {
    var names: [UInt64: String] = [:]
    forEachKernelSymbol { address, symbol in
        if addresses.contains(address), names[address] == nil { names[address] = String(decoding: symbol, as: UTF8.self) }
        return names.count < addresses.count
    }
    return names
}

/// Calls `body` with each symbol /proc/kallsyms lists at a non-zero address, until it returns false.
private func forEachKernelSymbol(_ body: (UInt64, ArraySlice<UInt8>) -> Bool) {
    guard let file = fopen("/proc/kallsyms", "r") else { return }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 512)
    while fgets(&line, Int32(line.count), file) != nil {
        // "ffffffff814f39b0 T __x64_sys_bpf\t[module]": address, type, name, then a tab or newline.
        let bytes = line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        let fields = bytes.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0a })
        guard fields.count >= 3, let address = UInt64(String(decoding: fields[0], as: UTF8.self), radix: 16), address != 0
        else { continue }
        guard body(address, fields[2]) else { return }
    }
}
