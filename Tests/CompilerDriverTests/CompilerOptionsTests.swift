import BPFDiagnostics
import BPFIR
import Passes
import Testing
@testable import CompilerDriver

@Suite struct CompilerOptionsTests {
    @Test func defaultsLikeClang() throws {
        let options = try CompilerOptions(arguments: ["dir/prog.c"])
        #expect(options.input == "dir/prog.c")
        #expect(options.outputPath == "prog.o")
        #expect(options.output == .object)
        #expect(options.cpu == .v3)
        #expect(options.debugInfo == false)
    }

    @Test func joinedAndSeparateValues() throws {
        let options = try CompilerOptions(arguments: [
            "-S", "-g", "-O0", "-mcpu=v4", "-Iinc", "-I", "other", "-DX=1", "-D", "Y", "-UZ",
            "-target", "bpf", "-Wno-unused", "prog.c", "-o", "out.s",
        ])
        #expect(options.output == .assembly)
        #expect(options.outputPath == "out.s")
        #expect(options.cpu == .v4)
        #expect(options.debugInfo)
        #expect(options.optimize == false)
        #expect(options.frontend.clangFlags == ["-Iinc", "-Iother", "-DX=1", "-DY", "-UZ", "-Wno-unused"])
    }

    @Test func printAfterNamesPasses() throws {
        #expect(try CompilerOptions(arguments: ["p.c", "--print-after=arena-casts", "--print-after=inlining"]).printAfter
                == [.arenaCasts, .inlining])
        #expect(try CompilerOptions(arguments: ["p.c", "--print-after-all"]).printAfter.count == PassName.allCases.count)
        #expect(try CompilerOptions(arguments: ["p.c"]).printAfter.isEmpty)
    }

    @Test(arguments: [
        (["prog.c", "--print-after=bogus"], "unknown pass 'bogus' in --print-after: the passes are inlining"),
        (["prog.c", "--bogus"], "unknown argument: '--bogus'"),
        (["prog.c", "-mcpu=v1"], "unsupported CPU 'v1'"),
        ([], "no input files"),
        (["a.c", "b.c"], "only one input file"),
        (["-target", "x86_64", "a.c"], "only '-target bpf'"),
    ])
    func rejectsWhatClangWouldNotDo(arguments: [String], message: String) {
        #expect {
            _ = try CompilerOptions(arguments: arguments)
        } throws: { error in
            (error as? DiagnosticList)?.diagnostics.contains { $0.message.contains(message) } ?? false
        }
    }
}
