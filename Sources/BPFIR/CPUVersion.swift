/// The BPF instruction-set version to generate (`-mcpu`): v3 adds ALU32 and JMP32; v4 adds
/// sign-extending loads and moves, signed division and store-immediate.
public enum CPUVersion: Hashable, Sendable {
    case v3, v4
}
