/// A BPF register. r0 holds return values, r1-r5 arguments (clobbered by calls),
/// r6-r9 survive calls, r10 is the read-only frame pointer.
public struct Register: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        precondition(rawValue <= 10, "BPF has registers r0-r10")
        self.rawValue = rawValue
    }

    public static let r0 = Register(rawValue: 0)
    public static let r1 = Register(rawValue: 1)
    public static let r2 = Register(rawValue: 2)
    public static let r3 = Register(rawValue: 3)
    public static let r4 = Register(rawValue: 4)
    public static let r5 = Register(rawValue: 5)
    public static let r6 = Register(rawValue: 6)
    public static let r7 = Register(rawValue: 7)
    public static let r8 = Register(rawValue: 8)
    public static let r9 = Register(rawValue: 9)
    public static let r10 = Register(rawValue: 10)

    public var description: String { "r\(rawValue)" }
}

/// One 8-byte BPF instruction slot, as `struct bpf_insn` in include/uapi/linux/bpf.h.
///
/// `ld_imm64` occupies two slots; the second carries the upper 32 bits of the constant in `imm`
/// and zeroes elsewhere. Builders in `Builders.swift` create both halves together.
public struct Instruction: Hashable, Sendable {
    public var opcode: UInt8
    public var dst: Register
    public var src: Register
    public var offset: Int16
    public var imm: Int32

    public init(opcode: UInt8, dst: Register = .r0, src: Register = .r0, offset: Int16 = 0, imm: Int32 = 0) {
        self.opcode = opcode
        self.dst = dst
        self.src = src
        self.offset = offset
        self.imm = imm
    }

    /// Little-endian wire form: code, dst:4 | src:4, off (le16), imm (le32).
    public var bytes: [UInt8] {
        let off = UInt16(bitPattern: offset)
        let im = UInt32(bitPattern: imm)
        return [
            opcode, (src.rawValue << 4) | dst.rawValue,
            UInt8(off & 0xff), UInt8(off >> 8),
            UInt8(im & 0xff), UInt8((im >> 8) & 0xff), UInt8((im >> 16) & 0xff), UInt8(im >> 24),
        ]
    }

    /// Decodes one slot; nil when a register number is out of range.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 8 else { return nil }
        let b = Array(bytes)
        let dst = b[1] & 0x0f
        let src = b[1] >> 4
        guard dst <= 10, src <= 10 else { return nil }
        self.init(
            opcode: b[0], dst: Register(rawValue: dst), src: Register(rawValue: src),
            offset: Int16(bitPattern: UInt16(b[2]) | UInt16(b[3]) << 8),
            imm: Int32(bitPattern: UInt32(b[4]) | UInt32(b[5]) << 8 | UInt32(b[6]) << 16 | UInt32(b[7]) << 24))
    }

    public var isLoadImm64: Bool { opcode == Opcode.ldImm64 }
}

/// Encodes a sequence of slots.
public func encode(_ instructions: [Instruction]) -> [UInt8] {
    instructions.flatMap(\.bytes)
}

/// Decodes a code section; nil when its length is not a multiple of 8 or a slot is malformed.
public func decode(_ bytes: [UInt8]) -> [Instruction]? {
    guard bytes.count % 8 == 0 else { return nil }
    var result: [Instruction] = []
    result.reserveCapacity(bytes.count / 8)
    for start in stride(from: 0, to: bytes.count, by: 8) {
        guard let insn = Instruction(bytes: bytes[start..<start + 8]) else { return nil }
        result.append(insn)
    }
    return result
}
