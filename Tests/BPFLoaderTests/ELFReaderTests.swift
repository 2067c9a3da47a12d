import Testing
import BPFInstructions
import BPFObject
import BTF

/// The reader on clang-19 output, and on truncated and corrupted copies of it.
@Suite struct ELFReaderTests {
    static let subprograms: [UInt8] = (try? Toolchain.compileBPF(Programs.subprograms, name: "reader")) ?? []

    @Test func readsCodeSymbolsRelocationsAndBTFExt() throws {
        let object = try readObject(Self.subprograms)
        #expect(object.codeSections.map(\.name) == [".text", "syscall"])
        let text = object.codeSections[0], syscall = object.codeSections[1]
        #expect(Set(text.functions.map(\.name)) == ["square", "sum_squares", "twice"])
        #expect(text.functions.first { $0.name == "square" }?.binding == .local)
        #expect(syscall.functions.map(\.name) == ["entry_a", "entry_b"])
        #expect(syscall.functions.allSatisfy { $0.btfFunction != nil })
        // `square` is static: clang refers to it through the `.text` section symbol.
        #expect(syscall.relocations.contains { $0.symbol == ".text" })
        #expect(syscall.relocations.contains { $0.symbol == "calls" })
        #expect(syscall.relocations.contains { $0.symbol == "sum_squares" })
        let firstLine = try #require(syscall.lines.first)
        #expect(firstLine.file.hasSuffix("reader.c"))
        #expect(firstLine.sourceText.contains("calls++;"))
        #expect(object.dataSections.first { $0.name == ".bss" }?.symbols.map(\.name) == ["calls"])
        #expect(object.dataSections.first { $0.name == "license" }?.bytes == Array("GPL".utf8) + [0])
        let btf = try #require(object.btf)
        #expect(btf.types.contains(.function(name: "sum_squares", proto: btf.types.firstIndex {
            if case .function("sum_squares", _, _) = $0 { true } else { false }
        }.flatMap { index in
            if case .function(_, let proto, _) = btf.types[index] { proto } else { nil }
        } ?? .void, linkage: .global)))
        #expect(object.externs.isEmpty)
    }

    @Test func everyTruncationThrows() throws {
        let bytes = Self.subprograms
        try #require(!bytes.isEmpty)
        for length in stride(from: 0, to: bytes.count, by: 13) {
            #expect(throws: ObjectError.self, "truncated to \(length) bytes") {
                try readObject(Array(bytes.prefix(length)))
            }
        }
    }

    /// Flipped bytes must give an object or an ObjectError, never a trap. Every corruption of
    /// the ELF identification bytes must be refused.
    @Test func corruptedBytesNeverTrap() throws {
        var state: UInt64 = 0x9e3779b97f4a7c15
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33)
        }
        let bytes = Self.subprograms
        try #require(!bytes.isEmpty)
        var refused = 0
        for round in 0..<600 {
            var corrupted = bytes
            for _ in 0..<(1 + round % 4) {
                corrupted[next() % corrupted.count] = UInt8(truncatingIfNeeded: next())
            }
            do { _ = try readObject(corrupted) } catch { refused += 1 }
        }
        #expect(refused > 0)
        for index in 0..<6 {
            var corrupted = bytes
            corrupted[index] ^= 0xff
            #expect(throws: ObjectError.self) { try readObject(corrupted) }
        }
    }

    @Test func specificCorruptionsNameTheirPlace() throws {
        var bytes = Self.subprograms
        try #require(!bytes.isEmpty)
        bytes[0x28] = 0xff; bytes[0x29] = 0xff; bytes[0x2a] = 0xff  // e_shoff far past the end
        #expect(throws: ObjectError.self) { try readObject(bytes) }
        #expect(throws: ObjectError.notELF("only 3 bytes")) { try readObject([0x7f, 0x45, 0x4c]) }
    }
}

/// The BTF decoder on hand-made blobs.
@Suite struct BTFDecoderTests {
    /// `int` and a pointer to it, as the wire format spells them.
    static func blob(typeBytes: [UInt8], strings: [UInt8]) -> [UInt8] {
        func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
        return [0x9f, 0xeb, 1, 0] + u32(24) + u32(0) + u32(UInt32(typeBytes.count)) + u32(UInt32(typeBytes.count))
            + u32(UInt32(strings.count)) + typeBytes + strings
    }

    static let intAndPointer: [UInt8] = {
        func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
        let int = u32(1) + u32(1 << 24) + u32(4) + u32(1 << 24 | 32)
        let pointer = u32(0) + u32(2 << 24) + u32(1)
        return blob(typeBytes: int + pointer, strings: [0] + Array("int".utf8) + [0])
    }()

    @Test func decodesIntAndPointer() throws {
        let decoded = try decodeBTF(Self.intAndPointer)
        #expect(decoded.spec.types == [.int(name: "int", size: 4, encoding: .signed), .pointer(BTFTypeID(rawValue: 1))])
        #expect(try decoded.strings.string(at: 1) == "int")
    }

    @Test func malformedBlobsThrow() {
        #expect(throws: BTFDecodingError.self) { try decodeBTF([0x9f, 0xeb]) }
        for length in 0..<Self.intAndPointer.count - 1 {
            #expect(throws: BTFDecodingError.self) { try decodeBTF(Array(Self.intAndPointer.prefix(length))) }
        }
        var badKind = Self.intAndPointer
        badKind[24 + 7] = 31  // kind 31 does not exist
        #expect(throws: BTFDecodingError.unknownKind(type: BTFTypeID(rawValue: 1), kind: 31)) { try decodeBTF(badKind) }
    }
}
