// BTF emission: the C types of a module, as the frontend recorded them in its `TypeTable`, become
// the `.BTF` that clang would write for the same source.
//
// Only types reached from a function, an extern or a global are emitted. Each C type maps to
// at most one BTF type; structs and unions take their id before their members are visited, so a
// struct that points to itself closes the cycle on its own id. Other kinds are emitted after their
// operands and deduplicated by value (a pointer in address space 1 and one in address space 0 are
// the same BTF PTR: BTF has no address spaces, and clang's output carries none).
//
// Where clang's output and the kernel's rules meet: INT encodings follow DWARF as clang maps them
// (`char` is SIGNED, not CHAR); array indices use clang's `__ARRAY_SIZE_TYPE__`; VARs are named by
// their ELF symbol (`prog.calls` for a static local, as clang does, which the kernel accepts); every
// DATASEC gets its final size and offsets, which clang leaves for libbpf to fill in, while the
// extern DATASECs `.ksyms` (kfuncs, kernel variables) and `.kconfig` keep size 0 and list their
// extern FUNCs and VARs at offset 0 with the variable's size (0 for a FUNC), as clang writes them. A non-static function that
// does not return an integer gets static linkage in BTF (see `returnsScalar`), and `btf_decl_tag`s
// on functions and parameters become DECL_TAGs (`arg:arena` makes a global function's parameter
// an arena pointer for the verifier).

import BPFIR
import BPFObject
import BTF

/// Builds the `.BTF` of `module` with the DATASECs of `dataSections` (from `layOutData`).
/// `functions` maps each defined function's name to its BTF FUNC, for func_info; `coreTypes` maps
/// the root type of each CO-RE relocation to its BTF type, for core_relo.
public func buildBTF(_ module: Module, dataSections: [DataSection])
    -> (spec: BTFSpec, functions: [String: BTFTypeID], coreTypes: [TypeID: BTFTypeID])
{
    var emitter = BTFEmitter(types: module.types)
    var functions: [String: BTFTypeID] = [:]
    var coreTypes: [TypeID: BTFTypeID] = [:]
    for function in module.functions {
        let linkage: BTFLinkage
        switch function.linkage {
        case .static: linkage = .static
        case .global:
            // A hidden (or weak) function stays global in BTF, as clang writes it: libbpf's static
            // linker needs a non-static FUNC for each global symbol, and the loaders (libbpf's and
            // ours) make a hidden function static at load time, to be verified in its caller's context.
            linkage = returnsScalar(function, in: module.types) ? .global : .static
        }
        let id = emitter.function(function.name, type: function.type, linkage: linkage)
        functions[function.name] = id
        for tag in function.declTags {
            emitter.spec.add(.declTag(name: tag.name, type: id, componentIndex: Int32(tag.componentIndex)))
        }
        // The types the function's CO-RE relocations name follow it, as in clang's output.
        for block in function.blocks {
            for instruction in block.instructions {
                if case .coreValue(_, let relocation) = instruction.operation {
                    coreTypes[relocation.type] = emitter.convert(relocation.type)
                }
            }
        }
    }

    // Externs by DATASEC, each FUNC or VAR with extern linkage at offset 0: clang leaves the
    // layout to the loader.
    var externSections: [(name: String, entries: [BTFType.SectionVariable])] = []
    for external in module.externs {
        let id: BTFTypeID
        switch external.kind {
        case .function:
            id = emitter.function(external.name, type: external.type, linkage: .external)
        case .variable:
            let type = emitter.convert(external.type)
            id = emitter.spec.add(.variable(name: external.name, type: type, linkage: .external))
        }
        let entry = BTFType.SectionVariable(type: id, offset: 0, size: UInt32(external.size))
        if let index = externSections.firstIndex(where: { $0.name == external.section }) {
            externSections[index].entries.append(entry)
        } else {
            externSections.append((external.section, [entry]))
        }
    }

    var variables: [String: BTFTypeID] = [:]
    for global in module.globals {
        let linkage: BTFLinkage
        switch global.linkage {
        case .static: linkage = .static
        case .global: linkage = .global
        }
        let type = emitter.convert(global.type)
        variables[global.symbol] = emitter.spec.add(.variable(name: global.symbol, type: type, linkage: linkage))
    }

    for section in dataSections {
        // The kernel rejects an empty DATASEC, and libbpf cannot size one either.
        guard !section.bytes.isEmpty else { continue }
        let entries = section.symbols
            .sorted { $0.offset < $1.offset }
            .compactMap { symbol in
                variables[symbol.name].map {
                    BTFType.SectionVariable(type: $0, offset: UInt32(symbol.offset), size: UInt32(symbol.size))
                }
            }
        emitter.spec.add(.dataSection(name: section.name, size: UInt32(section.bytes.count), variables: entries))
    }
    for section in externSections {
        emitter.spec.add(.dataSection(name: section.name, size: 0, variables: section.entries))
    }
    return (emitter.spec, functions, coreTypes)
}

