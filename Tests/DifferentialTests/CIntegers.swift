// C's integer types and conversions as the generator needs them to stay clear of undefined
// behaviour: every generated expression carries its C type and an interval that contains every
// value it can take, and an operation is only emitted when C defines it for the whole interval.
// Widths are those of both LP64 x86-64 and BPF (char signed, long 64 bits).

/// A C integer type.
enum IntType: CaseIterable {
    case bool, char, signedChar, unsignedChar, short, unsignedShort, int, unsignedInt
    case long, unsignedLong, longLong, unsignedLongLong

    var spelling: String {
        switch self {
        case .bool: return "_Bool"
        case .char: return "char"
        case .signedChar: return "signed char"
        case .unsignedChar: return "unsigned char"
        case .short: return "short"
        case .unsignedShort: return "unsigned short"
        case .int: return "int"
        case .unsignedInt: return "unsigned int"
        case .long: return "long"
        case .unsignedLong: return "unsigned long"
        case .longLong: return "long long"
        case .unsignedLongLong: return "unsigned long long"
        }
    }

    var bits: Int {
        switch self {
        case .bool, .char, .signedChar, .unsignedChar: return 8
        case .short, .unsignedShort: return 16
        case .int, .unsignedInt: return 32
        case .long, .unsignedLong, .longLong, .unsignedLongLong: return 64
        }
    }

    var isSigned: Bool {
        switch self {
        case .char, .signedChar, .short, .int, .long, .longLong: return true
        case .bool, .unsignedChar, .unsignedShort, .unsignedInt, .unsignedLong, .unsignedLongLong: return false
        }
    }

    /// The integer conversion rank (C11 6.3.1.1), as a number.
    var rank: Int {
        switch self {
        case .bool: return 0
        case .char, .signedChar, .unsignedChar: return 1
        case .short, .unsignedShort: return 2
        case .int, .unsignedInt: return 3
        case .long, .unsignedLong: return 4
        case .longLong, .unsignedLongLong: return 5
        }
    }

    var unsignedCounterpart: IntType {
        switch self {
        case .bool, .unsignedChar, .unsignedShort, .unsignedInt, .unsignedLong, .unsignedLongLong: return self
        case .char, .signedChar: return .unsignedChar
        case .short: return .unsignedShort
        case .int: return .unsignedInt
        case .long: return .unsignedLong
        case .longLong: return .unsignedLongLong
        }
    }

    var signedCounterpart: IntType {
        switch self {
        case .bool, .char, .signedChar, .short, .int, .long, .longLong: return self
        case .unsignedChar: return .signedChar
        case .unsignedShort: return .short
        case .unsignedInt: return .int
        case .unsignedLong: return .long
        case .unsignedLongLong: return .longLong
        }
    }

    /// Every value of the type.
    var range: ValueRange {
        if self == .bool { return ValueRange(0, 1) }
        if isSigned { return ValueRange(-(Int128(1) << (bits - 1)), (Int128(1) << (bits - 1)) - 1) }
        return ValueRange(0, (Int128(1) << bits) - 1)
    }

    /// The integer promotions: everything below int fits in int.
    var promoted: IntType { rank < 3 ? .int : self }
}

/// The usual arithmetic conversions (C11 6.3.1.8) of two operands.
func commonType(_ a: IntType, _ b: IntType) -> IntType {
    let (a, b) = (a.promoted, b.promoted)
    if a == b { return a }
    if a.isSigned == b.isSigned { return a.rank >= b.rank ? a : b }
    let (s, u) = a.isSigned ? (a, b) : (b, a)
    if u.rank >= s.rank { return u }
    if s.bits > u.bits { return s }
    return s.unsignedCounterpart
}

/// A closed interval of mathematical integers.
struct ValueRange: Equatable {
    var lo: Int128
    var hi: Int128

    init(_ lo: Int128, _ hi: Int128) {
        precondition(lo <= hi, "empty range \(lo)...\(hi)")
        self.lo = lo
        self.hi = hi
    }

    func within(_ other: ValueRange) -> Bool { lo >= other.lo && hi <= other.hi }
    func contains(_ v: Int128) -> Bool { lo <= v && v <= hi }
    func union(_ other: ValueRange) -> ValueRange { ValueRange(min(lo, other.lo), max(hi, other.hi)) }
    /// The largest absolute value.
    var magnitude: Int128 { max(-lo, hi) }

    /// The values after converting to `type`: unchanged when they fit, otherwise (wrapping, or
    /// implementation-defined truncation into a signed type) anything the type holds.
    func converted(to type: IntType) -> ValueRange {
        if type == .bool {
            if lo == 0 && hi == 0 { return ValueRange(0, 0) }
            return contains(0) ? ValueRange(0, 1) : ValueRange(1, 1)
        }
        if lo == hi { return exactConversion(lo, to: type) }
        return within(type.range) ? self : type.range
    }
}

