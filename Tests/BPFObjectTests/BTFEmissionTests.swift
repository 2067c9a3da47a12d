import BPFDiagnostics
import BPFInstructions
import BPFIR
import BPFObject
import BTF
import CodeGen
import Foundation
import KernelTestSupport
import Testing
import ToolTestSupport

/// The IR of this C, built by hand as the frontend would:
///
///     struct node { struct node *next; int value; unsigned flags : 3; };
///     enum color { RED, GREEN = 5 };
///     typedef unsigned long long u64;
///     struct { int (*type)[2]; int (*max_entries)[4]; int *key; u64 *value; } m SEC(".maps");
///     int counter = 7;          enum color col = GREEN;
///     u64 zero;                 struct node head;
///     char _license[] SEC("license") = "GPL";
///     extern void bpf_rcu_read_lock(void) __ksym;
///     static int helper(int x) { ... }
///     int walk(struct node *n) { ... }
///     SEC("syscall") int prog(void *ctx) { static int calls; ...; return 42; }
func sampleModule() -> Module {
    var types = TypeTable()
    let void = types.intern(.void)
    let int = types.intern(.integer(name: "int", size: 4, isSigned: true))
    let unsigned = types.intern(.integer(name: "unsigned int", size: 4, isSigned: false))
    let char = types.intern(.integer(name: "char", size: 1, isSigned: true))
    let node = types.reserve(.forward(name: "node", isUnion: false))
    let nodePointer = types.intern(.pointer(pointee: node, addressSpace: 0))
    types.define(node, as: .structure(name: "node", size: 16, align: 8, fields: [
        .init(name: "next", type: nodePointer, bitOffset: 0, bitWidth: 0),
        .init(name: "value", type: int, bitOffset: 64, bitWidth: 0),
        .init(name: "flags", type: unsigned, bitOffset: 96, bitWidth: 3),
    ]))
    let color = types.intern(.enumeration(name: "color", size: 4, isSigned: false,
                                          values: [.init(name: "RED", value: 0), .init(name: "GREEN", value: 5)]))
    let u64 = types.intern(.typedef(name: "u64", type: types.intern(.integer(name: "unsigned long long", size: 8,
                                                                              isSigned: false))))
    let mapType = types.intern(.structure(name: "", size: 32, align: 8, fields: [
        .init(name: "type", type: types.intern(.pointer(pointee: types.intern(.array(element: int, count: 2)),
                                                        addressSpace: 0)), bitOffset: 0, bitWidth: 0),
        .init(name: "max_entries", type: types.intern(.pointer(pointee: types.intern(.array(element: int, count: 4)),
                                                               addressSpace: 0)), bitOffset: 64, bitWidth: 0),
        .init(name: "key", type: types.intern(.pointer(pointee: int, addressSpace: 0)), bitOffset: 128, bitWidth: 0),
        .init(name: "value", type: types.intern(.pointer(pointee: u64, addressSpace: 0)), bitOffset: 192, bitWidth: 0),
    ]))
    let license = types.intern(.array(element: char, count: 4))
    let helperType = types.intern(.function(returnType: int, parameters: [.init(name: "x", type: int)],
                                            isVariadic: false))
    let walkType = types.intern(.function(returnType: int, parameters: [.init(name: "n", type: nodePointer)],
                                          isVariadic: false))
    let progType = types.intern(.function(
        returnType: int, parameters: [.init(name: "ctx", type: types.intern(.pointer(pointee: void, addressSpace: 0)))],
        isVariadic: false))
    let lockType = types.intern(.function(returnType: void, parameters: [], isVariadic: false))

    let here = SourceLocation(file: "sample.c", line: 1, column: 1)
    func global(_ symbol: String, _ linkage: Linkage, _ section: String, _ type: TypeID, _ bytes: [UInt8],
                alignment: Int) -> GlobalVariable {
        GlobalVariable(symbol: symbol, name: symbol.split(separator: ".").last.map(String.init) ?? symbol,
                       linkage: linkage, section: section, type: type, size: bytes.count, alignment: alignment,
                       initializer: bytes, location: here)
    }
    func function(_ name: String, _ linkage: Linkage, _ section: String?, _ type: TypeID) -> Function {
        Function(name: name, linkage: linkage, section: section, type: type, parameters: [],
                 blocks: [Block(id: BlockID(0), terminator: .return(.constant(42)))], slots: [], tempCount: 0,
                 location: here)
    }
    return Module(
        functions: [function("helper", .static, nil, helperType), function("walk", .global, nil, walkType),
                    function("prog", .global, "syscall", progType)],
        globals: [
            global("m", .global, ".maps", mapType, [UInt8](repeating: 0, count: 32), alignment: 8),
            global("counter", .global, ".data", int, [7, 0, 0, 0], alignment: 4),
            global("zero", .global, ".bss", u64, [UInt8](repeating: 0, count: 8), alignment: 8),
            global("prog.calls", .static, ".bss", int, [0, 0, 0, 0], alignment: 4),
            global("col", .global, ".data", color, [5, 0, 0, 0], alignment: 4),
            global("head", .global, ".bss", node, [UInt8](repeating: 0, count: 16), alignment: 8),
            global("_license", .global, "license", license, Array("GPL\0".utf8), alignment: 1),
        ],
        externs: [Extern(name: "bpf_rcu_read_lock", kind: .function, section: ".ksyms", type: lockType, size: 0, isWeak: false)],
        types: types)
}

