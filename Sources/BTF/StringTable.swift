/// The string section shared by `.BTF` and `.BTF.ext`: NUL-terminated names, each stored once,
/// starting with the empty string at offset 0 (anonymous types use name offset 0).
public struct StringTable: Sendable {
    public private(set) var bytes: [UInt8] = [0]
    private var offsets: [String: UInt32] = ["": 0]

    public init() {}

    /// The offset of `string`, adding it when new.
    public mutating func offset(of string: String) -> UInt32 {
        if let offset = offsets[string] { return offset }
        let offset = UInt32(bytes.count)
        bytes.append(contentsOf: string.utf8)
        bytes.append(0)
        offsets[string] = offset
        return offset
    }

    /// The string at `offset`, as a BTF reader sees it; nil when `offset` is outside the table.
    public func string(at offset: UInt32) -> String? {
        guard offset < bytes.count else { return nil }
        return String(decoding: bytes[Int(offset)...].prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// Appends little-endian integers to a byte buffer: the one writer behind `.BTF`, `.BTF.ext` and ELF.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func append(bytes more: [UInt8]) {
        bytes.append(contentsOf: more)
    }

    /// Pads with zeros up to a multiple of `alignment`.
    public mutating func align(to alignment: Int) {
        precondition(alignment > 0)
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    public var count: Int { bytes.count }
}
