import BPFDiagnostics

/// Index of a C type in a `TypeTable`.
public struct TypeID: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
}

/// A C type as the frontend found it, kept for BTF and for the arena pass.
///
/// Types live in a table and name each other by `TypeID`, the same shape as BTF, so recursive
/// structs need no indirection and the BTF emitter is a one-to-one walk.
public enum CType: Hashable, Sendable {
    public struct Field: Hashable, Sendable {
        public var name: String
        public var type: TypeID
        public var bitOffset: Int
        /// Non-zero for a bitfield.
        public var bitWidth: Int
        public init(name: String, type: TypeID, bitOffset: Int, bitWidth: Int) {
            self.name = name
            self.type = type
            self.bitOffset = bitOffset
            self.bitWidth = bitWidth
        }
    }

    public struct Parameter: Hashable, Sendable {
        public var name: String
        public var type: TypeID
        public init(name: String, type: TypeID) {
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

    case void
    /// `_Bool`, `char` and every other integer type; `name` is the C spelling (`unsigned int`).
    case integer(name: String, size: Int, isSigned: Bool)
    /// `addressSpace` is 1 for `__arena` pointees.
    case pointer(pointee: TypeID, addressSpace: Int)
    case array(element: TypeID, count: Int)
    case structure(name: String, size: Int, align: Int, fields: [Field])
    case union(name: String, size: Int, align: Int, fields: [Field])
    case enumeration(name: String, size: Int, isSigned: Bool, values: [Enumerator])
    /// A struct or union declared but never defined.
    case forward(name: String, isUnion: Bool)
    case typedef(name: String, type: TypeID)
    case const(TypeID)
    case volatile(TypeID)
    case function(returnType: TypeID, parameters: [Parameter], isVariadic: Bool)
}

/// Every C type the module mentions, deduplicated.
public struct TypeTable: Sendable {
    public private(set) var types: [CType] = []
    private var index: [CType: TypeID] = [:]

    public init() {}

    /// The id of `type`, adding it when new.
    public mutating func intern(_ type: CType) -> TypeID {
        if let id = index[type] { return id }
        let id = TypeID(rawValue: types.count)
        types.append(type)
        index[type] = id
        return id
    }

    /// Reserves an id for a struct or union whose fields refer back to it; fill it with `define`.
    public mutating func reserve(_ placeholder: CType) -> TypeID {
        let id = TypeID(rawValue: types.count)
        types.append(placeholder)
        return id
    }

    /// Completes a reserved entry.
    public mutating func define(_ id: TypeID, as type: CType) {
        types[id.rawValue] = type
        if index[type] == nil { index[type] = id }
    }

    public subscript(id: TypeID) -> CType { types[id.rawValue] }

    /// How many low bits of r0 the callers of a function of type `function` read: as many as an
    /// integer or enum of at most 4 bytes, other than `_Bool`, has (8 for a `char`), since its
    /// callers extend the value themselves, as clang's do; 64 otherwise.
    public func returnedBits(ofFunction function: TypeID) -> Int {
        guard function.rawValue < types.count, case .function(var returned, _, _) = self[function] else { return 64 }
        while true {
            switch self[returned] {
            case .typedef(_, let type), .const(let type), .volatile(let type):
                returned = type
            case .integer(let name, let size, _):
                return size <= 4 && name != "_Bool" ? size * 8 : 64
            case .enumeration(_, let size, _, _):
                return size <= 4 ? size * 8 : 64
            case .void, .pointer, .array, .structure, .union, .forward, .function:
                return 64
            }
        }
    }
}
