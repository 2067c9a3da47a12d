import BPFInstructions
import BPFObject
import BTF

/// A program the loader knows how to load, from its section name as libbpf's section table reads
/// it (`raw_tp` matches `raw_tp` and `raw_tp/NAME`, not `raw_tpx`): its program type, load
/// flags, expected attach type, and whether BPF_PROG_TEST_RUN can run it.
enum ProgramType: Hashable {
    /// SEC("syscall"): BPF_PROG_TYPE_SYSCALL, which the kernel only accepts as sleepable.
    case syscall
    /// SEC("raw_tp/NAME") or SEC("raw_tracepoint/NAME"): BPF_PROG_TYPE_RAW_TRACEPOINT, whose
    /// context is the tracepoint's arguments as u64s.
    case rawTracepoint
    /// SEC("raw_tp.w/NAME") or SEC("raw_tracepoint.w/NAME"): BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
    /// which may write the tracepoint's buffer.
    case writableRawTracepoint
    /// SEC("tp_btf/NAME"): BPF_PROG_TYPE_TRACING attached to tracepoint NAME (BPF_TRACE_RAW_TP),
    /// its arguments typed by the kernel's BTF.
    case btfTracepoint(String)

    init?(section: String) {
        /// The part after "`kind`/", "" for the bare kind, nil for another kind.
        func target(_ kind: String) -> String? {
            guard section.hasPrefix(kind) else { return nil }
            let rest = section.dropFirst(kind.count)
            if rest.isEmpty { return "" }
            return rest.first == "/" ? String(rest.dropFirst()) : nil
        }
        if section == "syscall" {
            self = .syscall
        } else if target("raw_tp") != nil || target("raw_tracepoint") != nil {
            self = .rawTracepoint
        } else if target("raw_tp.w") != nil || target("raw_tracepoint.w") != nil {
            self = .writableRawTracepoint
        } else if let name = target("tp_btf") {
            self = .btfTracepoint(name)
        } else {
            return nil
        }
    }

    /// BPF_PROG_TYPE_TRACEPOINT, for the loader's probe of helpers tracing programs may call.
    static let tracepointNumber: UInt32 = 5

    var number: UInt32 {
        switch self {
        case .syscall: 31
        case .rawTracepoint: 17
        case .writableRawTracepoint: 24
        case .btfTracepoint: 26  // BPF_PROG_TYPE_TRACING
        }
    }

    var flags: UInt32 {
        switch self {
        case .syscall: 1 << 4  // BPF_F_SLEEPABLE
        case .rawTracepoint, .writableRawTracepoint, .btfTracepoint: 0
        }
    }

    /// `expected_attach_type`: BPF_TRACE_RAW_TP for tp_btf, which then needs `attach_btf_id`.
    var expectedAttachType: UInt32 {
        switch self {
        case .syscall, .rawTracepoint, .writableRawTracepoint: 0
        case .btfTracepoint: 23
        }
    }

    /// How BPF_PROG_TEST_RUN runs programs of this type: a syscall program with no context, a
    /// raw tracepoint with the twelve u64 arguments it can have (MAX_BPF_FUNC_ARGS), all zero.
    var testRun: TestRun {
        switch self {
        case .syscall: .context([])
        case .rawTracepoint: .context([UInt8](repeating: 0, count: 12 * 8))
        case .writableRawTracepoint:
            .unsupported(reason: "the kernel has no test run for raw_tp.w programs (BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE); they run when their tracepoint fires")
        case .btfTracepoint(let name):
            .unsupported(reason: "a tp_btf program runs only when tracepoint '\(name)' fires; of the tracing programs, BPF_PROG_TEST_RUN runs only fentry, fexit and fmod_ret")
        }
    }

    enum TestRun {
        case context([UInt8])
        case unsupported(reason: String)
    }
}

/// An entry program of an object: a global function in a code section other than `.text`.
public struct ProgramEntry: Hashable, Sendable {
    public var name: String
    public var section: String
}

/// Entry programs in file order (libbpf's bpf_object__add_programs; `.text` holds sub-programs).
public func entryPrograms(of object: ObjectFile) -> [ProgramEntry] {
    object.codeSections.filter { $0.name != ".text" }.flatMap { section in
        section.functions.filter { $0.binding != .local }.map { ProgramEntry(name: $0.name, section: section.name) }
    }
}

