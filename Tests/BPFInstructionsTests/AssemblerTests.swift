import Foundation
import Testing
import ToolTestSupport
@testable import BPFInstructions

/// The assembler against LLVM's (llvm-mc-19 assembles the same text) and against our own
/// disassembler (every listing line assembles back to the instruction it came from).
@Suite struct AssemblerTests {
    /// Statements in LLVM's syntax, one of each form inline asm in BPF programs uses.
    static let llvmSyntax = """
        r0 = r1
        w0 += 1
        w3 -= w4
        r2 *= -7
        r1 /= r2
        w1 %= 10
        r5 &= 0xff
        r6 |= r7
        w8 ^= w9
        r1 <<= 3
        r1 >>= r2
        r1 s>>= 3
        w1 s>>= w2
        r1 s/= r2
        r1 s%= 3
        r0 = 0x7fffffff
        r1 = -2147483648
        r1 = 0xffffffff
        w1 = 0xffffffff
        r1 = 0x123456789 ll
        r2 = -1 ll
        r1 = -r1
        w1 = -w1
        r1 = (s8)r2
        w1 = (s16)w2
        r1 = (s32)r2
        r0 = *(u64 *)(r1 + 8)
        r1 = *(u32 *)(r10 - 4)
        w1 = *(u16 *)(r2 + 0)
        r1 = *(u8 *)(r2 + 32767)
        r1 = *(s8 *)(r2 - 4)
        r1 = *(s32 *)(r2 + 4)
        *(u64 *)(r10 - 8) = r1
        *(u16 *)(r10 - 8) = w1
        *(u32 *)(r10 - 8) = 5
        *(u64 *)(r1 + 0) = -1
        lock *(u64 *)(r1 + 0) += r2
        lock *(u32 *)(r1 + 4) += w2
        lock *(u64 *)(r1 + 0) |= r2
        lock *(u64 *)(r1 + 0) &= r2
        lock *(u64 *)(r1 - 8) ^= r2
        r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)
        w2 = atomic_fetch_and((u32 *)(r1 + 0), w2)
        r3 = atomic_fetch_or((u64 *)(r1 + 16), r3)
        r3 = atomic_fetch_xor((u64 *)(r1 + 16), r3)
        r0 = cmpxchg_64(r1 + 0, r0, r2)
        w0 = cmpxchg32_32(r1 + 0, w0, w2)
        r2 = xchg_64(r1 + 0, r2)
        w2 = xchg32_32(r1 + 0, w2)
        r1 = be16 r1
        r1 = be64 r1
        r1 = le32 r1
        r1 = bswap16 r1
        r1 = bswap64 r1
        r1 = addr_space_cast(r2, 0, 1)
        r3 = addr_space_cast(r3, 1, 0)
        r0 = *(u8 *)skb[1]
        r0 = *(u16 *)skb[r1]
        call 5
        callx r1
        if r1 > 5 goto +1
        if r1 == -1 goto +0
        if w1 > 0xffffffff goto +0
        if w1 s< w2 goto l1
        if r1 & 4 goto -2
        if r1 s>= r2 goto l1
        if r3 != r4 goto 1f
        1: r1 += 1
        goto 1b
        l1:
        may_goto +1
        gotol +3
        goto l1 // comment
        r0 = 1; r1 = 2 # comment
        /* block
           comment */ r3 = 3
        .byte 0xbf, 0x21
        .short 1
        .long 2
        .quad 3
        exit
        """

    @Test func matchesLLVM() throws {
        let ours = try assemble(Self.llvmSyntax)
        #expect(ours.externalJumps.isEmpty)
        #expect(encode(ours.instructions) == (try llvmBytes(Self.llvmSyntax)))
    }

    /// Every line the disassembler prints for the forms above assembles back to the same slot.
    @Test func disassemblyAssemblesBack() throws {
        let instructions = try assemble(Self.llvmSyntax).instructions
        for line in disassemble(instructions) where !line.text.hasPrefix("BUG") {
            let again = try assemble(line.text).instructions
            let original = Array(instructions[line.index..<line.index + again.count])
            #expect(again == original, "\(line.text)")
        }
    }

