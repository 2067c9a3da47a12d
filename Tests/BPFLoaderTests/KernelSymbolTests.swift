import Foundation
import Testing
import BPFInstructions
import BPFObject
import BTF
import ToolTestSupport
@testable import BPFLoader

/// `__ksym` externs resolved against the running kernel's BTF, which bpftool reads independently.
extension ProgramBTFKernelTests {
    static let kernelSymbols = Programs.prelude + """
        #define __ksym __attribute__((section(".ksyms")))
        extern const int cpu_number __ksym;
        extern const int swiftbpf_no_such_variable __ksym __attribute__((weak));
        extern void bpf_rcu_read_lock(void) __ksym __attribute__((weak));
        extern const void bpf_prog_put __ksym;
        long addresses[4];
        SEC("syscall") int entry(void *ctx) {
            addresses[0] = (long)&cpu_number;
            addresses[1] = (long)&swiftbpf_no_such_variable;
            addresses[2] = (long)&bpf_rcu_read_lock;
            addresses[3] = (long)&bpf_prog_put;
            return 0;
        }
        """

    /// The id bpftool prints for `KIND 'name'` in vmlinux BTF.
    static func vmlinuxID(_ kind: String, _ name: String) throws -> Int32 {
        let dump = try runTool(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"]).stdout
        let line = try #require(dump.split(separator: "\n").first { $0.contains("] \(kind) '\(name)' ") })
        return try #require(Int32(line.dropFirst().prefix { $0 != "]" }))
    }

    /// A typed kernel variable and a kfunc's address become BPF_PSEUDO_BTF_ID loads of their
    /// vmlinux ids; a typeless symbol becomes its address in /proc/kallsyms; a weak variable the
    /// kernel lacks becomes address 0.
    @Test(arguments: Compiler.allCases)
    func kernelSymbolAddressesNameVmlinuxBTF(compiler: Compiler) throws {
        let object = try object(Self.kernelSymbols, name: "ksym_addresses_\(compiler)", by: compiler)
        let syscall = try #require(object.codeSections.firstIndex { $0.name == "syscall" })
        let entry = try #require(object.codeSections[syscall].functions.first { $0.name == "entry" })
        let symbols = KernelSymbols()
        let program = try link(object, section: syscall, entry: entry, maps: MapTable(sectionMaps: [".bss": 42])) {
            name throws(LoadError) in try symbols.resolve(name, in: object)
        }
        let relocations = Dictionary(object.codeSections[syscall].relocations.map { ($0.symbol, $0.instructionIndex) },
                                     uniquingKeysWith: { a, _ in a })
        func load(_ symbol: String) throws -> (Instruction, Instruction) {
            let index = try #require(relocations[symbol], "no relocation against \(symbol)")
            return (program.instructions[index], program.instructions[index + 1])
        }
        let (variable, variableHigh) = try load("cpu_number")
        #expect(variable.src.rawValue == Opcode.pseudoBTFID)
        #expect(variable.imm == (try Self.vmlinuxID("VAR", "cpu_number")))
        #expect(variableHigh.imm == 0)
        let (kfunc, _) = try load("bpf_rcu_read_lock")
        #expect(kfunc.src.rawValue == Opcode.pseudoBTFID)
        #expect(kfunc.imm == (try Self.vmlinuxID("FUNC", "bpf_rcu_read_lock")))
        let (absent, absentHigh) = try load("swiftbpf_no_such_variable")
        #expect(absent.src.rawValue == 0 && absent.imm == 0 && absentHigh.imm == 0)
        let kallsyms = try runTool(["grep", "-w", "bpf_prog_put", "/proc/kallsyms"]).stdout
        let listed = try #require(kallsyms.split(separator: "\n").first { $0.split(separator: " ").dropFirst(2).first == "bpf_prog_put" })
        let address = try #require(UInt64(listed.prefix { $0 != " " }, radix: 16))
        let (typeless, typelessHigh) = try load("bpf_prog_put")
        #expect(typeless.src.rawValue == 0)
        #expect(UInt64(UInt32(bitPattern: typeless.imm)) | UInt64(UInt32(bitPattern: typelessHigh.imm)) << 32 == address)
    }

    /// A strong kernel variable the kernel lacks, or declared with another type, is an error
    /// naming it (and, for the type, both declarations).
    @Test func unresolvableKernelVariablesAreErrors() throws {
        let missing = Programs.prelude + """
            extern const int swiftbpf_no_such_variable __attribute__((section(".ksyms")));
            SEC("syscall") int entry(void *ctx) { return (long)&swiftbpf_no_such_variable != 0; }
            """
        #expect {
            _ = try LoadedObject(try object(missing, name: "ksym_missing", by: .ours), name: "ksym_missing")
        } throws: { error in
            guard case .unknownKernelSymbol("swiftbpf_no_such_variable", _, "variable") = error as? LoadError else { return false }
            return true
        }
        let mistyped = Programs.prelude + """
            extern const char cpu_number[4] __attribute__((section(".ksyms")));
            SEC("syscall") int entry(void *ctx) { return (long)cpu_number != 0; }
            """
        let mistypedObject = try object(mistyped, name: "ksym_mistyped", by: .ours)
        do {
            _ = try LoadedObject(mistypedObject, name: "ksym_mistyped")
            Issue.record("a kernel variable of the wrong type was accepted")
        } catch {
            guard case .kernelSymbolMismatch(let name, let kernel, let local) = error else {
                Issue.record("got \(error)")
                return
            }
            #expect(name == "cpu_number")
            #expect(kernel == "int cpu_number")
            #expect(local == "const char cpu_number[4]")
        }
    }
}
