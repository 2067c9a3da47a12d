import BPFObject
import BTF

/// A map to create: an internal map for a data section, or one defined in `.maps` with BTF.
/// Numbers are those of BPF_MAP_CREATE.
struct MapDefinition: Hashable {
    /// Section name for internal maps, symbol name for `.maps` maps: what relocations use.
    var name: String
    var type: UInt32
    var keySize: UInt32
    var valueSize: UInt32
    var maxEntries: UInt32
    var flags: UInt32
    var mapExtra: UInt64 = 0
    /// A data section's map, which relocations name by section and whose kernel name carries the
    /// object's name.
    var isInternal = false
    /// Written with BPF_MAP_UPDATE_ELEM at key 0 after creation (internal maps only).
    var initialValue: [UInt8]?
    /// `.rodata`, `.kconfig`: frozen after its value is written, so the verifier may treat it as constant.
    var freeze = false

    static let array: UInt32 = 2
    /// BPF_MAP_TYPE_ARENA (not in the 6.1 UAPI header of the build machine).
    static let arena: UInt32 = 33
    /// Globals declared `__arena` live here; they become the start of the arena's mapping.
    static let arenaSection = ".addr_space.1"
    static let mmapable: UInt32 = 1 << 10
    static let readOnlyProgram: UInt32 = 1 << 7

    /// libbpf's internal map for `.data`, `.bss`, `.rodata*` or `.kconfig`: a one-element array
    /// whose value is the whole section. A zero-fill section needs no initial value: a new array
    /// map is zeroed. Programs only read `.rodata` and `.kconfig`, which are frozen.
    static func internalMap(for section: DataSection) throws(LoadError) -> MapDefinition {
        guard section.bytes.count <= maximumDataSectionSize, let valueSize = UInt32(exactly: section.bytes.count) else {
            throw .badMap(name: section.name, reason: "\(section.bytes.count) bytes exceed \(maximumDataSectionSize), "
                          + "the kernel's largest array map value (INT_MAX, kernel/bpf/arraymap.c)")
        }
        let isReadOnly = section.name == ".rodata" || section.name.hasPrefix(".rodata.") || section.name == kconfigSection
        return MapDefinition(
            name: section.name, type: array, keySize: 4, valueSize: valueSize, maxEntries: 1,
            flags: mmapable | (isReadOnly ? readOnlyProgram : 0), isInternal: true,
            initialValue: section.isZeroFill ? nil : section.bytes, freeze: isReadOnly)
    }

    /// The maps of the `.maps` section, read from its BTF DATASEC as libbpf's
    /// parse_btf_map_def does: `__uint(x, v)` is a pointer to an array of v elements,
    /// `__ulong(x, v)` an enum with one enumerator v, `__type(x, T)` a pointer to T.
    static func definedMaps(in object: ObjectFile) throws(LoadError) -> [MapDefinition] {
        guard object.dataSections.contains(where: { $0.name == ".maps" }) else { return [] }
        guard let btf = object.btf,
              let (_, section) = btf.first(where: { if case .dataSection(".maps", _, _) = $0 { true } else { false } }),
              case .dataSection(_, _, let variables) = section
        else { throw .badMap(name: ".maps", reason: "the object has no BTF DATASEC for .maps") }

        var maps: [MapDefinition] = []
        for variable in variables {
            guard case .variable(let name, let type, _)? = btf[variable.type] else {
                throw .badMap(name: ".maps", reason: "DATASEC entry \(variable.type) is not a VAR")
            }
            guard case .structure(_, _, let members)? = btf.resolved(type)?.type else {
                throw .badMap(name: name, reason: "definition is not a struct")
            }
            var map = MapDefinition(name: name, type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0)
            for member in members {
                func number() throws(LoadError) -> UInt64 {
                    switch btf.resolved(member.type)?.type {
                    case .pointer(let target)?:
                        if case .array(_, _, let count)? = btf.resolved(target)?.type { return UInt64(count) }
                    case .enumeration(_, _, _, let values)? where values.count == 1:
                        return UInt64(bitPattern: values[0].value)
                    default:
                        break
                    }
                    throw .badMap(name: name, reason: "member '\(member.name)' is not __uint or __ulong")
                }
                func pointeeSize() throws(LoadError) -> UInt32 {
                    guard case .pointer(let target)? = btf.resolved(member.type)?.type, let size = btf.size(of: target),
                          let size32 = UInt32(exactly: size)
                    else { throw .badMap(name: name, reason: "member '\(member.name)' is not __type") }
                    return size32
                }
                func number32() throws(LoadError) -> UInt32 {
                    let value = try number()
                    guard let value32 = UInt32(exactly: value) else {
                        throw .badMap(name: name, reason: "'\(member.name)' value \(value) exceeds 32 bits")
                    }
                    return value32
                }
                switch member.name {
                case "type": map.type = try number32()
                case "max_entries": map.maxEntries = try number32()
                case "map_flags": map.flags = try number32()
                case "key_size": map.keySize = try number32()
                case "value_size": map.valueSize = try number32()
                case "key": map.keySize = try pointeeSize()
                case "value": map.valueSize = try pointeeSize()
                case "map_extra": map.mapExtra = try number()
                default: throw .badMap(name: name, reason: "unsupported map attribute '\(member.name)'")
                }
            }
            maps.append(map)
        }
        return maps
    }
}
