import Testing
@testable import BPFInstructions

@Suite struct EncodingTests {
    /// The bytes clang-19 emits for `r1 = addr_space_cast(r1, 0, 1)` (bpf-arena-abi.md §1.1).
    @Test func addrSpaceCastMatchesClang() {
        let insn = Instruction(opcode: Opcode.classALU64 | Opcode.mov | Opcode.sourceX, dst: .r1, src: .r1,
                               offset: Opcode.addrSpaceCastOffset, imm: 1)
        #expect(insn.bytes == [0xbf, 0x11, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00])
    }

    @Test func decodeInvertsEncode() {
        let program = [
            Instruction(opcode: Opcode.classALU64 | Opcode.mov | Opcode.sourceK, dst: .r0, imm: -7),
            Instruction(opcode: Opcode.classJMP | Opcode.exit),
        ]
        #expect(decode(encode(program)) == program)
        #expect(decode([1, 2, 3]) == nil)
    }
}
