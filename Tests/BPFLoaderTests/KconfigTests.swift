import Testing
@testable import BPFLoader

/// libbpf's rules for which configuration value fits which `__kconfig` type, without a kernel:
/// each expectation follows from the rule it names, written out by hand.
@Suite struct KconfigTests {
    func extern(_ name: String, _ kind: KconfigKind, size: Int, weak: Bool = false) -> KconfigExtern {
        KconfigExtern(name: name, isWeak: weak, kind: kind, size: size, offset: 0)
    }

    /// Largest alignment first, then smallest size, then name; each at the next aligned offset.
    @Test func layoutSortsByAlignmentSizeAndName() {
        let sorted = [extern("CONFIG_A", .bool, size: 1), extern("CONFIG_B", .integer(isSigned: false), size: 8),
                      extern("CONFIG_C", .tristate, size: 4), extern("CONFIG_D", .charArray, size: 3),
                      extern("CONFIG_E", .integer(isSigned: true), size: 2)]
        let laidOut = layOutKconfig(sorted)
        #expect(laidOut.map(\.name) == ["CONFIG_B", "CONFIG_C", "CONFIG_E", "CONFIG_A", "CONFIG_D"])
        #expect(laidOut.map(\.offset) == [0, 8, 12, 14, 15])
        #expect(KconfigValues(laidOut).bytes.count == 18)
    }

    @Test func lettersNumbersAndStrings() throws {
        let externs = layOutKconfig([
            extern("CONFIG_BOOL", .bool, size: 1), extern("CONFIG_TRI", .tristate, size: 4),
            extern("CONFIG_LETTER", .char(isSigned: true), size: 1), extern("CONFIG_HEX", .integer(isSigned: false), size: 4),
            extern("CONFIG_NEG", .integer(isSigned: true), size: 2), extern("CONFIG_NAME", .charArray, size: 4),
        ])
        var values = KconfigValues(externs)
        for line in ["# CONFIG_BOOL is not set", "CONFIG_BOOL=y", "CONFIG_BOOL=n", "CONFIG_TRI=m", "CONFIG_LETTER=y",
                     "CONFIG_HEX=0x1f", "CONFIG_NEG=-2", "CONFIG_NAME=\"(none)\"", "CONFIG_NOBODY_ASKED=1"] {
            try values.apply(line: line[...], from: "test")
        }
        func bytes(_ name: String) -> [UInt8] {
            let target = externs.first { $0.name == name }!
            return Array(values.bytes[target.offset..<target.offset + target.size])
        }
        #expect(bytes("CONFIG_BOOL") == [1])  // the first value given wins
        #expect(bytes("CONFIG_TRI") == [2, 0, 0, 0])  // TRI_MODULE
        #expect(bytes("CONFIG_LETTER") == [UInt8(ascii: "y")])
        #expect(bytes("CONFIG_HEX") == [0x1f, 0, 0, 0])
        #expect(bytes("CONFIG_NEG") == [0xfe, 0xff])
        #expect(bytes("CONFIG_NAME") == [UInt8(ascii: "("), UInt8(ascii: "n"), UInt8(ascii: "o"), 0])  // cut for the NUL
    }

    @Test(arguments: [
        (KconfigKind.bool, 1, "CONFIG_X=m", "value 'm' (a module) implies enum libbpf_tristate or char, not bool"),
        (KconfigKind.bool, 1, "CONFIG_X=2", "value '2' in test implies an integer type"),
        (KconfigKind.integer(isSigned: false), 4, "CONFIG_X=y", "value 'y' implies bool, enum libbpf_tristate or char"),
        (KconfigKind.integer(isSigned: false), 2, "CONFIG_X=65536", "value 65536 doesn't fit in 2 bytes"),
        (KconfigKind.integer(isSigned: true), 4, "CONFIG_X=2147483648", "value 2147483648 doesn't fit in 4 bytes"),
        (KconfigKind.integer(isSigned: true), 4, "CONFIG_X=12abc", "value '12abc' in test isn't a valid integer"),
        (KconfigKind.charArray, 4, "CONFIG_X=1", "value '1' in test implies an integer type"),
        (KconfigKind.tristate, 4, "CONFIG_X=\"y\"", "value \"y\" implies a char array"),
    ])
    func mismatchedValuesAreErrors(_ kind: KconfigKind, _ size: Int, _ line: String, _ reason: String) {
        var values = KconfigValues([extern("CONFIG_X", kind, size: size)])
        #expect {
            try values.apply(line: line[...], from: "test")
        } throws: { error in
            guard case .kconfig("CONFIG_X", let got) = error as? LoadError else { return false }
            return got == reason
        }
    }
}
