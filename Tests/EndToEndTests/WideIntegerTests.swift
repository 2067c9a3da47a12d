// 128-bit integers as clang-19 lays them out: Corpus/int128.c checks what they compute; here
// its object must describe and place them as clang's does.
import Foundation
import Testing

@Suite("128-bit integers")
struct WideIntegerTests {
    /// The corpus file's types (INTs of 16 bytes named `__int128` and `unsigned __int128`, a
    /// struct with 128-bit members at 16-byte offsets) read back as the same C from both objects,
    /// and the initialized globals hold the same bytes at the same places.
    @Test func btfAndDataMatchClang() async throws {
        let program = try #require(CorpusProgram.all.first { $0.name == "int128" })
        let (clangObject, compile) = try await Artifacts.shared.compileWithClang(program)
        #expect(compile.status == 0, "\(compile.transcript)")
        let ours = try await Artifacts.shared.ourObject(program).value
        let directory = try await Artifacts.shared.directory(program)
        let bpftool = try which("bpftool")
        let theirTypes = try await runChecked(bpftool, ["btf", "dump", "file", clangObject, "format", "c"], in: directory)
        let ourTypes = try await runChecked(bpftool, ["btf", "dump", "file", ours, "format", "c"], in: directory)
        #expect(theirTypes.contains("typedef unsigned __int128 u128;") && theirTypes.contains("typedef __int128 s128;"))
        #expect(ourTypes == theirTypes)
        let raw = try await runChecked(bpftool, ["btf", "dump", "file", ours], in: directory)
        #expect(raw.contains("INT 'unsigned __int128' size=16 bits_offset=0 nr_bits=128 encoding=(none)"))
        #expect(raw.contains("INT '__int128' size=16 bits_offset=0 nr_bits=128 encoding=SIGNED"))

        let symbols = ["global_holder", "global_value", "global_negative", "table"]
        func placed(_ object: String) async throws -> [String] {
            let table = try await runChecked(try which("llvm-readelf-19"), ["-s", object], in: directory)
            return table.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                guard let name = fields.last, symbols.contains(String(name)) else { return nil }
                return "\(name) value=\(fields[1]) size=\(fields[2])"
            }.sorted()
        }
        let theirPlaces = try await placed(clangObject)
        #expect(theirPlaces.count == symbols.count)
        #expect(try await placed(ours) == theirPlaces)
        for section in [".data", ".rodata"] {
            func bytes(_ object: String) async throws -> Data {
                let copy = directory.appendingPathComponent(URL(fileURLWithPath: object).lastPathComponent + section).path
                _ = try await runChecked(try which("llvm-objcopy-19"), ["-O", "binary", "--only-section=\(section)", object, copy],
                                         in: directory)
                return try Data(contentsOf: URL(fileURLWithPath: copy))
            }
            #expect(try await bytes(ours) == bytes(clangObject), "\(section) differs from clang's")
        }
    }
}
