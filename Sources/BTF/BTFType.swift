/// A type id in a BTF blob. Id 0 is `void`; the first type in a `BTFSpec` has id 1.
public struct BTFTypeID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let void = BTFTypeID(rawValue: 0)
    public var description: String { "[\(rawValue)]" }
}

/// Linkage of a BTF FUNC (kept in the vlen field) and of a BTF VAR.
public enum BTFLinkage: UInt32, Sendable {
    case `static` = 0
    case global = 1
    case external = 2
}

/// One BTF type, one case per kind (include/uapi/linux/btf.h, Documentation/bpf/btf.rst).
///
/// Types refer to each other by id, so recursive C types (`struct node { struct node *next; }`)
/// need no indirection. The wire layout lives only in the encoder and decoder.
public enum BTFType: Hashable, Sendable {
    public struct Member: Hashable, Sendable {
        public var name: String
        public var type: BTFTypeID
        public var bitOffset: UInt32
        /// Non-zero only for bitfields (then the struct is emitted with kind_flag set).
        public var bitfieldSize: UInt32
        public init(name: String, type: BTFTypeID, bitOffset: UInt32, bitfieldSize: UInt32 = 0) {
            self.name = name
            self.type = type
            self.bitOffset = bitOffset
            self.bitfieldSize = bitfieldSize
        }
    }

    public struct Parameter: Hashable, Sendable {
        public var name: String
        public var type: BTFTypeID
        public init(name: String, type: BTFTypeID) {
            self.name = name
            self.type = type
        }
    }

    public struct Enumerator: Hashable, Sendable {
        public var name: String
        public var value: Int64
        public init(name: String, value: Int64) {
            self.name = name
            self.value = value
        }
    }

    public struct SectionVariable: Hashable, Sendable {
        public var type: BTFTypeID
        public var offset: UInt32
        public var size: UInt32
        public init(type: BTFTypeID, offset: UInt32, size: UInt32) {
            self.type = type
            self.offset = offset
            self.size = size
        }
    }

    public enum IntEncoding: Hashable, Sendable {
        case unsigned, signed, char, bool
    }

    case int(name: String, size: UInt32, encoding: IntEncoding)
    case pointer(BTFTypeID)
    case array(element: BTFTypeID, index: BTFTypeID, count: UInt32)
    case structure(name: String, size: UInt32, members: [Member])
    case union(name: String, size: UInt32, members: [Member])
    /// ENUM when every value fits 32 bits and size <= 4, ENUM64 otherwise.
    case enumeration(name: String, size: UInt32, isSigned: Bool, values: [Enumerator])
    case forward(name: String, isUnion: Bool)
    case typedef(name: String, type: BTFTypeID)
    case volatile(BTFTypeID)
    case const(BTFTypeID)
    case restrict(BTFTypeID)
    case function(name: String, proto: BTFTypeID, linkage: BTFLinkage)
    /// A variadic prototype ends with a parameter of type void and no name.
    case functionProto(returnType: BTFTypeID, parameters: [Parameter])
    case variable(name: String, type: BTFTypeID, linkage: BTFLinkage)
    case dataSection(name: String, size: UInt32, variables: [SectionVariable])
    case float(name: String, size: UInt32)
    /// componentIndex -1 tags the declaration itself, else a member or parameter index.
    case declTag(name: String, type: BTFTypeID, componentIndex: Int32)
    case typeTag(name: String, type: BTFTypeID)
}

/// A whole `.BTF` type section: `types[i]` has id `i + 1`.
public struct BTFSpec: Hashable, Sendable {
    public var types: [BTFType]

    public init(types: [BTFType] = []) {
        self.types = types
    }

    /// Appends a type and returns its id.
    @discardableResult
    public mutating func add(_ type: BTFType) -> BTFTypeID {
        types.append(type)
        return BTFTypeID(rawValue: UInt32(types.count))
    }

    /// The type with this id; nil for void and for ids out of range.
    public subscript(id: BTFTypeID) -> BTFType? {
        let index = Int(id.rawValue) - 1
        return types.indices.contains(index) ? types[index] : nil
    }
}
