import Foundation
import Synchronization
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

    /// Our atomic adds, run by two threads at once on a 2-CPU machine: no increment is lost, for
    /// 32- and 64-bit counters, with and without the old value read (fetch and plain forms).
    @Test func atomicAddsHoldUnderContention() throws {
        let source = Programs.prelude + """
            long wide;
            unsigned int narrow;
            long fetched;
            SEC("syscall") int bump(void *ctx) {
                long seen = 0;
                for (int i = 0; i < 5000; i++) {
                    __sync_fetch_and_add(&wide, 1);
                    __atomic_fetch_add(&narrow, 2, __ATOMIC_RELAXED);
                    seen += __sync_fetch_and_add(&fetched, 1) >= 0;
                }
                return (int)seen;
            }
            """
        let object = try readObject(Array(try Data(contentsOf: try Toolchain.compileOurs(source, name: "contention"))))
        /// Running a loaded program is one bpf() call on file descriptors that stay open: two
        /// threads may do it at once (which is the point here).
        struct Shared: @unchecked Sendable { let loaded: LoadedObject }
        let shared = Shared(loaded: try LoadedObject(object, name: "contention"))
        let loaded = shared.loaded
        let runsPerThread = 200
        let failures = Mutex<[String]>([])
        // Two threads of their own (not the test's pool), started together.
        let start = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let threads = (0..<2).map { _ in
            Thread {
                start.wait()
                defer { done.signal() }
                for _ in 0..<runsPerThread {
                    do {
                        let returned = try shared.loaded.run("bump")
                        if returned != 5000 { failures.withLock { $0.append("bump returned \(returned)") } }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        threads.forEach { $0.start() }
        threads.forEach { _ in start.signal() }
        threads.forEach { _ in done.wait() }
        #expect(failures.withLock { $0 }.isEmpty)
        let total = 2 * runsPerThread * 5000
        for (name, expected) in [("wide", total), ("narrow", 2 * total), ("fetched", total)] {
            let variable = try GlobalVariable(named: name, in: object)
            #expect(try variable.format(try loaded.value(of: variable)) == "\(expected)", "\(name)")
        }
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
