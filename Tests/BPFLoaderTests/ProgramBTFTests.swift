import Foundation
import Testing
import ToolTestSupport
import BPFObject
import BTF
import KernelTestSupport
@testable import BPFLoader

/// Sources for the program-BTF tests. Line numbers matter: the verifier must name line 4.
enum BTFPrograms {
    /// A global function gets a nullable pointer argument; dereferencing it unchecked is an error
    /// only when the kernel sees func_info (and so verifies `f` on its own).
    static let nullable = Programs.prelude + """
        __attribute__((noinline)) int f(int *p) {
            return *p + 1;
        }

        SEC("syscall") int entry(void *ctx) {
            int x = 41;
            return f(&x);
        }
        """

    static let nullChecked = nullable.replacingOccurrences(
        of: "    return *p + 1;", with: "    if (!p) return 0;\n    return *p + 1;")

    static func kfunc(_ declaration: String, call: String) -> String {
        Programs.prelude + """
            \(declaration) __attribute__((section(".ksyms")));
            SEC("syscall") int entry(void *ctx) {
                return \(call);
            }
            """
    }
}

/// The BTF rewrite is pure: checked without the kernel.
struct KernelBTFTests {
    func dataSections(_ spec: BTFSpec) -> [String: (size: UInt32, variables: [BTFType.SectionVariable])] {
        var sections: [String: (size: UInt32, variables: [BTFType.SectionVariable])] = [:]
        for case .dataSection(let name, let size, let variables) in spec.types { sections[name] = (size, variables) }
        return sections
    }

    /// clang leaves DATASEC sizes and global VAR offsets at 0; afterwards they match the ELF.
    @Test func datasecSizesAndOffsetsComeFromTheSymbols() throws {
        let object = try readObject(try Toolchain.compileBPF(Programs.globals, name: "btf_globals"))
        let original = try #require(object.btf)
        #expect(dataSections(original)[".data"]?.size == 0)
        let fixed = dataSections(try kernelBTF(original, of: object))
        for name in [".data", ".bss", ".rodata"] {
            let section = try #require(object.dataSections.first { $0.name == name })
            let datasec = try #require(fixed[name])
            #expect(datasec.size == UInt32(section.bytes.count))
            #expect(datasec.variables.map(\.offset) == datasec.variables.map(\.offset).sorted())
            for entry in datasec.variables {
                guard case .variable(let variable, _, .global)? = original[entry.type] else { continue }
                #expect(section.symbols.first { $0.name == variable }.map { UInt32($0.offset) } == entry.offset)
            }
        }
    }

    /// Our own objects already carry the sizes and offsets: the rewrite leaves them alone.
    @Test func ourDatasecsAreLeftAsTheyAre() throws {
        let object = try readObject(Array(try Data(contentsOf: try Toolchain.compileOurs(Programs.globals, name: "btf_globals"))))
        let original = try #require(object.btf)
        #expect(try kernelBTF(original, of: object) == original)
    }

    /// `.ksyms` becomes 4-byte int VARs; the extern FUNC turns global with every parameter named.
    @Test func ksymsBecomeDummyVariables() throws {
        let object = try readObject(try Toolchain.compileBPF(Programs.arena, name: "btf_arena"))
        let fixed = try kernelBTF(try #require(object.btf), of: object)
        let ksyms = try #require(dataSections(fixed)[".ksyms"])
        #expect(ksyms.size == 4 && ksyms.variables.count == 1)
        #expect(ksyms.variables.map(\.size) == [4])
        guard case .variable("dummy_ksym", let int, .global)? = fixed[ksyms.variables[0].type],
              case .int(_, 4, _)? = fixed[int]
        else { Issue.record("the .ksyms entry is not an int VAR"); return }
        let function = try #require(fixed.first { if case .function("bpf_arena_alloc_pages", _, _) = $0 { true } else { false } })
        guard case .function(_, let proto, .global) = function.type,
              case .functionProto(_, let parameters)? = fixed[proto]
        else { Issue.record("bpf_arena_alloc_pages is not a global FUNC"); return }
        #expect(parameters.count == 5 && parameters.allSatisfy { !$0.name.isEmpty })
    }

    @Test func prototypesPrintAsC() {
        var spec = BTFSpec()
        let u32 = spec.add(.typedef(name: "u32", type: spec.add(.int(name: "unsigned int", size: 4, encoding: .unsigned))))
        let voidPointer = spec.add(.pointer(.void))
        let constChar = spec.add(.pointer(spec.add(.const(spec.add(.int(name: "char", size: 1, encoding: .char))))))
        let array = spec.add(.array(element: u32, index: u32, count: 4))
        let proto = spec.add(.functionProto(returnType: voidPointer, parameters: [
            .init(name: "p__map", type: voidPointer), .init(name: "name", type: constChar),
            .init(name: "rows", type: spec.add(.pointer(array))), .init(name: "", type: .void),
        ]))
        let function = spec.add(.function(name: "kf", proto: proto, linkage: .external))
        #expect(spec.cDeclaration(of: function) == "void *kf(void *p__map, const char *name, u32 (*rows)[4], ...)")
    }
}

/// Loads with program BTF into the running kernel: func_info makes global functions verified
/// on their own, line_info puts source lines into the verifier log, kfunc prototypes are checked.
@Suite(.needs(.bpf), .serialized)
struct ProgramBTFKernelTests {
    enum Compiler: String, CaseIterable { case clang, ours }

