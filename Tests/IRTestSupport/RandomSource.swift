/// SplitMix64: a small deterministic random source, so that every generated test program can be
/// rebuilt from its seed.
public struct RandomSource {
    public var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    public mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
    public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}
