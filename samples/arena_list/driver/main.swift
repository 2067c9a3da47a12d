// arena-list OBJECT N...: the arena_list sample, three ways, for each N.
//
//   native     the same C (arena_list.c) built with cc, on heap memory
//   bpf        OBJECT's programs in the kernel: list_add builds the list in the arena,
//   user-walk  then this process follows the list's pointers through the mmap'ed arena,
//              and list_del_all takes it apart, summing and freeing
//
// One line per way and N, `key=value` pairs, so tests and the demo can compare them.
import ArenaListNative
import BPFLoader
import BPFObject
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("arena-list: \(message)\n".utf8))
    exit(1)
}

func nanoseconds(_ duration: Duration) -> Int64 {
    duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
}

func integer(_ bytes: [UInt8]) -> Int64 {
    bytes.enumerated().reduce(into: Int64(0)) { $0 |= Int64($1.element) << (8 * Int64($1.offset)) }
}

let arguments = CommandLine.arguments.dropFirst()
guard let path = arguments.first, arguments.count >= 2 else { fail("usage: arena-list OBJECT N...") }
guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read '\(path)'") }

do {
    let template = try readObject(Array(data))
    for argument in arguments.dropFirst() {
        guard let n = Int32(argument), n >= 0 else { fail("'\(argument)' is not a count") }

        let native = arena_list_run_native(n)
        print("n=\(n) native: sum=\(native.sum) count=\(native.count_added) deleted=\(native.deleted) "
            + "left=\(native.count_left) empty=\(native.empty)")

        var object = template
        let count = try GlobalVariable(named: "n", in: object)
        try object.setInitialValue(of: count, to: count.encode(String(n)))
        let loaded = try LoadedObject(object, name: "arena_list")
        let clock = ContinuousClock()
        let start = clock.now
        guard try loaded.run("list_add") == 0 else { fail("list_add ran out of arena memory") }
        let addTime = clock.now - start
        let elements = try loaded.arenaAddress(of: "count").load(as: Int32.self)

        // The list the kernel built, followed with ordinary pointers through the arena mapping.
        let head = try loaded.arenaAddress(of: "list")
        var length: Int32 = 0
        let walked = arena_list_walk(head, &length)

        let emptied = try loaded.run("list_del_all") == 0
        let sum = integer(try loaded.value(of: GlobalVariable(named: "sum", in: object)))
        let deleted = integer(try loaded.value(of: GlobalVariable(named: "deleted", in: object)))
        let left = try loaded.arenaAddress(of: "count").load(as: Int32.self)
        print("n=\(n) bpf: sum=\(sum) count=\(elements) deleted=\(deleted) left=\(left) empty=\(emptied ? 1 : 0)")
        print("n=\(n) user-walk: sum=\(walked) count=\(length)")
        if n > 0 {
            print("n=\(n) time-per-insert: kernel=\(nanoseconds(addTime) / Int64(n))ns "
                + "native=\(native.add_ns / Int64(n))ns")
        }
    }
} catch {
    fail("\(error)")
}