/// An arena map's user-space mapping: `size` bytes from `base`, valid while the LoadedObject
/// that owns the arena lives.
public struct ArenaRegion {
    public let base: UnsafeMutableRawPointer
    public let size: Int
}

/// Size and verification cost of a loaded program, for comparing compilers' output.
public struct ProgramStatistics: Hashable, Sendable {
    /// Instruction slots as loaded: the entry function plus every sub-program appended to it.
    public var instructions: Int
    /// The kernel's verified_insns: instructions the verifier processed, over all paths.
    public var verifiedInstructions: Int
}

/// A program in the kernel and the number of instruction slots it was loaded with (the entry
/// function plus the sub-programs appended to it).
struct LoadedProgram {
    var fd: FileDescriptor
    var type: ProgramType
    var instructionCount: Int
}

/// An object whose maps exist in the kernel and whose programs are loaded, verified and ready
/// to run. Releasing it closes every map and program fd.
public final class LoadedObject {
    /// The object as loaded: `.kconfig` externs, given values from the running kernel, have a
    /// `.kconfig` data section of their own, as libbpf gives them a map.
    public let object: ObjectFile
    private var maps: [String: (definition: MapDefinition, fd: FileDescriptor)] = [:]
    /// The fds relocations refer to; the maps above own them.
    private var mapTable = MapTable()
    private var arenaMapping: ArenaMapping?
    private var programs: [String: LoadedProgram] = [:]
    private let kernelSymbols = KernelSymbols()
    /// The object's BTF in the kernel; nil for objects without `.BTF` (loaded without func_info).
    private var programBTF: ProgramBTF?

    /// Creates the maps and loads `programNames` (all entry programs when nil), in that order.
    /// `name` (the file name, usually) prefixes internal map names as libbpf does.
    public init(_ object: ObjectFile, name: String, programs programNames: [String]? = nil) throws(LoadError) {
        var object = object
        if let kconfig = try kconfigDataSection(of: object) { object.dataSections.append(kconfig) }
        self.object = object
        try createMaps(objectName: name)
        if let spec = object.btf { programBTF = try ProgramBTF(spec, of: object) }
        let entries = entryPrograms(of: object)
        for programName in programNames ?? entries.map(\.name) {
            guard programs[programName] == nil else { continue }
            guard let entry = entries.first(where: { $0.name == programName }) else {
                throw .noSuchProgram(programName)
            }
            programs[programName] = try load(entry)
        }
    }

    /// Runs a loaded program once with BPF_PROG_TEST_RUN and returns its r0 (the kernel
    /// reports it as u32; C programs return int). A raw tracepoint program sees zero arguments.
    public func run(_ programName: String) throws(LoadError) -> Int32 {
        guard let program = programs[programName] else { throw .noSuchProgram(programName) }
        let context: [UInt8]
        switch program.type.testRun {
        case .context(let bytes): context = bytes
        case .unsupported(let reason): throw .notTestRunnable(program: programName, reason: reason)
        }
        do {
            return Int32(bitPattern: try BPFSyscall.testRun(program: program.fd, context: context))
        } catch {
            throw .syscall(error, context: "running '\(programName)'")
        }
    }

    /// Where the object's arena map is mapped in this process; nil when the object has none.
    /// The programs' arena pointers are addresses in this range, so callers can follow them.
    public var arena: ArenaRegion? {
        arenaMapping.map { ArenaRegion(base: $0.address, size: $0.length) }
    }

    /// The user address of an `__arena` global (a symbol in `.addr_space.1`): the arena's base
    /// plus where the arena globals start in it plus the symbol's offset among them.
    public func arenaAddress(of name: String) throws(LoadError) -> UnsafeMutableRawPointer {
        guard let arenaMapping,
              let symbol = object.dataSections.first(where: { $0.name == MapDefinition.arenaSection })?
                  .symbols.first(where: { $0.name == name })
        else { throw .noSuchVariable(name) }
        return arenaMapping.address + ArenaMapping.dataOffset + symbol.offset
    }

