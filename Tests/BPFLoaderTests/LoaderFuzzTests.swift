import Foundation
import IRTestSupport
import Testing

/// Mutated objects driven through the whole load path of `swiftbpf`: ELF reader, BTF decoder,
/// map definitions, linking, the BTF rewritten for the kernel and the bpf() calls themselves
/// (`run`), or the disassembler (`dump`). Each object runs in a child process, so a trap shows as
/// a signal instead of taking the test runner down. Any exit other than 0 (loaded) or 1 (a clean
/// error) fails the test with the seed, the iteration and the mutations, and the input is kept.
@Suite(.serialized) struct LoaderFuzzTests {
    static let seed: UInt64 = 0x5eed_10ad
    /// The test stops after this long even when iterations remain (CI time).
    static let timeBudget: Double = 30
    static let maximumIterations = 5000
    /// Inputs and failures stay here for inspection; fixed paths keep the seed objects identical
    /// from run to run, so a seed reproduces the same inputs.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/loader-fuzz")

    /// A map defined in `.maps` through BTF, for the map-definition reader.
    static let definedMap = Programs.prelude + """
        #define __uint(name, val) int (*name)[val]
        #define __type(name, val) __typeof__(val) *name
        struct { __uint(type, 1); __uint(max_entries, 4); __type(key, int); __type(value, long); } table SEC(".maps");
        static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
        SEC("syscall") int look(void *ctx) {
            int key = 2;
            long *value = bpf_map_lookup_elem(&table, &key);
            return value ? (int)*value : -1;
        }
        """

    /// CO-RE relocations (clang's object has them) for the relocation code.
    static let coRE = Programs.prelude + """
        struct task_struct___seed { int pad; int tgid; char comm[16]; } __attribute__((preserve_access_index));
        static long (*bpf_probe_read_kernel)(void *dst, unsigned size, const void *src) = (void *)113;
        static unsigned long long (*bpf_get_current_task)(void) = (void *)35;
        SEC("syscall") int core(void *ctx) {
            struct task_struct___seed *t = (void *)bpf_get_current_task();
            int tgid = 0;
            char letter = 0;
            bpf_probe_read_kernel(&tgid, sizeof(tgid), &t->tgid);
            bpf_probe_read_kernel(&letter, 1, &t->comm[2]);
            return tgid + letter;
        }
        """

    /// Objects to mutate: clang-19's and ours, from the loader's test programs and the corpus.
    static func seedObjects() throws -> [(name: String, bytes: [UInt8])] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let package = directory.deletingLastPathComponent().deletingLastPathComponent()
        let include = package.appendingPathComponent("include").path
        let corpus = package.appendingPathComponent("Tests/EndToEndTests/Corpus")
        var sources: [(name: String, path: URL)] = []
        for (name, text) in [("subprograms", Programs.subprograms), ("globals", Programs.globals),
                             ("arena", Programs.arena), ("compute", Programs.compute), ("defined_map", definedMap),
                             ("core", coRE)] {
            let path = directory.appendingPathComponent(name + ".c")
            try text.write(to: path, atomically: true, encoding: .utf8)
            sources.append((name, path))
        }
        for name in ["globals", "structs", "functions", "strings", "sort"] {
            sources.append(("corpus-" + name, corpus.appendingPathComponent(name + ".c")))
        }
        var objects: [(String, [UInt8])] = []
        for (name, source) in sources {
            let clangObject = directory.appendingPathComponent(name + ".clang.o")
            try Toolchain.run("clang-19", ["-target", "bpf", "-O2", "-g", "-mcpu=v3", "-I", include,
                                           "-I/usr/include/x86_64-linux-gnu", "-c", source.path, "-o", clangObject.path])
            objects.append((name + ".clang.o", Array(try Data(contentsOf: clangObject))))
            let ourObject = directory.appendingPathComponent(name + ".ours.o")
            try Toolchain.run(try Toolchain.ours("swiftbpfcc"), ["-O2", "-g", "-I", include, source.path, "-o", ourObject.path])
            objects.append((name + ".ours.o", Array(try Data(contentsOf: ourObject))))
        }
        return objects
    }

    @Test func mutatedObjectsNeverTrap() throws {
        let swiftbpf = try Toolchain.ours("swiftbpf")
        let objects = try Self.seedObjects().map { (name: $0.name, bytes: $0.bytes, sections: sectionRanges($0.bytes)) }
        var random = RandomSource(state: Self.seed)
        let start = Date()
        var iterations = 0, outcomes = [Int32: Int]()
        var failures: [String] = []
        while iterations < Self.maximumIterations, Date().timeIntervalSince(start) < Self.timeBudget, failures.count < 5 {
            let (name, original, sections) = random.pick(objects)
            var bytes = original
            let mutations = (0..<1 + random.below(3)).map { _ in mutate(&bytes, sections: sections, random: &random) }
            let command = random.chance(85) ? "run" : "dump"
            let input = Self.directory.appendingPathComponent("input.o")
            try Data(bytes).write(to: input)
            let status = try runChild(swiftbpf, [command, input.path], timeout: 20)
            outcomes[status, default: 0] += 1
            if status != 0 && status != 1 {
                let kept = Self.directory.appendingPathComponent("failure-\(iterations).o")
                try? FileManager.default.removeItem(at: kept)
                try FileManager.default.copyItem(at: input, to: kept)
                failures.append("iteration \(iterations) (seed 0x\(String(Self.seed, radix: 16))): `swiftbpf \(command)` on "
                                + "\(name) with \(mutations.joined(separator: "; ")) "
                                + (status == Self.timedOut ? "did not finish" : "exited with \(status)") + " (input kept as \(kept.path))")
            }
            iterations += 1
        }
        let seconds = Date().timeIntervalSince(start)
        let statuses = outcomes.sorted { $0.key < $1.key }.map { "exit \($0.key): \($0.value)" }.joined(separator: ", ")
        print("loader fuzz: \(iterations) mutated objects in \(String(format: "%.1f", seconds)) s (\(statuses))")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        // Both outcomes must occur, or the mutations test nothing: some objects still load and run.
        #expect(outcomes[0, default: 0] > 0 && outcomes[1, default: 0] > 0)
    }

    /// The status `runChild` gives a child it had to kill.
    static let timedOut: Int32 = -1

    /// Exit status of the child, 128 + the signal when a signal ended it (as a shell reports it),
    /// or `timedOut`.
    func runChild(_ executable: String, _ arguments: [String], timeout: Double) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        // No backtrace on a crash: the signal is what the test needs, and the backtracer is slow.
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        guard done.wait(timeout: .now() + timeout) == .success else {
            // SIGKILL: children of the test runner can inherit SIGTERM blocked.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return Self.timedOut
        }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }
}