/// Whether the kernel accepts the function as a global sub-program: it verifies a global function
/// once, on its own, and (on 6.18) only when it returns an integer or an enum ("Global function
/// f() doesn't return scalar"). Other non-static functions keep their global ELF symbol but get
/// static linkage in BTF, so the kernel verifies them at each call, in the caller's context, as
/// it does static functions; their callers see no difference.
private func returnsScalar(_ function: Function, in types: TypeTable) -> Bool {
    guard case .function(let returnType, _, _) = types[function.type] else { return false }
    var type = returnType
    while true {
        switch types[type] {
        case .typedef(_, let inner), .const(let inner), .volatile(let inner):
            type = inner
        case .integer, .enumeration:
            return true
        case .void, .pointer, .array, .structure, .union, .forward, .function:
            return false
        }
    }
}

/// The walk from `TypeTable` to `BTFSpec`.
private struct BTFEmitter {
    let types: TypeTable
    var spec = BTFSpec()
    /// BTF id of each C type already converted (or, for a struct or union, being converted).
    private var converted: [TypeID: BTFTypeID] = [:]
    /// BTF id of each non-aggregate BTF type already emitted, to share identical ones.
    private var emitted: [BTFType: BTFTypeID] = [:]

    init(types: TypeTable) {
        self.types = types
    }

    /// A FUNC over the prototype of C function type `type`.
    mutating func function(_ name: String, type: TypeID, linkage: BTFLinkage) -> BTFTypeID {
        guard case .function = types[type] else {
            preconditionFailure("'\(name)' has a non-function type in the type table")
        }
        let proto = convert(type)
        return spec.add(.function(name: name, proto: proto, linkage: linkage))
    }

    mutating func convert(_ id: TypeID) -> BTFTypeID {
        if let done = converted[id] { return done }
        let result: BTFTypeID
        switch types[id] {
        case .void:
            result = .void
        case .integer(let name, let size, let isSigned):
            let encoding: BTFType.IntEncoding = name == "_Bool" ? .bool : isSigned ? .signed : .unsigned
            result = share(.int(name: name, size: UInt32(size), encoding: encoding))
        case .pointer(let pointee, _):
            let target = convert(pointee)
            result = share(.pointer(target))
        case .array(let element, let count):
            let elementID = convert(element)
            // clang's index type for every ARRAY.
            let index = share(.int(name: "__ARRAY_SIZE_TYPE__", size: 4, encoding: .unsigned))
            // BTF counts and sizes are 32 bits. A type past 4 GiB (only ever pointed to: no map
            // holds one) keeps the low bits, as clang writes it.
            result = share(.array(element: elementID, index: index, count: UInt32(truncatingIfNeeded: count)))
        case .structure(let name, let size, _, let fields):
            result = aggregate(id, fields: fields) {
                .structure(name: name, size: UInt32(truncatingIfNeeded: size), members: $0)
            }
        case .union(let name, let size, _, let fields):
            result = aggregate(id, fields: fields) {
                .union(name: name, size: UInt32(truncatingIfNeeded: size), members: $0)
            }
        case .enumeration(let name, let size, let isSigned, let values):
            result = share(.enumeration(name: name, size: UInt32(size), isSigned: isSigned,
                                        values: values.map { .init(name: $0.name, value: $0.value) }))
        case .forward(let name, let isUnion):
            result = share(.forward(name: name, isUnion: isUnion))
        case .typedef(let name, let target):
            let targetID = convert(target)
            result = share(.typedef(name: name, type: targetID))
        case .const(let target):
            let targetID = convert(target)
            result = share(.const(targetID))
        case .volatile(let target):
            let targetID = convert(target)
            result = share(.volatile(targetID))
        case .function(let returnType, let parameters, let isVariadic):
            let returnID = convert(returnType)
            var btfParameters = parameters.map { parameter in
                BTFType.Parameter(name: parameter.name, type: convert(parameter.type))
            }
            if isVariadic {
                btfParameters.append(BTFType.Parameter(name: "", type: .void))
            }
            result = share(.functionProto(returnType: returnID, parameters: btfParameters))
        }
        converted[id] = result
        return result
    }

    /// A struct or union: its id is taken first, so members that point back to it find it.
    private mutating func aggregate(
        _ id: TypeID, fields: [CType.Field], make: ([BTFType.Member]) -> BTFType
    ) -> BTFTypeID {
        let own = spec.add(make([]))
        converted[id] = own
        let members = fields.map { field in
            BTFType.Member(name: field.name, type: convert(field.type),
                           bitOffset: UInt32(truncatingIfNeeded: field.bitOffset),
                           bitfieldSize: UInt32(field.bitWidth))
        }
        spec.types[Int(own.rawValue) - 1] = make(members)
        return own
    }

    /// The id of an identical type already emitted, or of `type` newly added.
    private mutating func share(_ type: BTFType) -> BTFTypeID {
        if let existing = emitted[type] { return existing }
        let id = spec.add(type)
        emitted[type] = id
        return id
    }
}