    /// The current bytes of a global, read from its internal map (or, for an `__arena` global,
    /// from the arena's mapping).
    public func value(of variable: GlobalVariable) throws(LoadError) -> [UInt8] {
        if variable.section == MapDefinition.arenaSection {
            let address = try arenaAddress(of: variable.name)
            return Array(UnsafeRawBufferPointer(start: address, count: variable.size))
        }
        guard let (definition, fd) = maps[variable.section] else { throw .noSuchVariable(variable.name) }
        let bytes: [UInt8]
        do {
            bytes = try BPFSyscall.lookupElement(map: fd, key: [0, 0, 0, 0], valueSize: Int(definition.valueSize))
        } catch {
            throw .syscall(error, context: "reading '\(variable.name)' from map '\(variable.section)'")
        }
        return Array(bytes[variable.offset..<variable.offset + variable.size])
    }

    /// Changes a global between runs: programs that run next see the new bytes. `.rodata` is
    /// frozen after loading, as libbpf freezes it, so only writable globals can change.
    public func setValue(of variable: GlobalVariable, to bytes: [UInt8]) throws(LoadError) {
        guard bytes.count == variable.size else {
            throw .badValue(variable: variable.name, value: "\(bytes.count) bytes",
                            reason: "the variable has \(variable.size) bytes")
        }
        if variable.section == MapDefinition.arenaSection {
            let address = try arenaAddress(of: variable.name)
            address.copyMemory(from: bytes, byteCount: bytes.count)
            return
        }
        guard let (definition, fd) = maps[variable.section] else { throw .noSuchVariable(variable.name) }
        do {
            var contents = try BPFSyscall.lookupElement(map: fd, key: [0, 0, 0, 0], valueSize: Int(definition.valueSize))
            contents.replaceSubrange(variable.offset..<variable.offset + variable.size, with: bytes)
            try BPFSyscall.updateElement(map: fd, key: [0, 0, 0, 0], value: contents)
        } catch {
            throw .syscall(error, context: "writing '\(variable.name)' to map '\(variable.section)'")
        }
    }

    /// How big a loaded program is and how much work the verifier did on it.
    public func statistics(of programName: String) throws(LoadError) -> ProgramStatistics {
        guard let program = programs[programName] else { throw .noSuchProgram(programName) }
        do {
            let verified = try BPFSyscall.verifiedInstructions(program: program.fd)
            return ProgramStatistics(instructions: program.instructionCount, verifiedInstructions: Int(verified))
        } catch {
            throw .syscall(error, context: "reading the statistics of '\(programName)'")
        }
    }

    // MARK: Loading

    private func createMaps(objectName: String) throws(LoadError) {
        var definitions = try object.dataSections.filter { isInternalMapSection($0.name) && !$0.bytes.isEmpty }
            .map { section throws(LoadError) in try MapDefinition.internalMap(for: section) }
        definitions += try MapDefinition.definedMaps(in: object)
        for definition in definitions {
            let isInternal = definition.isInternal
            let kernelName = kernelObjectName(isInternal ? String(objectName.prefix(8)) + definition.name : definition.name)
            do {
                let fd = try BPFSyscall.createMap(
                    type: definition.type, keySize: definition.keySize, valueSize: definition.valueSize,
                    maxEntries: definition.maxEntries, flags: definition.flags, name: kernelName,
                    mapExtra: definition.mapExtra)
                if let initialValue = definition.initialValue {
                    try BPFSyscall.updateElement(map: fd, key: [0, 0, 0, 0], value: initialValue)
                }
                if definition.freeze { try BPFSyscall.freeze(map: fd) }
                maps[definition.name] = (definition, fd)
            } catch {
                throw .syscall(error, context: "creating map '\(definition.name)'")
            }
            guard let fd = maps[definition.name]?.fd else { continue }
            if isInternal {
                mapTable.sectionMaps[definition.name] = fd.raw
            } else {
                mapTable.definedMaps[definition.name] = fd.raw
            }
            if definition.type == MapDefinition.arena {
                try mapArena(definition, fd: fd)
            }
        }
    }