/// One mutation, aimed mostly at the parts of an object later stages read (BTF, BTF.ext,
/// symbols, relocations, section headers, code), with values at the edges of the fields' ranges.
/// `sections` are those of the unmutated object. Returns what it did, for the failure report.
private func mutate(_ bytes: inout [UInt8], sections: [(name: String, range: Range<Int>, isCode: Bool)],
                    random: inout RandomSource) -> String {
    let targets = ["BTF types", "BTF types", "BTF types", ".BTF", ".BTF.ext", ".BTF.ext", ".symtab", ".rel", "headers",
                   "code", "anywhere"]
    let target = random.pick(targets)
    var range = 0..<bytes.count
    switch target {
    case "headers":
        if let table = sections.first(where: { $0.name == "headers" }) { range = table.range }
    case "code":
        let code = sections.filter { $0.isCode }
        if !code.isEmpty { range = random.pick(code).range }
    case "anywhere":
        break
    default:
        let named = sections.filter { $0.name.hasPrefix(target) }
        if !named.isEmpty { range = random.pick(named).range }
    }
    guard range.count >= 8 else { return "nothing (\(target) is empty)" }
    // Counts and sizes that overflow what they are multiplied into, or sit at the end of a range.
    let interesting: [UInt64] = [0, 1, 2, 4, 8, 17, 0xff, 0xffff, 0x1_0000, 1 << 24, 1 << 28, 1 << 29, 1 << 30,
                                 1 << 31, 0x7fff_ffff, 0xffff_fff8, 0xffff_ffff, 1 << 32, 1 << 62, 1 << 63, UInt64.max]
    switch random.below(6) {
    case 0:
        let offset = range.lowerBound + random.below(range.count)
        let value = UInt8(truncatingIfNeeded: random.next())
        bytes[offset] = value
        return "byte \(offset) = 0x\(String(value, radix: 16)) (\(target))"
    case 1:
        let offset = range.lowerBound + random.below(range.count)
        let bit = random.below(8)
        bytes[offset] ^= 1 << bit
        return "byte \(offset) bit \(bit) flipped (\(target))"
    case 2, 3, 4:
        let offset = range.lowerBound + random.below(range.count / 4) * 4
        let value = random.pick(interesting)
        for i in 0..<4 where offset + i < bytes.count { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        return "u32 at \(offset) = 0x\(String(UInt32(truncatingIfNeeded: value), radix: 16)) (\(target))"
    default:
        let offset = range.lowerBound + random.below(range.count / 8) * 8
        let value = random.pick(interesting)
        for i in 0..<8 where offset + i < bytes.count { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        return "u64 at \(offset) = 0x\(String(value, radix: 16)) (\(target))"
    }
}

/// Where each section of a well-formed ELF64 object (a seed, before mutation) lies in the file,
/// plus the section header table as "headers".
private func sectionRanges(_ bytes: [UInt8]) -> [(name: String, range: Range<Int>, isCode: Bool)] {
    func field(_ offset: Int, _ width: Int) -> Int? {
        guard offset >= 0, offset + width <= bytes.count else { return nil }
        return (0..<width).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
    }
    guard let table = field(0x28, 8), let count = field(0x3c, 2), let namesIndex = field(0x3e, 2),
          table + count * 64 <= bytes.count, namesIndex < count, let names = field(table + namesIndex * 64 + 24, 8)
    else { return [] }
    var result: [(String, Range<Int>, Bool)] = [("headers", table..<table + count * 64, false)]
    for index in 0..<count {
        let header = table + index * 64
        guard let nameOffset = field(header, 4), let type = field(header + 4, 4), let flags = field(header + 8, 8),
              let offset = field(header + 24, 8), let size = field(header + 32, 8),
              type != 8, offset + size <= bytes.count, names + nameOffset < bytes.count
        else { continue }  // NOBITS (type 8) has no bytes in the file
        let name = String(decoding: bytes[(names + nameOffset)...].prefix { $0 != 0 }, as: UTF8.self)
        result.append((name, offset..<offset + size, flags & 4 != 0))
        // The type records of `.BTF`, whose words are sizes, counts and type ids (btf_header:
        // hdr_len at 4, type_off at 8, type_len at 12).
        if name == ".BTF", let headerLength = field(offset + 4, 4), let typeOffset = field(offset + 8, 4),
           let typeLength = field(offset + 12, 4), headerLength + typeOffset + typeLength <= size {
            let start = offset + headerLength + typeOffset
            result.append(("BTF types", start..<start + typeLength, false))
        }
    }
    return result
}