/// An object for `module` whose every function is `r0 = 42; exit`, with its data and BTF.
func objectFile(for module: Module) -> ObjectFile {
    let data = layOutData(module)
    let (btf, btfFunctions, _) = buildBTF(module, dataSections: data)
    let body = [Instruction(opcode: Opcode.classALU64 | Opcode.mov | Opcode.sourceK, dst: .r0, imm: 42),
                Instruction(opcode: Opcode.classJMP | Opcode.exit)]
    var sections: [CodeSection] = []
    for function in module.functions {
        let name = function.section ?? ".text"
        if !sections.contains(where: { $0.name == name }) {
            sections.append(CodeSection(name: name))
        }
        let index = sections.firstIndex { $0.name == name } ?? 0
        sections[index].functions.append(FunctionSymbol(
            name: function.name, firstInstruction: sections[index].instructions.count, instructionCount: body.count,
            binding: function.linkage == .static ? .local : .global, btfFunction: btfFunctions[function.name]))
        sections[index].lines.append(LineRecord(instructionIndex: sections[index].instructions.count,
                                                file: "sample.c", line: 1, column: 1, sourceText: "return 42;"))
        sections[index].instructions += body
    }
    return ObjectFile(codeSections: sections, dataSections: data,
                      externs: module.externs.map { ExternSymbol(name: $0.name, isWeak: $0.isWeak) }, btf: btf)
}

@Suite struct DataLayoutTests {
    @Test func globalsLandInSectionsOfFirstAppearanceWithAlignment() {
        let sections = layOutData(sampleModule())
        #expect(sections.map(\.name) == [".maps", ".data", ".bss", "license"])
        let bss = sections[2]
        #expect(bss.isZeroFill)
        #expect(bss.alignment == 8)
        #expect(bss.bytes.count == 32)
        #expect(bss.symbols == [
            DataSymbol(name: "zero", offset: 0, size: 8, binding: .global),
            DataSymbol(name: "prog.calls", offset: 8, size: 4, binding: .local),
            DataSymbol(name: "head", offset: 16, size: 16, binding: .global),
        ])
        #expect(sections[1].bytes == [7, 0, 0, 0, 5, 0, 0, 0])
        #expect(!sections[1].isZeroFill)
        #expect(sections[3].alignment == 1)
    }
}

@Suite struct BTFEmissionTests {
    /// Looks up a named type of the spec.
    func find(_ spec: BTFSpec, _ predicate: (BTFType) -> Bool) -> (id: BTFTypeID, type: BTFType)? {
        spec.types.enumerated().first { predicate($0.element) }
            .map { (BTFTypeID(rawValue: UInt32($0.offset + 1)), $0.element) }
    }