/// The smallest k with every value of `r` in [-2^k, 2^k - 1]: two's complement bitwise
/// operations on such values stay in that interval.
func bitSpan(_ r: ValueRange) -> Int {
    var k = 0
    while !(r.lo >= -(Int128(1) << k) && r.hi <= (Int128(1) << k) - 1) { k += 1 }
    return k
}

/// `a * b`, or a value beyond every C type with the right sign when that does not fit in 128 bits.
func saturatingProduct(_ a: Int128, _ b: Int128) -> Int128 {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    if !overflow { return product }
    return (a < 0) == (b < 0) ? Int128(1) << 126 : -(Int128(1) << 126)
}

/// The binary operators of C on integers.
enum BinaryOp: CaseIterable {
    case add, sub, mul, div, mod, shl, shr, and, or, xor, lt, le, gt, ge, eq, ne, logicalAnd, logicalOr

    var spelling: String {
        switch self {
        case .add: return "+"
        case .sub: return "-"
        case .mul: return "*"
        case .div: return "/"
        case .mod: return "%"
        case .shl: return "<<"
        case .shr: return ">>"
        case .and: return "&"
        case .or: return "|"
        case .xor: return "^"
        case .lt: return "<"
        case .le: return "<="
        case .gt: return ">"
        case .ge: return ">="
        case .eq: return "=="
        case .ne: return "!="
        case .logicalAnd: return "&&"
        case .logicalOr: return "||"
        }
    }

    /// The operators that also exist as compound assignments.
    static let compound: [BinaryOp] = [.add, .sub, .mul, .div, .mod, .shl, .shr, .and, .or, .xor]
}

/// The type and possible values of `a op b`, or nil when C leaves some case of it undefined
/// (signed overflow, division by zero or MIN / -1, a shift count outside the width, a left shift
/// of a negative value or into the sign bit). `divisorNonZero` says the divisor was checked
/// against zero by the surrounding code (`d ? x / d : 0`).
func binaryResult(_ op: BinaryOp, _ a: (IntType, ValueRange), _ b: (IntType, ValueRange),
                  divisorNonZero: Bool = false) -> (IntType, ValueRange)? {
    switch op {
    case .lt, .le, .gt, .ge, .eq, .ne, .logicalAnd, .logicalOr:
        return (.int, ValueRange(0, 1))
    case .shl, .shr:
        let type = a.0.promoted
        guard b.1.within(ValueRange(0, Int128(type.bits - 1))) else { return nil }
        let x = a.1.converted(to: type)
        if op == .shr { return (type, ValueRange(min(x.lo, 0), max(x.hi, 0))) }
        let shifted = ValueRange(saturatingProduct(x.lo, Int128(1) << Int(b.1.lo)),
                                 saturatingProduct(x.hi, Int128(1) << Int(b.1.hi)))
        if type.isSigned {
            guard x.lo >= 0, shifted.within(type.range) else { return nil }
            return (type, shifted)
        }
        return (type, shifted.within(type.range) ? shifted : type.range)
    case .add, .sub, .mul, .div, .mod, .and, .or, .xor:
        let type = commonType(a.0, b.0)
        let x = a.1.converted(to: type), y = b.1.converted(to: type)
        var result: ValueRange
        switch op {
        case .add: result = ValueRange(x.lo + y.lo, x.hi + y.hi)
        case .sub: result = ValueRange(x.lo - y.hi, x.hi - y.lo)
        case .mul:
            let corners = [saturatingProduct(x.lo, y.lo), saturatingProduct(x.lo, y.hi),
                           saturatingProduct(x.hi, y.lo), saturatingProduct(x.hi, y.hi)]
            result = ValueRange(corners.min() ?? 0, corners.max() ?? 0)
        case .div, .mod:
            guard divisorNonZero || !y.contains(0) else { return nil }
            if type.isSigned && x.contains(type.range.lo) && y.contains(-1) { return nil }
            let m = x.magnitude
            if op == .div {
                result = x.lo >= 0 ? ValueRange(0, m) : ValueRange(-m, m)
            } else {
                let r = min(m, max(y.magnitude - 1, 0))
                result = x.lo >= 0 ? ValueRange(0, r) : ValueRange(-r, r)
            }
        case .and:
            if x.lo >= 0 || y.lo >= 0 {
                result = ValueRange(0, min(x.lo >= 0 ? x.hi : y.hi, y.lo >= 0 ? y.hi : x.hi))
            } else {
                let k = max(bitSpan(x), bitSpan(y))
                result = ValueRange(-(Int128(1) << k), (Int128(1) << k) - 1)
            }
        case .or, .xor:
            let k = max(bitSpan(x), bitSpan(y))
            result = x.lo >= 0 && y.lo >= 0 ? ValueRange(0, (Int128(1) << k) - 1)
                : ValueRange(-(Int128(1) << k), (Int128(1) << k) - 1)
        case .shl, .shr, .lt, .le, .gt, .ge, .eq, .ne, .logicalAnd, .logicalOr:
            preconditionFailure("handled above")
        }
        if result.within(type.range) { return (type, result) }
        return type.isSigned ? nil : (type, type.range)
    }
}
