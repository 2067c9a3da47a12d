import Testing
@testable import BPFInstructions

/// Golden listings in kernel syntax (kernel/bpf/disasm.c) for instructions encoded by hand.
@Suite struct DisassemblerTests {
    static let cases: [(Instruction, Instruction?, String)] = [
        (Instruction(opcode: 0xb7, dst: .r0, imm: 0), nil, "r0 = 0"),
        (Instruction(opcode: 0x0c, dst: .r1, src: .r2), nil, "w1 += w2"),
        (Instruction(opcode: 0x07, dst: .r1, imm: -8), nil, "r1 += -8"),
        (Instruction(opcode: 0x61, dst: .r1, src: .r10, offset: -4), nil, "r1 = *(u32 *)(r10 -4)"),
        (Instruction(opcode: 0x7b, dst: .r10, src: .r1, offset: -8), nil, "*(u64 *)(r10 -8) = r1"),
        (Instruction(opcode: 0x62, dst: .r10, offset: -4, imm: 7), nil, "*(u32 *)(r10 -4) = 7"),
        (Instruction(opcode: 0x71, dst: .r3, src: .r1, offset: 0), nil, "r3 = *(u8 *)(r1 +0)"),
        (Instruction(opcode: 0x25, dst: .r1, offset: 3, imm: 5), nil, "if r1 > 0x5 goto pc+3"),
        (Instruction(opcode: 0x55, dst: .r1, offset: 2, imm: -1), nil, "if r1 != 0xffffffff goto pc+2"),
        (Instruction(opcode: 0xce, dst: .r1, src: .r2, offset: -2), nil, "if w1 s< w2 goto pc-2"),
        (Instruction(opcode: 0x05, offset: -1), nil, "goto pc-1"),
        (Instruction(opcode: 0x06, imm: 70000), nil, "gotol pc+70000"),
        (Instruction(opcode: 0x18, dst: .r1, imm: 0x123), Instruction(opcode: 0), "r1 = 0x123 ll"),
        (Instruction(opcode: 0x18, dst: .r2, imm: -1), Instruction(opcode: 0, imm: 1), "r2 = 0x1ffffffff ll"),
        (Instruction(opcode: 0x18, dst: .r1, src: .r1, imm: 5), Instruction(opcode: 0), "r1 = map[fd:5]"),
        (Instruction(opcode: 0x18, dst: .r1, src: .r2, imm: 5), Instruction(opcode: 0, imm: 16), "r1 = map[fd:5][0]+16"),
        (Instruction(opcode: 0x85, imm: 1), nil, "call bpf_map_lookup_elem#1"),
        (Instruction(opcode: 0x85, imm: 9999), nil, "call unknown#9999"),
        (Instruction(opcode: 0x85, src: .r1, imm: 3), nil, "call pc+3"),
        (Instruction(opcode: 0x85, src: .r1, imm: -1), nil, "call pc-1"),
        (Instruction(opcode: 0x85, src: .r2, imm: 63483), nil, "call kernel-function#63483"),
        (Instruction(opcode: 0x95), nil, "exit"),
        (Instruction(opcode: 0xbf, dst: .r1, src: .r1, offset: 1, imm: 1), nil, "r1 = addr_space_cast(r1, 0, 1)"),
        (Instruction(opcode: 0xbf, dst: .r2, src: .r3, offset: 1, imm: 0x10000), nil, "r2 = addr_space_cast(r3, 1, 0)"),
        (Instruction(opcode: 0xe5, offset: -3), nil, "may_goto pc-3"),
        (Instruction(opcode: 0xbf, dst: .r1, src: .r2, offset: 8), nil, "r1 = (s8)r2"),
        (Instruction(opcode: 0xbc, dst: .r1, src: .r2, offset: 16), nil, "w1 = (s16)w2"),
        (Instruction(opcode: 0x81, dst: .r1, src: .r10, offset: -4), nil, "r1 = *(s32 *)(r10 -4)"),
        (Instruction(opcode: 0x91, dst: .r1, src: .r2, offset: 2), nil, "r1 = *(s8 *)(r2 +2)"),
        (Instruction(opcode: 0xdb, dst: .r1, src: .r2, imm: 0x00), nil, "lock *(u64 *)(r1 +0) += r2"),
        (Instruction(opcode: 0xc3, dst: .r1, src: .r2, offset: 4, imm: 0x50), nil, "lock *(u32 *)(r1 +4) &= r2"),
        (Instruction(opcode: 0xc3, dst: .r1, src: .r2, imm: 0x01), nil, "r2 = atomic_fetch_add((u32 *)(r1 +0), r2)"),
        (Instruction(opcode: 0xdb, dst: .r1, src: .r2, imm: 0xa1), nil, "r2 = atomic64_fetch_xor((u64 *)(r1 +0), r2)"),
        (Instruction(opcode: 0xdb, dst: .r1, src: .r2, imm: 0xe1), nil, "r2 = atomic64_xchg((u64 *)(r1 +0), r2)"),
        // BPF_LOAD_ACQ loads into dst from src, as LLVM encodes `w0 = load_acquire((u8 *)(r1 + 0))`:
        // d3 10 00 00 00 01 00 00.
        (Instruction(opcode: 0xd3, dst: .r0, src: .r1, imm: 0x100), nil, "w0 = load_acquire((u8 *)(r1 +0))"),
        (Instruction(opcode: 0xdb, dst: .r3, src: .r10, offset: -8, imm: 0x100), nil,
         "r3 = load_acquire((u64 *)(r10 -8))"),
        // BPF_STORE_REL stores src at dst: `store_release((u32 *)(r1 + 4), w2)` is c3 21 04 00 10 01 00 00.
        (Instruction(opcode: 0xc3, dst: .r1, src: .r2, offset: 4, imm: 0x110), nil, "store_release((u32 *)(r1 +4), r2)"),
        (Instruction(opcode: 0xdb, dst: .r1, src: .r2, imm: 0xf1), nil, "r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)"),
        (Instruction(opcode: 0x3f, dst: .r1, src: .r2, offset: 1), nil, "r1 s/= r2"),
        (Instruction(opcode: 0x94, dst: .r1, offset: 1, imm: 3), nil, "w1 s%= 3"),
        (Instruction(opcode: 0x3f, dst: .r1, src: .r2), nil, "r1 /= r2"),
        (Instruction(opcode: 0xcf, dst: .r1, src: .r2), nil, "r1 s>>= r2"),
        (Instruction(opcode: 0xdc, dst: .r1, imm: 32), nil, "r1 = be32 r1"),
        (Instruction(opcode: 0xd4, dst: .r1, imm: 16), nil, "r1 = le16 r1"),
        (Instruction(opcode: 0xd7, dst: .r1, imm: 64), nil, "r1 = bswap64 r1"),
        (Instruction(opcode: 0x87, dst: .r1), nil, "r1 = -r1"),
        (Instruction(opcode: 0x84, dst: .r0), nil, "w0 = -w0"),
        (Instruction(opcode: 0xff), nil, "BUG_alu64_ff"),
    ]

    @Test(arguments: cases.indices)
    func kernelSyntax(_ index: Int) {
        let (instruction, next, expected) = Self.cases[index]
        #expect(disassemble(instruction, next: next) == expected)
    }

    @Test func listingKeepsLoadImm64Together() {
        let program = [
            Instruction(opcode: 0x18, dst: .r1, imm: 7), Instruction(opcode: 0),
            Instruction(opcode: 0x95),
            Instruction(opcode: 0x18, dst: .r2, imm: 1),
        ]
        let listing = disassemble(program)
        #expect(listing.map(\.index) == [0, 2, 3])
        #expect(listing.map(\.text) == ["r1 = 0x7 ll", "exit", "r2 = <ld_imm64 without its second slot>"])
    }
}
