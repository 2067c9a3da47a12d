/// A read past the end of a byte buffer: where the read started, how much it wanted, how much
/// there was. Readers of ELF and BTF turn it into their own error with the section or type named.
public struct OutOfBounds: Error, Hashable, Sendable {
    public var offset: Int
    public var length: Int
    public var available: Int
}

/// A little-endian, bounds-checked cursor over bytes that came from a file.
///
/// Every read either returns a value from inside the buffer or throws `OutOfBounds`, so a
/// truncated or corrupted object can never make a reader trap. Offsets are absolute; `seek`
/// and the `at:` reads let callers follow the offsets that ELF and BTF headers contain.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var remaining: Int { max(0, bytes.count - offset) }
    public var isAtEnd: Bool { offset >= bytes.count }

    public mutating func seek(to newOffset: Int) throws(OutOfBounds) {
        try check(newOffset, 0)
        offset = newOffset
    }

    /// The `length` bytes at `start`, checked against overflow as well as the end.
    public func slice(at start: Int, length: Int) throws(OutOfBounds) -> ArraySlice<UInt8> {
        try check(start, length)
        return bytes[start..<start + length]
    }

    public mutating func readBytes(_ length: Int) throws(OutOfBounds) -> ArraySlice<UInt8> {
        let result = try slice(at: offset, length: length)
        offset += length
        return result
    }

    public mutating func readU8() throws(OutOfBounds) -> UInt8 { UInt8(try readLittleEndian(1)) }
    public mutating func readU16() throws(OutOfBounds) -> UInt16 { UInt16(try readLittleEndian(2)) }
    public mutating func readU32() throws(OutOfBounds) -> UInt32 { UInt32(try readLittleEndian(4)) }
    public mutating func readU64() throws(OutOfBounds) -> UInt64 { try readLittleEndian(8) }

    public func u16(at position: Int) throws(OutOfBounds) -> UInt16 { UInt16(try littleEndian(at: position, 2)) }
    public func u32(at position: Int) throws(OutOfBounds) -> UInt32 { UInt32(try littleEndian(at: position, 4)) }
    public func u64(at position: Int) throws(OutOfBounds) -> UInt64 { try littleEndian(at: position, 8) }

    /// The NUL-terminated string at `position` (string tables of ELF and BTF).
    public func cString(at position: Int) throws(OutOfBounds) -> String {
        try check(position, 1)
        guard let end = bytes[position...].firstIndex(of: 0) else {
            throw OutOfBounds(offset: position, length: bytes.count - position + 1, available: bytes.count)
        }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    private mutating func readLittleEndian(_ width: Int) throws(OutOfBounds) -> UInt64 {
        let value = try littleEndian(at: offset, width)
        offset += width
        return value
    }

    private func littleEndian(at position: Int, _ width: Int) throws(OutOfBounds) -> UInt64 {
        try check(position, width)
        var value: UInt64 = 0
        for i in 0..<width {
            value |= UInt64(bytes[position + i]) << (8 * UInt64(i))
        }
        return value
    }

    private func check(_ start: Int, _ length: Int) throws(OutOfBounds) {
        guard start >= 0, length >= 0, start <= bytes.count, length <= bytes.count - start else {
            throw OutOfBounds(offset: start, length: length, available: bytes.count)
        }
    }
}
