import BPFObject
import KernelTestSupport
import Testing
@testable import BPFLoader

/// Loads clang-19 objects into the running kernel, runs them with BPF_PROG_TEST_RUN and compares
/// return values and globals with the same C compiled natively.
@Suite(.needs(.bpf), .serialized)
struct KernelRunTests {
    /// Loads, runs every entry program in file order, reads `variables`; swiftbpf's output lines.
    func runInKernel(_ object: ObjectFile, name: String, variables: [String]) throws -> String {
        let loaded = try LoadedObject(object, name: name)
        var lines: [String] = []
        for program in entryPrograms(of: object) {
            lines.append("\(program.name) retval=\(try loaded.run(program.name))")
        }
        for name in variables {
            let variable = try GlobalVariable(named: name, in: object)
            lines.append("\(name)=\(try variable.format(try loaded.value(of: variable)))")
        }
        return lines.map { $0 + "\n" }.joined()
    }

    @Test func computedReturnValues() throws {
        let object = try readObject(try Toolchain.compileBPF(Programs.compute, name: "compute"))
        let expected = try Toolchain.runNative(Programs.compute, name: "compute", driver: Programs.computeDriver)
        #expect(try runInKernel(object, name: "compute", variables: []) == expected)
    }

    /// clang leaves a hidden function's BTF linkage global; the loader makes it static, as libbpf.
    @Test func hiddenFunctionsAreVerifiedInTheirCallersContext() throws {
        let object = try readObject(try Toolchain.compileBPF(Programs.hiddenFunction, name: "hidden"))
        let expected = try Toolchain.runNative(Programs.hiddenFunction, name: "hidden", driver: Programs.hiddenFunctionDriver)
        #expect(try runInKernel(object, name: "hidden", variables: []) == expected)
    }

    @Test func globalsInDataBssAndRodata() throws {
        let object = try readObject(try Toolchain.compileBPF(Programs.globals, name: "globals"))
        let expected = try Toolchain.runNative(Programs.globals, name: "globals", driver: Programs.globalsDriver)
        #expect(try runInKernel(object, name: "globals", variables: Programs.globalsVariables) == expected)
    }

    /// A `.rodata` constant set before loading behaves like the native build with another value.
    @Test func initialValuesSetBeforeLoading() throws {
        var object = try readObject(try Toolchain.compileBPF(Programs.globals, name: "globals_set"))
        for (name, value) in [("limit", "-4"), ("counter", "1000"), ("mask", "4294967295")] {
            let variable = try GlobalVariable(named: name, in: object)
            try object.setInitialValue(of: variable, to: try variable.encode(value))
        }
        let source = Programs.globals.replacingOccurrences(of: "int counter = 5;", with: "int counter = 1000;")
            .replacingOccurrences(of: "0xfffffff0u;", with: "4294967295u;")
        let expected = try Toolchain.runNative("#define LIMIT -4\n" + source, name: "globals_set",
                                               driver: Programs.globalsDriver)
        #expect(try runInKernel(object, name: "globals_set", variables: Programs.globalsVariables) == expected)
    }

    @Test func staticAndGlobalSubprograms() throws {
        let object = try readObject(try Toolchain.compileBPF(Programs.subprograms, name: "subprograms"))
        let expected = try Toolchain.runNative(Programs.subprograms, name: "subprograms",
                                               driver: Programs.subprogramsDriver)
        #expect(try runInKernel(object, name: "subprograms", variables: ["calls"]) == expected)
    }

    /// The arena is mapped before the program loads; the kfunc is resolved through vmlinux BTF.
    @Test(.needs(.arena)) func arenaGlobalsAndKernelFunction() throws {
        let object = try readObject(try Toolchain.compileBPF(Programs.arena, name: "arena"))
        let expected = try Toolchain.runNative(Programs.arena, name: "arena", driver: Programs.arenaDriver)
        #expect(try runInKernel(object, name: "arena", variables: ["result"]) == expected)
    }

    @Test func verifierRejectionNamesTheSourceLine() throws {
        let object = try readObject(try Toolchain.compileBPF(Programs.rejected, name: "rejected"))
        do {
            _ = try LoadedObject(object, name: "rejected")
            Issue.record("the verifier accepted a dereference of a scalar")
        } catch {
            guard case .verifier(let program, _, let log, let diagnosis) = error else {
                Issue.record("expected a verifier error, got \(error)")
                return
            }
            #expect(program == "bad")
            #expect(log.contains("invalid mem access"))
            #expect(diagnosis.line?.line == 5)
            #expect(diagnosis.line?.sourceText.contains("return *p + arr[1];") == true)
        }
    }
}
