import BPFObject
import BTF

// An object's `.BTF` is written for libbpf, not for the kernel: clang leaves DATASEC sizes and the
// offsets of global VARs at 0 for the loader to fill in from the ELF symbols, and kfuncs appear
// as extern FUNCs in a `.ksyms` DATASEC of size 0. The kernel's BTF checker rejects all of that
// ("Invalid size", "Invalid func linkage"), so before BPF_BTF_LOAD the loader rewrites the types
// the way libbpf's btf_fixup_datasec and bpf_object__collect_externs do. Programs then refer to
// the loaded BTF by fd, with func_info and line_info naming its type ids and strings.

/// The object's BTF as loaded into the kernel, and the string table that line_info records
/// point into.
final class ProgramBTF {
    let fd: FileDescriptor
    /// The loaded string section, which the kernel's line_info records point into.
    let strings: StringTable

    /// Rewrites `spec` for the kernel and loads it. The string table is built to hold every file
    /// name and source line of the object's line_info, since programs cannot add strings later.
    init(_ spec: BTFSpec, of object: ObjectFile) throws(LoadError) {
        var encoder = BTFEncoder(try kernelBTF(spec, of: object))
        _ = encoder.encodeExt(object.codeSections.map { section in
            BTFExtSection(name: section.name, functions: [], lines: section.lines.map {
                LineInfoRecord(byteOffset: 0, file: $0.file, sourceText: $0.sourceText, line: 0, column: 0)
            })
        })
        strings = encoder.strings
        let blob = encoder.btf

        var (result, _) = BPFSyscall.loadBTF(blob, logSize: 0)
        if case .failure(let error) = result, !error.isPermissionOrAbsence {
            let log: String
            (result, log) = BPFSyscall.loadBTF(blob, logSize: 1 << 20)
            if case .failure(let error) = result { throw .btfRejected(errno: error.errno, log: log) }
        }
        switch result {
        case .success(let fd): self.fd = fd
        case .failure(let error): throw .syscall(error, context: "loading the object's BTF")
        }
    }

    /// line_info for the kernel: file and source text as offsets into the loaded string section.
    func lineInfo(of program: LinkedProgram) -> [UInt8] {
        var table = strings
        return program.lineInfoBytes { table.offset(of: $0) }
    }
}

/// `spec` with what the kernel needs filled in: DATASEC sizes from the sections, global VAR
/// offsets from the symbols (sorted by offset, as the kernel requires), and `.ksyms` rewritten.
/// A global function with hidden visibility becomes static, verified in its caller's context, as
/// libbpf does with such functions (clang leaves their BTF linkage global).
func kernelBTF(_ spec: BTFSpec, of object: ObjectFile) throws(LoadError) -> BTFSpec {
    var spec = spec
    let hidden = Set(object.codeSections.flatMap(\.functions).filter(\.isHidden).map(\.name))
    for (index, type) in spec.types.enumerated() {
        if case .function(let name, let proto, .global) = type, hidden.contains(name) {
            spec.types[index] = .function(name: name, proto: proto, linkage: .static)
        }
        guard case .dataSection(let name, var size, var variables) = type, name != ksymsSection else { continue }
        let section = object.dataSections.first { $0.name == name }
        if size == 0 {
            guard let section, !section.bytes.isEmpty, let sectionSize = UInt32(exactly: section.bytes.count) else {
                throw .btf("DATASEC '\(name)' has size 0 and the object has no section '\(name)' of at most 4 GiB to take it from")
            }
            size = sectionSize
        }
        for (slot, entry) in variables.enumerated() {
            guard case .variable(let variable, _, let linkage)? = spec[entry.type] else {
                throw .btf("DATASEC '\(name)' entry \(entry.type) is not a VAR")
            }
            switch linkage {
            case .static:
                continue  // static VARs carry their offset
            case .global, .external:
                // An extern VAR here is a `.kconfig` one, which the loader gave storage: the
                // kernel then wants it allocated, as a global.
                guard let symbol = section?.symbols.first(where: { $0.name == variable }) else {
                    throw .btf("global VAR '\(variable)' of DATASEC '\(name)' has no symbol in the section")
                }
                guard let offset = UInt32(exactly: symbol.offset) else {
                    throw .btf("global VAR '\(variable)' of DATASEC '\(name)' lies beyond 4 GiB")
                }
                variables[slot].offset = offset
                if case .variable(let variableName, let type, .external)? = spec[entry.type] {
                    spec.types[Int(entry.type.rawValue) - 1] = .variable(name: variableName, type: type, linkage: .global)
                }
            }
        }
        variables.sort { $0.offset < $1.offset }
        spec.types[index] = .dataSection(name: name, size: size, variables: variables)
    }
    rewriteKernelSymbols(&spec)
    return spec
}

/// The DATASEC clang lists extern kfuncs (and typed kernel variables) in.
let ksymsSection = ".ksyms"

/// Turns `.ksyms` into a section the kernel accepts: every entry becomes a 4-byte int VAR at
/// offset 4·i (an extern FUNC is replaced in the section by one shared `dummy_ksym` VAR and
/// becomes a global FUNC, its unnamed parameters named after that VAR, since the kernel wants
/// every parameter of a FUNC named). The kfunc calls themselves name kernel BTF ids, so none of
/// these types is ever used by the verifier.
private func rewriteKernelSymbols(_ spec: inout BTFSpec) {
    guard let (sectionID, section) = spec.first(where: { if case .dataSection(ksymsSection, _, _) = $0 { true } else { false } }),
          case .dataSection(_, _, var entries) = section
    else { return }
    let int = spec.first { if case .int(_, 4, _) = $0 { true } else { false } }?.id
        ?? spec.add(.int(name: "int", size: 4, encoding: .signed))
    let dummyName = "dummy_ksym"
    var dummy: BTFTypeID?
    for slot in entries.indices {
        entries[slot].offset = UInt32(4 * slot)
        entries[slot].size = 4
        let entryID = entries[slot].type
        guard let entry = spec[entryID] else { continue }
        switch entry {
        case .function(let name, let proto, _):
            if case .functionProto(let returnType, var parameters)? = spec[proto] {
                for index in parameters.indices where parameters[index].type != .void && parameters[index].name.isEmpty {
                    parameters[index].name = dummyName
                }
                spec.types[Int(proto.rawValue) - 1] = .functionProto(returnType: returnType, parameters: parameters)
            }
            spec.types[Int(entryID.rawValue) - 1] = .function(name: name, proto: proto, linkage: .global)
            let variable = dummy ?? spec.add(.variable(name: dummyName, type: int, linkage: .global))
            dummy = variable
            entries[slot].type = variable
        case .variable(let name, _, _):
            spec.types[Int(entryID.rawValue) - 1] = .variable(name: name, type: int, linkage: .global)
        case .int, .pointer, .array, .structure, .union, .enumeration, .forward, .typedef, .volatile, .const,
             .restrict, .functionProto, .dataSection, .float, .declTag, .typeTag:
            break  // not an extern; the kernel's checker will name the problem
        }
    }
    spec.types[Int(sectionID.rawValue) - 1] = .dataSection(name: ksymsSection, size: UInt32(4 * entries.count), variables: entries)
}
