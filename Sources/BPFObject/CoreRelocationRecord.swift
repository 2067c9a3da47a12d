import BTF

/// A `.BTF.ext` core_relo record (`struct bpf_core_relo`): the instruction whose immediate or
/// offset the loader rewrites for the running kernel, the object's BTF type the access starts
/// from, and the access string (`0:1:2`: an index into the root pointer, then member or element
/// indices; a single `0` for type relocations; the enumerator's index for enum relocations).
public struct CoreRelocationRecord: Sendable, Hashable {
    /// Instruction slot within the code section.
    public var instructionIndex: Int
    public var type: BTFTypeID
    public var accessString: String
    public var kind: CoreRelocationKind

    public init(instructionIndex: Int, type: BTFTypeID, accessString: String, kind: CoreRelocationKind) {
        self.instructionIndex = instructionIndex
        self.type = type
        self.accessString = accessString
        self.kind = kind
    }
}