    func object(_ source: String, name: String, by compiler: Compiler) throws -> ObjectFile {
        switch compiler {
        case .clang: try readObject(try Toolchain.compileBPF(source, name: name))
        case .ours: try readObject(Array(try Data(contentsOf: try Toolchain.compileOurs(source, name: name))))
        }
    }

    @Test(arguments: Compiler.allCases)
    func uncheckedNullablePointerIsRejectedAtItsLine(compiler: Compiler) throws {
        let object = try object(BTFPrograms.nullable, name: "nullable_\(compiler)", by: compiler)
        do {
            _ = try LoadedObject(object, name: "nullable")
            Issue.record("the verifier accepted a dereference of a nullable argument")
        } catch {
            guard case .verifier(let program, _, let log, let diagnosis) = error else {
                Issue.record("expected a verifier error, got \(error)")
                return
            }
            #expect(program == "entry")
            #expect(log.contains("Validating f() func#1"))
            #expect(verifierReason(in: log) == "R1 invalid mem access 'mem_or_null'")
            // The kernel's own annotation, which it can only print from our line_info.
            #expect(log.contains("; return *p + 1; @ nullable_\(compiler).c:4"))
            #expect(diagnosis.line?.line == 4)
            #expect(diagnosis.line?.sourceText.contains("return *p + 1;") == true)
        }
    }

    @Test(arguments: Compiler.allCases)
    func checkedNullablePointerLoads(compiler: Compiler) throws {
        let object = try object(BTFPrograms.nullChecked, name: "checked_\(compiler)", by: compiler)
        let loaded = try LoadedObject(object, name: "checked")
        #expect(try loaded.run("entry") == 42)
    }

    /// BPF_BTF_LOAD failures carry the kernel's checker log.
    @Test func rejectedBTFNamesTheProblem() throws {
        var spec = BTFSpec()
        let int = spec.add(.int(name: "int", size: 4, encoding: .signed))
        spec.add(.function(name: "f", proto: spec.add(.functionProto(returnType: int, parameters: [])), linkage: .external))
        do {
            _ = try ProgramBTF(spec, of: ObjectFile())
            Issue.record("the kernel accepted an extern FUNC outside .ksyms")
        } catch {
            guard case .btfRejected(let errno, let log) = error else { Issue.record("got \(error)"); return }
            #expect(errno == 22)
            #expect(log.contains("Invalid func linkage"))
            #expect(error.description.hasSuffix("Invalid func linkage"))
        }
    }

    /// A refused member is named with the type it belongs to, not only by its own indented line.
    @Test func rejectedMemberNamesItsType() throws {
        var spec = BTFSpec()
        let int = spec.add(.int(name: "int", size: 4, encoding: .signed))
        spec.add(.structure(name: "point", size: 4, members: [.init(name: "x", type: int, bitOffset: 0),
                                                              .init(name: "y", type: int, bitOffset: 32)]))
        do {
            _ = try ProgramBTF(spec, of: ObjectFile())
            Issue.record("the kernel accepted a member beyond its struct")
        } catch {
            guard case .btfRejected = error else { Issue.record("got \(error)"); return }
            #expect(error.description.contains("in [2] STRUCT point size=4 vlen=2: y type_id=1 bits_offset=32"), "\(error)")
            #expect(error.description.hasSuffix("Member exceeds struct_size"), "\(error)")
        }
    }

