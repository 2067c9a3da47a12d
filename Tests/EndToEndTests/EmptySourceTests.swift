// An empty C file is a valid translation unit. clang-19 makes an object with no programs and no
// .BTF section, which loads; ours once carried a .BTF with no types, which the kernel refuses
// ("No type found"), so loading an empty object failed.
import Foundation
import KernelTestSupport
import Testing

@Suite("An empty source file")
struct EmptySourceTests {
    @Test(.needs(.bpf))
    func emptyObjectLoadsLikeClangs() async throws {
        let directory = try Paths.workDirectory("empty-source")
        let source = directory.appendingPathComponent("empty.c")
        try Data().write(to: source)
        let clangObject = directory.appendingPathComponent("clang.o").path
        _ = try await runChecked(try which("clang-19"), ["-target", "bpf", "-O2", "-g", "-c", source.path, "-o", clangObject],
                                 in: directory)
        let ourObject = directory.appendingPathComponent("ours.o").path
        _ = try await runChecked(try await Tools.ours("swiftbpfcc"), ["-O2", "-g", source.path, "-o", ourObject],
                                 in: directory)
        let loader = try await Tools.ours("swiftbpf")
        let runner = try await Tools.libbpfRun.value
        for object in [clangObject, ourObject] {
            let ours = try await runProcess(loader, ["run", object], in: directory)
            #expect(ours.status == 0, "swiftbpf run \(object): \(ours.transcript)")
            let libbpf = try await runProcess(runner, [object], in: directory)
            #expect(libbpf.status == 0, "libbpf_run \(object): \(libbpf.transcript)")
        }
    }
}
