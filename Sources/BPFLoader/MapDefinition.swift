#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BPFObject
import BTF

/// A map to create: an internal map for a data section, or one defined in `.maps` with BTF.
/// Numbers are those of BPF_MAP_CREATE.
struct MapDefinition: Hashable {
    /// Section name for internal maps, symbol name for `.maps` maps: what relocations use. An
    /// inner map's template is named `OUTER.inner`, as libbpf names it.
    var name: String
    var type: UInt32
    var keySize: UInt32
    var valueSize: UInt32
    var maxEntries: UInt32
    var flags: UInt32
    var mapExtra: UInt64 = 0
    /// `numa_node`, which the kernel reads when `map_flags` has BPF_F_NUMA_NODE.
    var numaNode: UInt32 = 0
    /// The key and value types in the object's BTF (`__type(key, T)`, `__type(value, T)`), given
    /// to the kernel, which needs them to check spin locks, timers and kptrs in values and which
    /// local storage maps require.
    var keyType: BTFTypeID?
    var valueType: BTFTypeID?
    /// A map-in-map's inner map template (`__array(values, struct inner)`), created first and
    /// given as inner_map_fd.
    var innerMap: String?
    /// `__uint(pinning, LIBBPF_PIN_BY_NAME)`: the map lives at /sys/fs/bpf/NAME, reused when it
    /// is already there.
    var isPinnedByName = false
    /// The initial slots of a prog_array or map-in-map (`.values = { [i] = &target }`): the
    /// program or map symbol each index holds.
    var initialSlots: [InitialSlot] = []
    /// A data section's map, which relocations name by section and whose kernel name carries the
    /// object's name.
    var isInternal = false
    /// Written with BPF_MAP_UPDATE_ELEM at key 0 after creation (internal maps only).
    var initialValue: [UInt8]?
    /// `.rodata`, `.kconfig`: frozen after its value is written, so the verifier may treat it as constant.
    var freeze = false

    struct InitialSlot: Hashable {
        var index: UInt32
        var symbol: String
    }

    // BPF_MAP_TYPE_* (include/uapi/linux/bpf.h) the loader treats specially.
    static let array: UInt32 = 2
    static let programArray: UInt32 = 3
    static let perfEventArray: UInt32 = 4
    static let stackTrace: UInt32 = 7
    static let cgroupArray: UInt32 = 8
    static let arrayOfMaps: UInt32 = 12
    static let hashOfMaps: UInt32 = 13
    static let devmap: UInt32 = 14
    static let sockmap: UInt32 = 15
    static let cpumap: UInt32 = 16
    static let xskmap: UInt32 = 17
    static let sockhash: UInt32 = 18
    static let queue: UInt32 = 22
    static let stack: UInt32 = 23
    static let devmapHash: UInt32 = 25
    static let ringbuf: UInt32 = 27
    /// BPF_MAP_TYPE_ARENA (not in the 6.1 UAPI header of the build machine).
    static let arena: UInt32 = 33

    var isMapInMap: Bool { type == Self.arrayOfMaps || type == Self.hashOfMaps }

    /// Map types whose values (or keys) are not data the kernel can check against BTF: libbpf
    /// creates them without key and value types.
    var takesBTFTypes: Bool {
        ![Self.perfEventArray, Self.cgroupArray, Self.stackTrace, Self.arrayOfMaps, Self.hashOfMaps, Self.devmap,
          Self.devmapHash, Self.cpumap, Self.xskmap, Self.sockmap, Self.sockhash, Self.queue, Self.stack,
          Self.arena].contains(type)
    }
    /// Globals declared `__arena` live here; they become the start of the arena's mapping.
    static let arenaSection = ".addr_space.1"
    static let mmapable: UInt32 = 1 << 10
    static let readOnlyProgram: UInt32 = 1 << 7

