import BTF

/// Why an ELF file could not be read as a BPF object. Each case names the section, symbol or
/// byte offset involved, so a user can find the spot with `llvm-readelf -a`.
public enum ObjectError: Error, Hashable, Sendable, CustomStringConvertible {
    case notELF(String)
    /// A read of `length` bytes at file offset `offset` ran past the end of the file.
    case truncated(what: String, offset: Int, length: Int)
    case badSection(section: String, reason: String)
    case badSymbol(symbol: String, index: Int, reason: String)
    case badRelocation(section: String, offset: Int, reason: String)
    case badInstruction(section: String, index: Int, reason: String)
    case badBTF(section: String, BTFDecodingError)
    case badBTFExt(offset: Int, reason: String)

    public var description: String {
        switch self {
        case .notELF(let reason):
            "not a BPF ELF object: \(reason)"
        case .truncated(let what, let offset, let length):
            "truncated object: \(what) needs \(length) bytes at file offset \(offset)"
        case .badSection(let section, let reason):
            "section '\(section)': \(reason)"
        case .badSymbol(let symbol, let index, let reason):
            "symbol '\(symbol)' (#\(index)): \(reason)"
        case .badRelocation(let section, let offset, let reason):
            "relocation in '\(section)' at byte \(offset): \(reason)"
        case .badInstruction(let section, let index, let reason):
            "section '\(section)' instruction \(index): \(reason)"
        case .badBTF(let section, let error):
            "section '\(section)': \(error)"
        case .badBTFExt(let offset, let reason):
            "section '.BTF.ext' at byte \(offset): \(reason)"
        }
    }
}
