// The arena samples, end to end: each sample's driver runs the same C natively (on the heap) and
// as BPF in the kernel (in the arena), and reads the BPF-built data from user space through the
// mmap'ed arena. The three must agree, and agree with what the programs are defined to compute.
import Foundation
import KernelTestSupport
import Testing

/// `n=N WAY: key=value ...` lines, as the sample drivers print them.
struct SampleReport {
    var fields: [Int: [String: [String: Int64]]] = [:]

    init(_ output: String) {
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 2, words[0].hasPrefix("n="), let n = Int(words[0].dropFirst(2)) else { continue }
            let way = words[1].hasSuffix(":") ? String(words[1].dropLast()) : "summary"
            for word in words.dropFirst(way == "summary" ? 1 : 2) {
                let pair = word.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, let value = Int64(pair[1].prefix { $0 == "-" || $0.isNumber }) else { continue }
                fields[n, default: [:]][way, default: [:]][String(pair[0])] = value
            }
        }
    }

    subscript(n: Int, way: String, key: String) -> Int64? { fields[n]?[way]?[key] }
}

@Suite("Arena samples", .serialized)
struct SampleTests {
    /// Compiles a sample with swiftbpfcc into the work directory.
    private func compileSample(_ relativePath: String, cpu: String) async throws -> String {
        let name = URL(fileURLWithPath: relativePath).deletingPathExtension().lastPathComponent
        let directory = try Paths.workDirectory("samples/\(name)-\(cpu)")
        let object = directory.appendingPathComponent("\(name).o").path
        let result = try await runProcess(try await Tools.ours("swiftbpfcc"), [
            Paths.package.appendingPathComponent(relativePath).path, "-O2", "-g", "-mcpu=\(cpu)",
            "-I", Paths.include.path, "-o", object,
        ], in: directory)
        try #require(result.status == 0, "\(result.transcript)")
        return object
    }

    @Test(.needs(.arena), arguments: ["v3", "v4"])
    func arenaListAgreesNativeKernelAndUserSpace(cpu: String) async throws {
        let object = try await compileSample("samples/arena_list/arena_list.c", cpu: cpu)
        let counts = [0, 1, 2, 100, 5000]
        let result = try await runProcess(try await Tools.ours("arena-list"), [object] + counts.map(String.init),
                                          in: Paths.work)
        #expect(result.status == 0, "\(result.transcript)")
        let report = SampleReport(result.stdout)
        for n in counts {
            // Values 0..n-1: their sum is known without running anything.
            let expectedSum = Int64(n) * Int64(n - 1) / 2
            for way in ["native", "bpf", "user-walk"] {
                #expect(report[n, way, "sum"] == expectedSum, "n=\(n) \(way): \(result.stdout)")
                #expect(report[n, way, "count"] == Int64(n), "n=\(n) \(way) count")
            }
            for way in ["native", "bpf"] {
                #expect(report[n, way, "deleted"] == Int64(n), "n=\(n) \(way) deleted")
                #expect(report[n, way, "left"] == 0, "n=\(n) \(way): count after deletion")
                #expect(report[n, way, "empty"] == 1, "n=\(n) \(way): list empty after deletion")
            }
        }
    }

    @Test(.needs(.arena), arguments: ["v3", "v4"])
    func arenaHtabAgreesKeyByKey(cpu: String) async throws {
        let object = try await compileSample("samples/arena_htab/arena_htab.c", cpu: cpu)
        let counts = [1, 16, 1000, 10000]
        let result = try await runProcess(try await Tools.ours("arena-htab"), [object] + counts.map(String.init),
                                          in: Paths.work, timeout: 300)
        #expect(result.status == 0, "\(result.transcript)")
        let report = SampleReport(result.stdout)
        for n in counts {
            // Every fifth key (0, 5, 10, ...) is deleted; of the rest, every third (0, 3, 6, ...)
            // holds its negation and the others themselves: the sum is known without running anything.
            let deleted = Int64((n + 4) / 5)
            var expectedSum: Int64 = 0
            for key in Int64(0)..<Int64(n) where key % 5 != 0 {
                expectedSum += key % 3 == 0 ? -key : key
            }
            #expect(report[n, "summary", "disagreements"] == 0, "n=\(n): \(result.stdout)")
            #expect(report[n, "native", "sum"] == expectedSum, "n=\(n) native sum")
            for way in ["native", "bpf", "user"] {
                #expect(report[n, way, "absent"] == deleted, "n=\(n) \(way) absent keys")
            }
            for way in ["bpf", "user"] {
                #expect(report[n, way, "sum"] == report[n, "native", "sum"], "n=\(n) \(way) sum")
            }
            for way in ["native", "bpf"] {
                #expect(report[n, way, "count"] == Int64(n) - deleted, "n=\(n) \(way) table count")
                #expect(report[n, way, "result"] == Int64(n) - deleted, "n=\(n) \(way) htab_fill result")
            }
        }
    }
}