    /// The definition as the kernel must get it, adjusted as libbpf adjusts it: a ring buffer's
    /// size rounded up to a power-of-two number of pages, a perf event array without
    /// max_entries given one entry per possible CPU.
    func sizedForKernel() throws(LoadError) -> MapDefinition {
        var map = self
        if type == Self.ringbuf && maxEntries > 0 {
            let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
            var size = page
            while size < UInt64(maxEntries) { size *= 2 }
            if size <= UInt64(UInt32.max) { map.maxEntries = UInt32(size) }
        }
        if type == Self.perfEventArray && maxEntries == 0 {
            guard let cpus = possibleCPUCount() else {
                throw .badMap(name: name, reason: "a perf event array without max_entries gets one per possible CPU, and /sys/devices/system/cpu/possible cannot be read")
            }
            map.maxEntries = cpus
        }
        return map
    }

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
    /// `__ulong(x, v)` an enum with one enumerator v, `__type(x, T)` a pointer to T,
    /// `__array(values, T)` a last member that is an array of no elements of pointers to T (a
    /// map-in-map's inner map definition, or a function prototype for a prog_array). A
    /// map-in-map's inner template comes right before it. Addresses in the section
    /// (`.rel.maps`) are the initial slots of the `values` member they fall into.
    static func definedMaps(in object: ObjectFile) throws(LoadError) -> [MapDefinition] {
        guard let data = object.dataSections.first(where: { $0.name == ".maps" }) else { return [] }
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
            var (map, inner) = try parse(name: name, members: members, in: btf, allowsInner: true)
            if var inner {
                inner.name = name + ".inner"
                map.innerMap = inner.name
                maps.append(inner)
            }
            // Where the map's symbol lies: clang leaves DATASEC offsets for the loader to fill.
            let symbol = data.symbols.first { $0.name == name }
            let start = symbol?.offset ?? Int(variable.offset)
            let extent = start..<(start + (symbol?.size ?? Int(variable.size)))
            map.initialSlots = try initialSlots(of: map, members: members, in: extent, of: data)
            maps.append(map)
        }
        return maps
    }

    /// The slots `.values = { ... }` fills: each address inside the map's definition, counted
    /// in pointers from the start of its `values` member.
    private static func initialSlots(of map: MapDefinition, members: [BTFType.Member], in extent: Range<Int>,
                                     of data: DataSection) throws(LoadError) -> [InitialSlot] {
        let addresses = data.relocations.filter { extent.contains($0.offset) }
        guard !addresses.isEmpty else { return [] }
        guard let values = members.last, values.name == "values", map.isMapInMap || map.type == programArray else {
            throw .badMap(name: map.name, reason: "holds addresses, which only the `values` of a prog_array or map-in-map may")
        }
        let valuesStart = extent.lowerBound + Int(values.bitOffset / 8)
        var slots: [InitialSlot] = []
        for address in addresses {
            let distance = address.offset - valuesStart
            guard distance >= 0, distance % 8 == 0, let index = UInt32(exactly: distance / 8), index < map.maxEntries else {
                throw .badMap(name: map.name, reason: "an address at .maps+\(address.offset) is no slot of its \(map.maxEntries) `values`")
            }
            slots.append(InitialSlot(index: index, symbol: address.symbol))
        }
        return slots
    }

    /// One definition's members; the inner definition of a map-in-map's `values` too, which may
    /// not have one of its own.
    private static func parse(name: String, members: [BTFType.Member], in btf: BTFSpec, allowsInner: Bool)
        throws(LoadError) -> (map: MapDefinition, inner: MapDefinition?)
    {
        var map = MapDefinition(name: name, type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0)
        var inner: MapDefinition?
        for (position, member) in members.enumerated() {
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
            func pointee() throws(LoadError) -> (type: BTFTypeID, size: UInt32) {
                guard case .pointer(let target)? = btf.resolved(member.type)?.type, let size = btf.size(of: target),
                      let size32 = UInt32(exactly: size)
                else { throw .badMap(name: name, reason: "member '\(member.name)' is not __type") }
                return (target, size32)
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
            case "numa_node": map.numaNode = try number32()
            case "key_size": map.keySize = try number32()
            case "value_size": map.valueSize = try number32()
            case "key": (map.keyType, map.keySize) = try pointee()
            case "value": (map.valueType, map.valueSize) = try pointee()
            case "map_extra": map.mapExtra = try number()
            case "pinning":
                guard allowsInner else { throw .badMap(name: name, reason: "an inner map cannot be pinned") }
                switch try number() {
                case 0: map.isPinnedByName = false
                case 1: map.isPinnedByName = true
                case let other: throw .badMap(name: name, reason: "pinning \(other) is neither LIBBPF_PIN_NONE nor LIBBPF_PIN_BY_NAME")
                }
            case "values":
                guard allowsInner else { throw .badMap(name: name, reason: "an inner map cannot have inner maps of its own") }
                guard position == members.count - 1 else { throw .badMap(name: name, reason: "'values' must be the last member") }
                guard map.isMapInMap || map.type == programArray else {
                    throw .badMap(name: name, reason: "has 'values' but is neither a prog_array nor a map-in-map")
                }
                guard case .array(let element, _, 0)? = btf.resolved(member.type)?.type,
                      case .pointer(let target)? = btf.resolved(element)?.type
                else { throw .badMap(name: name, reason: "'values' is not __array(values, T), an empty array of pointers") }
                // A slot holds a map or program fd, four bytes.
                map.valueSize = 4
                if map.isMapInMap {
                    guard case .structure(_, _, let innerMembers)? = btf.resolved(target)?.type else {
                        throw .badMap(name: name, reason: "the inner map definition of 'values' is not a struct")
                    }
                    inner = try parse(name: name + ".inner", members: innerMembers, in: btf, allowsInner: false).map
                } else {
                    guard case .functionProto? = btf.resolved(target)?.type else {
                        throw .badMap(name: name, reason: "a prog_array's 'values' must point to a function prototype")
                    }
                }
            default: throw .badMap(name: name, reason: "unsupported map attribute '\(member.name)'")
            }
        }
        guard map.type != 0 else { throw .badMap(name: name, reason: "has no map type") }
        return (map, inner)
    }
}

/// How many CPUs the kernel may bring up: the ranges of /sys/devices/system/cpu/possible
/// ("0-3", "0,2-5"), as libbpf's libbpf_num_possible_cpus counts them.
func possibleCPUCount() -> UInt32? {
    guard let file = fopen("/sys/devices/system/cpu/possible", "r") else { return nil }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 256)
    guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
    let text = String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var count: UInt32 = 0
    for range in text.split(separator: ",") {
        let bounds = range.split(separator: "-").map { UInt32($0) }
        guard let first = bounds.first ?? nil, let last = bounds.last ?? nil, first <= last, bounds.count <= 2 else { return nil }
        count += last - first + 1
    }
    return count > 0 ? count : nil
}
