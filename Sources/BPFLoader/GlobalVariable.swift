import BPFObject
import BTF

/// A global variable in one of the internal-map sections (`.data*`, `.bss*`, `.rodata*`) or an
/// `__arena` global (`.addr_space.1`): where it lives and how to read its bytes as a number.
public struct GlobalVariable: Hashable, Sendable {
    /// How the bytes of a variable read as a number, from its BTF type.
    public enum Interpretation: Hashable, Sendable {
        case signed, unsigned
        /// Arrays, structs and the like: shown and set as raw bytes is not supported.
        case aggregate
    }

    public var name: String
    public var section: String
    public var offset: Int
    public var size: Int
    public var interpretation: Interpretation

    /// Finds `name` among the OBJECT symbols of the internal-map and arena sections. Without BTF (or
    /// without a VAR of that name) an integer-sized variable is taken as signed, like C's `int`.
    public init(named name: String, in object: ObjectFile) throws(LoadError) {
        guard let section = object.dataSections.first(where: {
            (isInternalMapSection($0.name) || $0.name == MapDefinition.arenaSection) && $0.symbols.contains { $0.name == name }
        }),
              let symbol = section.symbols.first(where: { $0.name == name })
        else { throw .noSuchVariable(name) }
        self.name = name
        self.section = section.name
        offset = symbol.offset
        size = symbol.size
        interpretation = [1, 2, 4, 8].contains(symbol.size) ? .signed : .aggregate
        guard let btf = object.btf,
              let (_, variable) = btf.first(where: { if case .variable(name, _, _) = $0 { true } else { false } }),
              case .variable(_, let type, _) = variable,
              let (_, resolved) = btf.resolved(type)
        else { return }
        switch resolved {
        case .int(_, _, let encoding):
            switch encoding {
            case .signed, .char: interpretation = .signed
            case .unsigned, .bool: interpretation = .unsigned
            }
        case .enumeration(_, _, let isSigned, _): interpretation = isSigned ? .signed : .unsigned
        case .pointer: interpretation = .unsigned
        case .array, .structure, .union, .forward, .typedef, .volatile, .const, .restrict, .function, .functionProto,
             .variable, .dataSection, .float, .declTag, .typeTag:
            interpretation = .aggregate
        }
    }

    /// The value as decimal text (`-3`, `18446744073709551615`).
    public func format(_ bytes: [UInt8]) throws(LoadError) -> String {
        guard bytes.count == size, [1, 2, 4, 8].contains(size), interpretation != .aggregate else {
            throw .badValue(variable: name, value: "", reason: "a \(size)-byte aggregate has no decimal value")
        }
        let raw = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        switch interpretation {
        case .unsigned, .aggregate:
            return String(raw)
        case .signed:
            let shift = UInt64(64 - 8 * size)
            return String(Int64(bitPattern: raw << shift) >> Int64(shift))
        }
    }

    /// Little-endian bytes for decimal (or 0x hex) `text`, which must fit the variable's size
    /// either as a signed or as an unsigned number.
    public func encode(_ text: String) throws(LoadError) -> [UInt8] {
        guard [1, 2, 4, 8].contains(size), interpretation != .aggregate else {
            throw .badValue(variable: name, value: text, reason: "only integer and pointer variables can be set")
        }
        let raw: UInt64
        let isHex = text.hasPrefix("0x") || text.hasPrefix("0X")
        if isHex, let value = UInt64(text.dropFirst(2), radix: 16) {
            raw = value
        } else if let value = Int64(text) {
            raw = UInt64(bitPattern: value)
            let bits = 8 * size
            if bits < 64 {
                let fitsSigned = value >= -(Int64(1) << (bits - 1)) && value < Int64(1) << (bits - 1)
                let fitsUnsigned = value >= 0 && value < Int64(1) << bits
                guard fitsSigned || fitsUnsigned else {
                    throw .badValue(variable: name, value: text, reason: "does not fit \(size) bytes")
                }
            }
        } else if let value = UInt64(text) {
            raw = value
        } else {
            throw .badValue(variable: name, value: text, reason: "not a decimal or 0x number")
        }
        if isHex, size < 8, raw >> UInt64(8 * size) != 0 {
            throw .badValue(variable: name, value: text, reason: "does not fit \(size) bytes")
        }
        return (0..<size).map { UInt8(truncatingIfNeeded: raw >> (8 * UInt64($0))) }
    }
}

extension ObjectFile {
    /// Sets the initial value of a global before the object is loaded (a `.rodata` constant is
    /// then frozen with this value, so the verifier sees it as known).
    public mutating func setInitialValue(of variable: GlobalVariable, to bytes: [UInt8]) throws(LoadError) {
        guard bytes.count == variable.size,
              let index = dataSections.firstIndex(where: { $0.name == variable.section })
        else { throw .noSuchVariable(variable.name) }
        dataSections[index].bytes.replaceSubrange(variable.offset..<variable.offset + variable.size, with: bytes)
        dataSections[index].isZeroFill = false
    }
}

/// Sections that libbpf turns into one-element array maps (bpf_object__init_internal_map), and
/// the `.kconfig` section the loader makes for kconfig externs.
func isInternalMapSection(_ name: String) -> Bool {
    name == kconfigSection || [".data", ".bss", ".rodata"].contains { name == $0 || name.hasPrefix($0 + ".") }
}
