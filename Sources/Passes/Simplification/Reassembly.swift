import BPFIR

// Reassembly: a value taken apart and put back together is that value. Stack alignment splits a
// packed struct's misaligned member into byte stores of `x >> 8`, `x >> 16`, ...; load forwarding
// hands the bytes back, and the member's reload ors them together again:
// `(x & 255) | ((x >> 8) & 255) << 8 | ...` is x, or x masked when only some bytes come back.
// Propagation follows each once-assigned Temp as a piece of another and folds an `or` of pieces.

/// Some bits of `source`, moved by `shift` (to the left, or to the right when negative), in their
/// place in `mask`; every bit outside `mask` is zero.
struct ValuePiece: Equatable {
    var source: Temp
    var shift: Int
    var mask: UInt64

    /// All the bits `t` can have, where it is: `bits` is how many low bits it may have set.
    init(whole t: Temp, bits: Int) {
        self.init(source: t, shift: 0, mask: bits >= 64 ? .max : (1 << UInt64(bits)) - 1)
    }

    init(source: Temp, shift: Int, mask: UInt64) {
        self.source = source
        self.shift = shift
        self.mask = mask
    }

    /// What `operation` computes as a piece, given the pieces its operands are.
    init?(_ operation: Operation, piece: (Temp) -> ValuePiece?) {
        switch operation {
        case .copy(_, .temp(let x)):
            guard let p = piece(x) else { return nil }
            self = p
        case .zeroExtend(_, .temp(let x), let bits):
            guard let p = piece(x) else { return nil }
            self.init(source: p.source, shift: p.shift, mask: p.mask & ValuePiece(whole: x, bits: bits).mask)
        case .binary(_, let op, let width, .temp(let x), let operand):
            guard let p = piece(x) else { return nil }
            let all: UInt64 = width == .bits32 ? 0xffff_ffff : .max
            switch (op, operand) {
            case (.and, .constant(let c)):
                self.init(source: p.source, shift: p.shift, mask: p.mask & UInt64(bitPattern: c) & all)
            case (.lshr, .constant(let c)) where c >= 0 && c < (width == .bits32 ? 32 : 64):
                self.init(source: p.source, shift: p.shift - Int(c), mask: (p.mask & all) >> UInt64(c))
            case (.shl, .constant(let c)) where c >= 0 && c < (width == .bits32 ? 32 : 64):
                self.init(source: p.source, shift: p.shift + Int(c), mask: (p.mask << UInt64(c)) & all)
            case (.or, .temp(let y)):
                // Bits of one value in the same place join; an empty piece is zero.
                guard let q = piece(y) else { return nil }
                if q.mask == 0 {
                    self.init(source: p.source, shift: p.shift, mask: p.mask & all)
                } else if p.mask == 0 || (q.source == p.source && q.shift == p.shift) {
                    self.init(source: q.source, shift: q.shift, mask: (p.mask | q.mask) & all)
                } else {
                    return nil
                }
            case (.and, .temp), (.lshr, _), (.shl, _), (.or, .constant), (.add, _), (.sub, _), (.mul, _), (.udiv, _),
                 (.umod, _), (.sdiv, _), (.smod, _), (.xor, _), (.ashr, _):
                return nil
            }
        case .copy, .zeroExtend, .binary, .negate, .signExtend, .byteSwap, .load, .store, .atomic, .call, .setCondition,
             .slotAddress, .symbolAddress, .copyMemory, .setMemory, .addrSpaceCast, .compareExchange, .inlineAsm, .coreValue:
            return nil
        }
    }

    /// The fewest operations computing this piece into `d` when it is the source in place, whole
    /// or with its low bits kept, the last assigning d; `sourceBits` is how many low bits the
    /// source may have set.
    func reassembled(into d: Temp, sourceBits: Int, makeTemp: () -> Temp) -> [Operation]? {
        let whole = ValuePiece(whole: source, bits: sourceBits).mask
        guard shift == 0 else { return nil }
        if mask & whole == whole { return [.copy(d, .temp(source))] }
        if mask == 0xffff_ffff { return [.zeroExtend(d, .temp(source), fromBits: 32)] }
        // An `and` immediate is 32 bits, sign-extended; wider low bits shift out and back.
        if let immediate = Int32(exactly: mask) { return [.binary(d, .and, .bits64, .temp(source), .constant(Int64(immediate)))] }
        guard mask & (mask &+ 1) == 0 else { return nil }
        let cleared = Int64(mask.leadingZeroBitCount)
        let raised = makeTemp()
        return [.binary(raised, .shl, .bits64, .temp(source), .constant(cleared)),
                .binary(d, .lshr, .bits64, .temp(raised), .constant(cleared))]
    }
}