    /// An object without `.BTF` still loads, without func_info (f is then verified with its caller).
    @Test func objectWithoutBTFLoads() throws {
        var object = try object(BTFPrograms.nullable, name: "nobtf", by: .clang)
        object.btf = nil
        for index in object.codeSections.indices {
            object.codeSections[index].lines = []
            for function in object.codeSections[index].functions.indices {
                object.codeSections[index].functions[function].btfFunction = nil
            }
        }
        #expect(try LoadedObject(object, name: "nobtf").run("entry") == 42)
    }

    @Test func unknownKernelFunctionIsAnError() throws {
        let source = BTFPrograms.kfunc("extern int bpf_no_such_kfunc(void *p)", call: "bpf_no_such_kfunc(ctx)")
        let object = try object(source, name: "bogus_kfunc", by: .clang)
        #expect {
            _ = try LoadedObject(object, name: "bogus")
        } throws: { error in
            guard case .unknownKernelSymbol("bpf_no_such_kfunc", _, "function") = error as? LoadError else { return false }
            return true
        }
    }

    @Test(arguments: Compiler.allCases)
    func mismatchedPrototypePrintsBoth(compiler: Compiler) throws {
        let source = BTFPrograms.kfunc("extern int bpf_arena_free_pages(void *a)", call: "bpf_arena_free_pages(ctx)")
        let object = try object(source, name: "wrong_kfunc_\(compiler)", by: compiler)
        do {
            _ = try LoadedObject(object, name: "wrong")
            Issue.record("a kfunc with the wrong parameter count was accepted")
        } catch {
            guard case .kernelSymbolMismatch(let name, let kernel, let local) = error else {
                Issue.record("got \(error)")
                return
            }
            #expect(name == "bpf_arena_free_pages")
            #expect(kernel == "void bpf_arena_free_pages(void *p__map, void *ptr__ign, u32 page_cnt)")
            // clang keeps no parameter names for an extern declaration; we do.
            #expect(local == (compiler == .clang ? "int bpf_arena_free_pages(void *)" : "int bpf_arena_free_pages(void *a)"))
        }
    }

    /// The arena is handed to the caller: `__arena` globals are read in place, and their address
    /// lies inside the region.
    @Test(.needs(.arena)) func arenaGlobalsAreReadFromTheMapping() throws {
        let object = try object(Programs.arena, name: "arena_api", by: .clang)
        let loaded = try LoadedObject(object, name: "arena_api")
        let returned = try loaded.run("arena_prog")
        let arena = try #require(loaded.arena)
        #expect(arena.size == 4 * Int(sysconf(Int32(_SC_PAGESIZE))))
        let address = try loaded.arenaAddress(of: "in_arena")
        #expect(address >= arena.base && address + 4 <= arena.base + arena.size)
        #expect(address.load(as: Int32.self) == returned)
        let variable = try GlobalVariable(named: "in_arena", in: object)
        #expect(try variable.format(try loaded.value(of: variable)) == String(returned))
    }

    /// The loaded size is the entry function plus the sub-program appended to it.
    @Test(arguments: Compiler.allCases)
    func statisticsCountLoadedAndVerifiedInstructions(compiler: Compiler) throws {
        let object = try object(BTFPrograms.nullChecked, name: "stats_\(compiler)", by: compiler)
        let loaded = try LoadedObject(object, name: "stats")
        let functions = object.codeSections.flatMap(\.functions)
        let expected = try ["entry", "f"].reduce(0) { total, name in
            total + (try #require(functions.first { $0.name == name })).instructionCount
        }
        let statistics = try loaded.statistics(of: "entry")
        #expect(statistics.instructions == expected)
        #expect(statistics.verifiedInstructions > 0)
    }
}

/// `swiftbpf` as the user runs it.
@Suite(.needs(.bpf), .serialized)
struct SwiftbpfCommandTests {
    @Test func statsPrintsOneLinePerProgram() throws {
        let path = try Toolchain.compileClang(Programs.compute, name: "cli_stats")
        let output = try Toolchain.run(try Toolchain.ours("swiftbpf"), ["stats", path.path])
        let lines = output.split(separator: "\n")
        #expect(lines.count == 2)
        for (line, name) in zip(lines, ["collatz", "negative"]) {
            let match = line.wholeMatch(of: /(\w+) insns=(\d+) verified=(\d+) jited=(\d+) type=syscall/)
            #expect(match?.output.1 == Substring(name), "\(line)")
            // Where the JIT is off, the kernel interprets the program and reports no machine code.
            #expect((match.flatMap { Int($0.output.4) } ?? 0 > 0) == Self.jitEnabled, "\(line)")
        }
    }