    @Test(arguments: DisassemblerTests.cases.indices)
    func kernelSyntaxAssemblesBack(_ index: Int) throws {
        let (instruction, next, text) = DisassemblerTests.cases[index]
        // Map references need the loader's fd; the kernel prints `unknown` for helpers it does not know.
        guard !text.hasPrefix("BUG"), !text.contains("map[") else { return }
        let expected = [instruction] + (next.map { [$0] } ?? [])
        #expect(try assemble(text).instructions == expected, "\(text)")
    }

    /// bpf_experimental.h's `bpf_addr_space_cast` once its operands are substituted: raw bytes chosen
    /// by `.ifc` on the register name.
    @Test(arguments: [0, 1, 6, 9])
    func addrSpaceCastBytes(_ register: Int) throws {
        let selections = (0...9).map { ".ifc r\(register), r\($0); .byte 0x\($0)\($0); .endif" }.joined(separator: "; ")
        let text = ".byte 0xBF; \(selections); .short 1; .long 65536"
        #expect(try assemble(text).instructions
                == [Instruction(opcode: 0xbf, dst: Register(rawValue: UInt8(register)), src: Register(rawValue: UInt8(register)),
                                offset: 1, imm: 0x10000)])
        #expect(encode(try assemble(text).instructions) == (try llvmBytes(text)))
    }

    @Test func conditionalsNest() throws {
        let text = """
            .ifnc r1, r1
            r0 = 1
            .ifc a, a
            r0 = 2
            .endif
            .else
            r0 = 3
            .endif
            """
        #expect(try assemble(text).instructions == [Instruction(opcode: 0xb7, imm: 3)])
    }

    @Test func jumpsOutsideAreReported() throws {
        let code = try assemble("r0 = 0\nif r1 > 3 goto +3\nr0 = 1\ngoto -5")
        #expect(code.jumpsOutside.map(\.line) == [2, 4])
        #expect(code.jumpsOutside.map(\.message) == ["the jump leaves the assembly: it lands 1 instructions past its end",
                                                     "the jump leaves the assembly: it lands 1 instructions before its start"])
    }

    @Test func externalLabelsAreLeftToTheCaller() throws {
        let code = try assemble("if r1 > 3 goto out\nr0 = 1\ngoto out", externalLabels: ["out"])
        #expect(code.externalJumps == [ExternalJump(index: 0, label: "out"), ExternalJump(index: 2, label: "out")])
    }

    static let errors: [(String, Int, String)] = [
        ("r0 = 1\nfoo r1", 2, "unknown instruction 'foo'"),
        ("r11 = 1", 1, "unknown instruction 'r11'"),
        ("r1 += w2", 1, "both registers must be rN or both wN"),
        ("r0 = 1\ngoto nowhere", 2, "undefined label 'nowhere'"),
        (".byte 1, 2", 1, "not whole 8-byte instructions"),
        (".ifc r1, r1\nr0 = 1", 1, ".ifc without .endif"),
        (".align 8", 1, "unsupported directive '.align'"),
        ("r1 = 4294967296", 1, "does not fit a 32-bit immediate"),
        ("r1 = *(u64 *)(r2 + 40000)", 1, "offset 40000 does not fit 16 bits"),
        ("call bpf_throw", 1, "call takes a helper number"),
        ("r1 = be16 r2", 1, "swaps a register in place"),
        ("r1 = 1 $", 1, "unexpected character '$'"),
    ]

    @Test(arguments: errors.indices)
    func reportsTheStatement(_ index: Int) {
        let (text, line, message) = Self.errors[index]
        #expect {
            try assemble(text)
        } throws: { error in
            guard let error = error as? AssemblyError else { return false }
            return error.line == line && error.message.contains(message)
        }
    }

    /// The `.text` bytes llvm-mc-19 makes of `text`.
    private func llvmBytes(_ text: String) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpfcc-asm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try text.write(to: directory.appendingPathComponent("in.s"), atomically: true, encoding: .utf8)
        let assembled = try runTool(["llvm-mc-19", "-triple", "bpfel", "-mcpu=v4", "-filetype=obj", "in.s", "-o", "in.o"],
                                    in: directory)
        try #require(assembled.status == 0, "\(assembled.stderr)")
        let copied = try runTool(["llvm-objcopy-19", "-O", "binary", "--only-section=.text", "in.o", "in.bin"], in: directory)
        try #require(copied.status == 0, "\(copied.stderr)")
        return Array(try Data(contentsOf: directory.appendingPathComponent("in.bin")))
    }
}
