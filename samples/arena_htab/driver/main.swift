// arena-htab OBJECT N...: the arena_htab sample, three ways, for each N.
//
//   native     the same C (arena_htab.c) built with cc, on heap memory
//   bpf        OBJECT's htab_build fills the table in the arena through the global function
//              htab_fill (keys 0..N-1, every third overwritten, every fifth deleted); then the
//              htab_lookup program looks each key up in the kernel
//   user       this process looks each key up in the same table, through the mmap'ed arena
//
// It prints each way's count and a checksum of all lookups, the keys where the three disagree
// (there should be none), and lookups per second in the kernel and natively.
import ArenaHtabNative
import BPFLoader
import BPFObject
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("arena-htab: \(message)\n".utf8))
    exit(1)
}

func integer(_ bytes: [UInt8]) -> Int64 {
    bytes.enumerated().reduce(into: Int64(0)) { $0 |= Int64($1.element) << (8 * Int64($1.offset)) }
}

/// Lookups per second for `count` lookups done in `nanoseconds`.
func rate(_ count: Int64, _ nanoseconds: Int64) -> Int64 {
    nanoseconds > 0 ? count * 1_000_000_000 / nanoseconds : 0
}

let arguments = CommandLine.arguments.dropFirst()
guard let path = arguments.first, arguments.count >= 2 else { fail("usage: arena-htab OBJECT N...") }
guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read '\(path)'") }

do {
    let template = try readObject(Array(data))
    for argument in arguments.dropFirst() {
        guard let n = Int32(argument), n > 0 else { fail("'\(argument)' is not a positive count") }

        var nativeCount: Int32 = 0
        let nativeResult = arena_htab_build_native(n, &nativeCount)

        var object = template
        for (name, value) in [("n", n), ("lookups", 1)] {
            let variable = try GlobalVariable(named: name, in: object)
            try object.setInitialValue(of: variable, to: variable.encode(String(value)))
        }
        let loaded = try LoadedObject(object, name: "arena_htab")
        let bpfResult = try loaded.run("htab_build")
        let table = try loaded.arenaAddress(of: "table")
        let key = try GlobalVariable(named: "key", in: object)

        var sums = (native: Int64(0), bpf: Int64(0), user: Int64(0))
        var absent = (native: 0, bpf: 0, user: 0)
        var disagreements: [Int32] = []
        for k in 0..<n {
            let native = arena_htab_lookup_native(k)
            try loaded.setValue(of: key, to: key.encode(String(k)))
            let bpf = try loaded.run("htab_lookup")
            let user = arena_htab_lookup_user(table, k)
            if native != bpf || bpf != user { disagreements.append(k) }
            if native == ARENA_HTAB_ABSENT { absent.native += 1 } else { sums.native += Int64(native) }
            if bpf == ARENA_HTAB_ABSENT { absent.bpf += 1 } else { sums.bpf += Int64(bpf) }
            if user == ARENA_HTAB_ABSENT { absent.user += 1 } else { sums.user += Int64(user) }
        }
        print("n=\(n) native: result=\(nativeResult) count=\(nativeCount) sum=\(sums.native) absent=\(absent.native)")
        print("n=\(n) bpf: result=\(bpfResult) count=\(integer(try loaded.value(of: GlobalVariable(named: "table_count", in: object)))) sum=\(sums.bpf) absent=\(absent.bpf)")
        print("n=\(n) user: sum=\(sums.user) absent=\(absent.user)")
        print("n=\(n) disagreements=\(disagreements.count)\(disagreements.isEmpty ? "" : " first-key=\(disagreements[0])")")

        // Throughput: every key looked up `rounds` times in one program run, and natively.
        let rounds: Int32 = max(1, 200_000 / n)
        let lookups = try GlobalVariable(named: "lookups", in: object)
        try loaded.setValue(of: lookups, to: lookups.encode(String(rounds)))
        let clock = ContinuousClock()
        let start = clock.now
        _ = try loaded.run("htab_lookup_all")
        let elapsed = clock.now - start
        let kernelNanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        var nativeFound = 0
        let nativeNanoseconds = arena_htab_lookup_all_native(rounds, &nativeFound)
        let total = Int64(rounds) * Int64(n)
        print("n=\(n) lookups-per-second: kernel=\(rate(total, kernelNanoseconds)) native=\(rate(total, nativeNanoseconds))")
    }
} catch {
    fail("\(error)")
}