    static var jitEnabled: Bool {
        (try? String(contentsOfFile: "/proc/sys/net/core/bpf_jit_enable", encoding: .utf8)) != "0\n"
    }

    /// `dump --jited` decodes as many bytes as `stats` reports, labels the entry program and its
    /// sub-program in that order, and every comment it prints is a line of the C source, the
    /// sub-program's own line under its label. The call's target, decoded from the machine code,
    /// is where the kernel says the sub-program starts.
    @Test func dumpJitedShowsTheMachineCodeUnderItsCLines() throws {
        let path = try Toolchain.compileClang(Programs.hiddenFunction, name: "cli_jited")
        let swiftbpf = try Toolchain.ours("swiftbpf")
        let stats = try Toolchain.run(swiftbpf, ["stats", path.path])
        let size = try #require(stats.firstMatch(of: /jited=(\d+)/).flatMap { Int($0.output.1) })
        let lines = try Toolchain.run(swiftbpf, ["dump", path.path, "--jited"]).split(separator: "\n").map(String.init)
        guard Self.jitEnabled else {
            #expect(lines.first?.hasPrefix("sums: no machine code to show") == true)
            return
        }
        #expect(lines.first == "sums: \(size) bytes of machine code")
        #expect(lines.filter { $0.hasSuffix(":") && !$0.hasPrefix(" ") } == ["sums:", "pair_sum:"])
        let sourceLines = Set(Programs.hiddenFunction.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        let comments = lines.filter { $0.hasPrefix("; ") }.map { String($0.dropFirst(2)).trimmingCharacters(in: .whitespaces) }
        #expect(!comments.isEmpty)
        #expect(comments.allSatisfy(sourceLines.contains), "\(comments)")
        let subprogram = try #require(lines.firstIndex(of: "pair_sum:"))
        #expect(lines[subprogram...].contains { $0.hasSuffix("return p[0] + p[1]; }") })
        let offsets = lines.compactMap { $0.wholeMatch(of: /\s*([0-9a-f]+): .*/).flatMap { Int($0.output.1, radix: 16) } }
        #expect(offsets.first == 0)
        #expect(zip(offsets, offsets.dropFirst()).allSatisfy { $0 < $1 })
        #expect((offsets.last ?? .max) < size)
        let starts = lines[subprogram...].compactMap { $0.wholeMatch(of: /\s*([0-9a-f]+): .*/)?.output.1 }
        let subprogramStart = try #require(starts.first)
        #expect(lines.contains { $0.hasSuffix(": call   0x\(subprogramStart) <pair_sum>") }, "\(lines)")
    }

    /// Of two programs the second fails: the output names it.
    @Test func rejectionEndsInADiagnosticAtTheSourceLine() throws {
        let source = BTFPrograms.nullable + "\nSEC(\"syscall\") int good(void *ctx) { return 1; }\n"
        let path = try Toolchain.compileClang(source, name: "cli_nullable")
        let result = try runTool([try Toolchain.ours("swiftbpf"), "run", path.path, "--prog", "good", "--prog", "entry"])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "swiftbpf: \(path.path): program 'entry' failed to load; verifier log:")
        #expect(lines.contains("; return *p + 1; @ cli_nullable.c:4"))
        let diagnostic = try #require(lines.firstIndex { $0.contains(": error: ") })
        #expect(lines[diagnostic] == "\(Toolchain.directory.path)/cli_nullable.c:4:12: error: verifier rejected program 'entry': R1 invalid mem access 'mem_or_null'")
        #expect(lines[diagnostic + 1] == "    return *p + 1;")
        #expect(lines[diagnostic + 2] == "           ^")
    }

    /// `--get` on a pointer prints an unsigned address, on an `__arena` global its arena value.
    @Test(.needs(.arena)) func getReadsPointersAndArenaGlobals() throws {
        let source = Programs.arena.replacingOccurrences(of: "long result;", with: "long result;\nvoid *where = (void *)-8;")
        let path = try Toolchain.compileClang(source, name: "cli_arena")
        let output = try Toolchain.run(try Toolchain.ours("swiftbpf"), ["run", path.path, "--get", "in_arena", "--get", "where"])
        #expect(output == "arena_prog retval=160\nin_arena=160\nwhere=18446744073709551608\n")
    }
}
