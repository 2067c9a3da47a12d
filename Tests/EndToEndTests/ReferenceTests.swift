// Programs that cannot run natively (they call kernel helpers through libbpf's
// bpf_helper_defs.h) are checked against clang-19: the same C built by both compilers, run in the
// kernel by our loader and by libbpf, must print the same lines.
import Foundation
import KernelTestSupport
import Testing

@Suite("Against clang-19")
struct ReferenceTests {
    static let programs = Paths.cFiles(in: Paths.endToEnd.appendingPathComponent("Reference"))
        .map { CorpusProgram(source: $0) }

    @Test func referenceProgramsAreThere() {
        #expect(!Self.programs.isEmpty)
    }

    @Test(arguments: programs)
    func ourObjectMatchesClangs(_ program: CorpusProgram) async throws {
        let directory = try await Artifacts.shared.directory(program)
        let (clangObject, compile) = try await Artifacts.shared.compileWithClang(program)
        try #require(compile.status == 0, "\(compile.transcript)")
        try program.kernelCapability.require()
        let swiftbpf = try await Tools.ours("swiftbpf")
        let reference = try await runProcess(swiftbpf, ["run", clangObject] + program.runArguments, in: directory)
        try #require(reference.status == 0, "clang's object: \(reference.transcript)")
        #expect(!reference.stdout.isEmpty)

        for variant in BuildVariant.all {
            let object = try await Artifacts.shared.ourObject(program, variant).value
            let ours = try await runProcess(swiftbpf, ["run", object] + program.runArguments, in: directory)
            #expect(ours.status == 0, "\(ours.transcript)")
            #expect(ours.stdout == reference.stdout, "\(variant.flags)")
            if !program.needsArenaLoader {
                let libbpf = try await runProcess(try await Tools.libbpfRun.value, [object] + program.runArguments,
                                                  in: directory)
                #expect(libbpf.status == 0, "\(libbpf.transcript)")
                #expect(libbpf.stdout == reference.stdout)
            }
        }
    }
}