    /// Maps the object's arena before any program load and makes `.addr_space.1` globals
    /// addresses inside it. libbpf allows one arena per object.
    private func mapArena(_ definition: MapDefinition, fd: FileDescriptor) throws(LoadError) {
        guard arenaMapping == nil else { throw .badMap(name: definition.name, reason: "a second arena map") }
        let data = object.dataSections.first { $0.name == MapDefinition.arenaSection }
        arenaMapping = try ArenaMapping(map: fd, pages: definition.maxEntries, fixedAddress: definition.mapExtra,
                                        initialData: data?.bytes ?? [])
        mapTable.sectionMaps[MapDefinition.arenaSection] = fd.raw
    }

    private func load(_ entry: ProgramEntry) throws(LoadError) -> LoadedProgram {
        let (type, linked, request) = try prepare(entry)

        // First without a log (cheap); on failure again with one, grown until the log fits.
        var (result, log, trueSize) = BPFSyscall.loadProgram(request, logSize: 0)
        var logSize = 1 << 16
        while case .failure(let error) = result, error.errno != 1 {
            (result, log, trueSize) = BPFSyscall.loadProgram(request, logSize: logSize)
            guard case .failure(let retryError) = result, retryError.errno == 28, logSize < 1 << 28 else { break }
            logSize = max(logSize * 4, trueSize + 1)
        }
        switch result {
        case .success(let fd):
            return LoadedProgram(fd: fd, type: type, instructionCount: linked.instructions.count)
        case .failure(let error):
            if log.isEmpty { throw .syscall(error, context: "loading program '\(entry.name)'") }
            throw .verifier(program: entry.name, errno: error.errno, log: log, diagnosis: linked.diagnose(log))
        }
    }

    /// The entry program `name` linked, with the BPF_PROG_LOAD request that loads it.
    func prepare(_ name: String) throws(LoadError) -> (type: ProgramType, linked: LinkedProgram, request: BPFSyscall.ProgramLoad) {
        guard let entry = entryPrograms(of: object).first(where: { $0.name == name }) else { throw .noSuchProgram(name) }
        return try prepare(entry)
    }

    private func prepare(_ entry: ProgramEntry) throws(LoadError) -> (type: ProgramType, linked: LinkedProgram, request: BPFSyscall.ProgramLoad) {
        guard let type = ProgramType(section: entry.section) else {
            throw .unsupportedProgram(program: entry.name, section: entry.section,
                                      reason: "names no program type this loader supports (syscall, raw_tp, raw_tp.w, tp_btf)")
        }
        guard let sectionIndex = object.codeSections.firstIndex(where: { $0.name == entry.section }),
              let function = object.codeSections[sectionIndex].functions.first(where: { $0.name == entry.name })
        else { throw .noSuchProgram(entry.name) }

        let linked = try link(object, section: sectionIndex, entry: function, maps: mapTable) {
            name throws(LoadError) in try kernelSymbols.resolve(name, in: object)
        }
        var attachBTFID: UInt32 = 0
        if case .btfTracepoint(let tracepoint) = type {
            attachBTFID = try kernelSymbols.tracepointType(tracepoint, program: entry.name)
        }
        let license = object.dataSections.first { $0.name == "license" }
            .map { String(decoding: $0.bytes.prefix { $0 != 0 }, as: UTF8.self) } ?? ""
        let request = BPFSyscall.ProgramLoad(
            type: type.number, flags: type.flags, expectedAttachType: type.expectedAttachType, attachBTFID: attachBTFID,
            name: kernelObjectName(entry.name), instructions: linked.instructions,
            license: license, btf: programBTF?.fd, funcInfo: linked.funcInfoBytes(), funcInfoCount: linked.funcInfo.count,
            lineInfo: programBTF?.lineInfo(of: linked) ?? [], lineInfoCount: linked.lines.count)
        return (type, linked, request)
    }
}

/// Map and program names: at most 15 characters of [A-Za-z0-9_.], as the kernel requires.
func kernelObjectName(_ name: String) -> String {
    String(String.UnicodeScalarView(name.unicodeScalars.map {
        (("0"..."9").contains($0) || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || $0 == "_" || $0 == ".")
            ? $0 : "_"
    }).prefix(15))
}