    @Test func typesMatchClangsMeaning() throws {
        let module = sampleModule()
        let (spec, functions, _) = buildBTF(module, dataSections: layOutData(module))

        // The struct points to itself through one PTR.
        let node = try #require(find(spec) { if case .structure(name: "node", _, _) = $0 { true } else { false } })
        guard case .structure(_, 16, let members) = node.type else { Issue.record("node: \(node.type)"); return }
        #expect(members.map(\.name) == ["next", "value", "flags"])
        #expect(spec[members[0].type] == .pointer(node.id))
        #expect(members[2].bitfieldSize == 3 && members[2].bitOffset == 96)
        #expect(spec[members[2].type] == .int(name: "unsigned int", size: 4, encoding: .unsigned))
        #expect(spec.types.filter { $0 == .pointer(node.id) }.count == 1)

        #expect(spec.types.contains(.enumeration(name: "color", size: 4, isSigned: false,
                                                 values: [.init(name: "RED", value: 0), .init(name: "GREEN", value: 5)])))
        let u64 = try #require(find(spec) { if case .typedef(name: "u64", _) = $0 { true } else { false } })
        guard case .typedef(_, let u64Target) = u64.type else { return }
        #expect(spec[u64Target] == .int(name: "unsigned long long", size: 8, encoding: .unsigned))

        // FUNCs with linkage and named parameters; the kfunc is extern and listed in .ksyms.
        let walk = try #require(functions["walk"])
        guard case .function("walk", let walkProto, .global) = spec[walk] else { Issue.record("walk"); return }
        #expect(spec[walkProto] == .functionProto(returnType: try #require(find(spec) { $0 == .int(name: "int", size: 4,
                                                                          encoding: .signed) }).id,
                                                  parameters: [.init(name: "n", type: members[0].type)]))
        guard case .function("helper", _, .static) = spec[try #require(functions["helper"])] else {
            Issue.record("helper"); return
        }
        let lock = try #require(find(spec) { if case .function(name: "bpf_rcu_read_lock", _, .external) = $0 { true } else { false } })
        #expect(spec.types.contains(.dataSection(name: ".ksyms", size: 0, variables: [.init(type: lock.id, offset: 0, size: 0)])))

        // DATASECs with final sizes and offsets, static VAR named like its symbol.
        let calls = try #require(find(spec) { if case .variable(name: "prog.calls", _, .static) = $0 { true } else { false } })
        let zero = try #require(find(spec) { if case .variable(name: "zero", _, .global) = $0 { true } else { false } })
        let head = try #require(find(spec) { if case .variable(name: "head", _, .global) = $0 { true } else { false } })
        #expect(spec.types.contains(.dataSection(name: ".bss", size: 32, variables: [
            .init(type: zero.id, offset: 0, size: 8), .init(type: calls.id, offset: 8, size: 4),
            .init(type: head.id, offset: 16, size: 16),
        ])))
        let index = try #require(find(spec) { if case .int(name: "__ARRAY_SIZE_TYPE__", 4, .unsigned) = $0 { true } else { false } })
        #expect(spec.types.contains { if case .array(_, index.id, 4) = $0 { true } else { false } })
    }

    @Test func bpftoolDumpsEmittedBTF() throws {
        let directory = try makeScratchDirectory("btf-emission")
        let path = try writeFile(try writeObject(objectFile(for: sampleModule())), named: "sample.o", in: directory)
        let result = try runTool(["bpftool", "btf", "dump", "file", path])
        #expect(result.status == 0, "\(result.stderr)")
        let text = result.stdout
        #expect(text.contains("STRUCT 'node' size=16 vlen=3"))
        #expect(text.contains("'flags' type_id=") && text.contains("bits_offset=96 bitfield_size=3"))
        #expect(text.contains("ENUM 'color' encoding=UNSIGNED size=4 vlen=2"))
        #expect(text.contains("FUNC 'bpf_rcu_read_lock' type_id="))
        #expect(text.contains("linkage=extern"))
        #expect(text.contains("DATASEC '.maps' size=32 vlen=1"))
        #expect(text.contains("DATASEC 'license' size=4 vlen=1"))
        #expect(text.contains("offset=8 size=4 (VAR 'prog.calls')"))
    }

    /// libbpf parses the maps from BTF, resolves the kfunc against vmlinux, and the kernel accepts
    /// the BTF (with DATASECs, static VAR names with a dot, func_info and line_info) and runs `prog`.
    @Test func libbpfLoadsEmittedObject() throws {
        let directory = try makeScratchDirectory("btf-emission-libbpf")
        let path = try writeFile(try writeObject(objectFile(for: sampleModule())), named: "sample.o", in: directory)
        let checker = try buildLibbpfChecker(in: directory)
        let opened = try runTool([checker, path])
        #expect(opened.status == 0, "\(opened.stdout)\(opened.stderr)")
        #expect(opened.stdout.contains("map m type 2 value_size 8"))
        #expect(opened.stdout.contains("program prog section syscall insns 2"))

        try KernelCapability.bpf.require()
        let loaded = try runTool([checker, path, "load", "prog"])
        #expect(loaded.status == 0, "\(loaded.stdout)\(loaded.stderr)")
        #expect(loaded.stdout.contains("retval 42"))
    }
}

