import Foundation
import Testing
import ToolTestSupport
import BTF
@testable import BPFLoader

/// Sizes taken from an object are checked against the kernel's limits before anything is
/// allocated, and `swiftbpf` reports them as errors (exit 1) naming the section or type and the
/// limit, instead of trapping or allocating gigabytes first.
@Suite struct LoaderLimitsTests {
    static func program(bssBytes: String) -> String {
        "char big[\(bssBytes)];\nSEC(\"syscall\") int p(void *ctx) { return big[5]; }\n"
    }

    /// The kernel takes array map values up to INT_MAX bytes (array_map_alloc_check in
    /// kernel/bpf/arraymap.c); one byte more, exactly 4 GiB (which trapped converting the size to
    /// 32 bits) and just under 4 GiB (which allocated 4.2 GB before the kernel said E2BIG) are
    /// refused while reading, by `run`, `stats` and `dump` alike.
    @Test(arguments: [("2147483648ull", "2147483648"), ("1ull << 32", "4294967296"), ("(1ull << 32) - 8", "4294967288")])
    func bssBeyondTheArrayMapLimitIsAnError(size: String, printed: String) throws {
        let object = try Toolchain.compileClang(Programs.prelude + Self.program(bssBytes: size), name: "bss_\(printed)")
        for command in ["run", "stats", "dump"] {
            let result = try runTool([try Toolchain.ours("swiftbpf"), command, object.path])
            #expect(result.status == 1, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("section '.bss': zero-fill size \(printed) exceeds 2147483647 bytes"),
                    "\(command): \(result.stderr)")
        }
    }

    /// An INT of 2^29 bytes or more made the BTF rewritten for the kernel overflow (size·8 bits).
    /// The kernel's checker allows 128 bits, so the decoder refuses wider INTs and names the type.
    @Test func btfIntWiderThan128BitsIsAnError() throws {
        let object = try Toolchain.compileClang(Programs.compute, name: "wide_int")
        var bytes = Array(try Data(contentsOf: object))
        // `int`: info = BTF_KIND_INT << 24, size 4, encoding SIGNED with 32 bits.
        let pattern: [UInt8] = [0, 0, 0, 1, 4, 0, 0, 0, 32, 0, 0, 1]
        let at = try #require((0...bytes.count - pattern.count).first { Array(bytes[$0..<$0 + pattern.count]) == pattern })
        bytes.replaceSubrange(at + 4..<at + 8, with: [0, 0, 0, 0x20])  // 1 << 29
        let patched = Toolchain.directory.appendingPathComponent("wide_int_patched.o")
        try Data(bytes).write(to: patched)
        let result = try runTool([try Toolchain.ours("swiftbpf"), "run", patched.path])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("section '.BTF': BTF type ["), "\(result.stderr)")
        #expect(result.stderr.contains("]: INT of 536870912 bytes is wider than the 128 bits the kernel's BTF allows"),
                "\(result.stderr)")
    }

    /// Malformed BTF whose types are built from themselves: sizes and C spellings stop at the
    /// kernel's resolve depth instead of recursing until the stack overflows.
    @Test func selfReferentialTypesEnd() {
        let arrayOfItself = BTFSpec(types: [.array(element: BTFTypeID(rawValue: 1), index: BTFTypeID(rawValue: 1), count: 2)])
        #expect(arrayOfItself.size(of: BTFTypeID(rawValue: 1)) == nil)
        let pointerToItself = BTFSpec(types: [.pointer(BTFTypeID(rawValue: 1))])
        #expect(pointerToItself.cDeclaration(of: BTFTypeID(rawValue: 1), declarator: "p").hasSuffix("*p"))
        // A prototype whose three parameters point back to it: 3^n spellings without a budget.
        let back = BTFTypeID(rawValue: 2)
        let prototypeOfItself = BTFSpec(types: [.functionProto(returnType: back, parameters: [
            .init(name: "a", type: back), .init(name: "b", type: back), .init(name: "c", type: back),
        ]), .pointer(BTFTypeID(rawValue: 1))])
        #expect(prototypeOfItself.cDeclaration(of: BTFTypeID(rawValue: 1)).contains("..."))
    }
}
