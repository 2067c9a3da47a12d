import BPFIR

/// A value `(base & keep) | set`, in 64 bits or in the low 32 (the upper half then zero): what a
/// run of bit-field stores into one word computes (`w.low = 7; w.flag = 1;` clears and sets bits
/// of the word in turn). Masking and setting with constants compose, so a run of them is one
/// `and` and one `or`, or a constant once every bit is set or cleared.
struct MaskedValue: Equatable {
    var base: Temp
    var keep: Int64
    var set: Int64
    var width: ALUWidth
    /// How many instructions compute it from `base` as the program has it now.
    var cost: Int

    /// Every bit a value of `width` has.
    private static func all(_ width: ALUWidth) -> Int64 { width == .bits32 ? 0xffff_ffff : -1 }

    /// `x & c` or `x | c` as a masked value of x, at cost 1.
    init?(_ operation: Operation) {
        guard case .binary(let d, let op, let width, .temp(let x), .constant(let c)) = operation, x != d else { return nil }
        let all = MaskedValue.all(width)
        switch op {
        case .and: self.init(base: x, keep: c & all, set: 0, width: width, cost: 1)
        case .or: self.init(base: x, keep: all & ~c, set: c & all, width: width, cost: 1)
        case .add, .sub, .mul, .udiv, .umod, .sdiv, .smod, .xor, .shl, .lshr, .ashr: return nil
        }
    }

    init(base: Temp, keep: Int64, set: Int64, width: ALUWidth, cost: Int) {
        self.base = base
        self.keep = keep
        self.set = set
        self.width = width
        self.cost = cost
    }

    /// This value, then `& c` or `| c` in the same width.
    func then(_ op: BinaryOperator, _ c: Int64) -> MaskedValue? {
        let c = c & MaskedValue.all(width)
        switch op {
        case .and: return MaskedValue(base: base, keep: keep & c, set: set & c, width: width, cost: cost + 1)
        case .or: return MaskedValue(base: base, keep: keep & ~c, set: set | c, width: width, cost: cost + 1)
        case .add, .sub, .mul, .udiv, .umod, .sdiv, .smod, .xor, .shl, .lshr, .ashr: return nil
        }
    }

    /// The fewest operations computing it into `d`, the last assigning d.
    func operations(into d: Temp, makeTemp: () -> Temp) -> [Operation] {
        if keep == 0 { return [.copy(d, .constant(set))] }
        if set == 0 { return [.binary(d, .and, width, .temp(base), .constant(keep))] }
        if keep | set == MaskedValue.all(width) { return [.binary(d, .or, width, .temp(base), .constant(set))] }
        let masked = makeTemp()
        return [.binary(masked, .and, width, .temp(base), .constant(keep)), .binary(d, .or, width, .temp(masked), .constant(set))]
    }
}