/// The C that `sampleModule()` stands for, compiled by clang-19 for comparison.
let sampleModuleSource = """
    struct node { struct node *next; int value; unsigned flags : 3; };
    enum color { RED, GREEN = 5 };
    typedef unsigned long long u64;
    struct { int (*type)[2]; int (*max_entries)[4]; int *key; u64 *value; } m __attribute__((section(".maps")));
    int counter = 7;
    enum color col = GREEN;
    u64 zero;
    struct node head;
    char _license[] __attribute__((section("license"))) = "GPL";
    extern void bpf_rcu_read_lock(void) __attribute__((section(".ksyms")));
    static __attribute__((noinline)) int helper(int x) { return x + 1; }
    __attribute__((noinline)) int walk(struct node *n) { return n ? n->value : 0; }
    __attribute__((section("syscall"))) int prog(void *ctx)
    {
        static int calls;
        calls++;
        bpf_rcu_read_lock();
        return helper(counter) + walk(&head) + col + zero;
    }
    """

/// The BTF of an object as bpftool reads it, with ids resolved away: one line per FUNC, VAR and
/// DATASEC, each with the full type it refers to. Two objects with the same lines mean the same
/// types, whatever their order. DATASEC sizes and offsets are dropped, since clang leaves them 0.
func resolvedBTF(ofObjectAt path: String) throws -> [String] {
    let result = try runTool(["bpftool", "-j", "btf", "dump", "file", path])
    #expect(result.status == 0, "\(result.stderr)")
    let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    let list = try #require(json?["types"] as? [[String: Any]])
    var byID: [Int: [String: Any]] = [:]
    for type in list {
        if let id = type["id"] as? Int { byID[id] = type }
    }

    func render(_ id: Int, visiting: Set<Int>) -> String {
        guard id != 0 else { return "void" }
        guard let type = byID[id] else { return "missing#\(id)" }
        let kind = type["kind"] as? String ?? "?"
        let name = type["name"] as? String ?? ""
        if visiting.contains(id) { return "\(kind) \(name)" }
        return "\(kind) \(name) " + renderFields(type, kind: kind, visiting: visiting.union([id]))
    }

    func renderFields(_ fields: [String: Any], kind: String, visiting: Set<Int>) -> String {
        var parts: [String] = []
        for key in fields.keys.sorted() where !["id", "kind", "name"].contains(key) {
            if kind == "DATASEC" && ["size", "offset"].contains(key) { continue }
            let value = fields[key]
            if key.hasSuffix("type_id"), let id = value as? Int {
                parts.append("\(key)=(\(render(id, visiting: visiting)))")
            } else if let items = value as? [[String: Any]] {
                var rendered = items.map { item in
                    (item["name"].map { "\($0) " } ?? "") + renderFields(item, kind: kind, visiting: visiting)
                }
                if kind == "DATASEC" { rendered.sort() }
                parts.append("\(key)=[\(rendered.joined(separator: ", "))]")
            } else {
                parts.append("\(key)=\(value.map { "\($0)" } ?? "nil")")
            }
        }
        return "{" + parts.joined(separator: " ") + "}"
    }

    return list.compactMap { type -> String? in
        guard let kind = type["kind"] as? String, ["FUNC", "VAR", "DATASEC"].contains(kind),
              let id = type["id"] as? Int else { return nil }
        return render(id, visiting: [])
    }.sorted()
}

@Suite struct BTFEmissionAgainstClangTests {
    @Test func sameMeaningAsClang19() throws {
        let directory = try makeScratchDirectory("btf-vs-clang")
        let source = directory.appendingPathComponent("sample.c")
        try Data(sampleModuleSource.utf8).write(to: source)
        let clangObject = directory.appendingPathComponent("clang.o").path
        let compiled = try runTool(["clang-19", "-target", "bpf", "-O2", "-g", "-mcpu=v3", "-c", source.path,
                                    "-o", clangObject])
        #expect(compiled.status == 0, "\(compiled.stderr)")
        let ours = try writeFile(try writeObject(objectFile(for: sampleModule())), named: "ours.o", in: directory)

        let expected = try resolvedBTF(ofObjectAt: clangObject)
        let actual = try resolvedBTF(ofObjectAt: ours)
        // 4 FUNCs (one extern), 7 VARs, 5 DATASECs.
        #expect(expected.count == 16)
        for line in Set(expected).subtracting(actual) { Issue.record("only in clang's BTF: \(line)") }
        for line in Set(actual).subtracting(expected) { Issue.record("only in ours: \(line)") }
    }
}
