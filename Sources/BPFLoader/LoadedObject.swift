import BPFInstructions
import BPFObject
import BTF

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
    /// Bytes of machine code the JIT made of the program: what runs (0 where the kernel interprets it).
    public var jitedBytes: Int
    /// The program type as the kernel reports it.
    public var type: BPFProgramType?
    /// The expected attach type the program was loaded with, when its section names one.
    public var expectedAttachType: BPFAttachType?
    /// What the section names as the program's target (`do_unlinkat` of `kprobe/do_unlinkat`,
    /// `bpf_lsm_file_open` of `lsm/file_open`); empty when it names none.
    public var target: String
}

/// The machine code the kernel's JIT made of a loaded program, with the functions and source
/// lines it came from: what `swiftbpf dump --jited` disassembles.
public struct JitedCode: Sendable {
    public var bytes: [UInt8]
    /// Where each function starts in `bytes` and in the kernel: the entry program, then its
    /// sub-programs in the order they were appended.
    public var functions: [(name: String, offset: Int, address: UInt64)]
    /// Where the code of each line_info record starts, in order of `offset`.
    public var lines: [(offset: Int, line: LineRecord)]

    /// Where a kernel address inside one of the functions falls in `bytes`.
    public func offset(ofKernelAddress address: UInt64) -> Int? {
        for (index, function) in functions.enumerated() {
            let end = index + 1 < functions.count ? functions[index + 1].offset : bytes.count
            if function.address <= address, address - function.address < UInt64(end - function.offset) {
                return function.offset + Int(address - function.address)
            }
        }
        return nil
    }
}

/// A program in the kernel and the number of instruction slots it was loaded with (the entry
/// function plus the sub-programs appended to it, whose names `functions` lists in that order).
struct LoadedProgram {
    var fd: FileDescriptor
    var section: ProgramSection
    var instructionCount: Int
    var functions: [String]
}

/// An object whose maps exist in the kernel and whose programs are loaded, verified and ready
/// to run. Releasing it closes every map and program fd.
public final class LoadedObject {
    /// The object as loaded: `.kconfig` externs, given values from the running kernel, have a
    /// `.kconfig` data section of their own, as libbpf gives them a map, and CO-RE relocations
    /// are applied to the instructions.
    public let object: ObjectFile
    /// Maps by the name relocations use; a map pinned by name may be one that already existed
    /// (`isReused`), whose contents the object does not initialize.
    private var maps: [String: (definition: MapDefinition, fd: FileDescriptor, isReused: Bool)] = [:]
    /// The fds relocations refer to; the maps above own them.
    private var mapTable = MapTable()
    private var arenaMapping: ArenaMapping?
    private var programs: [String: LoadedProgram] = [:]
    private let kernelSymbols: KernelSymbols
    /// CO-RE relocations the kernel could not satisfy, whose instructions were poisoned.
    private let failedRelocations: [FailedCORERelocation]
    /// The object's BTF in the kernel; nil for objects without `.BTF` (loaded without func_info).
    private var programBTF: ProgramBTF?

    /// Creates the maps and loads `programNames` (all entry programs when nil), in that order,
    /// then the programs a prog_array's initial slots name, which fill those slots as libbpf
    /// fills them. `name` (the file name, usually) prefixes internal map names as libbpf does.
    public init(_ object: ObjectFile, name: String, programs programNames: [String]? = nil) throws(LoadError) {
        var object = object
        if let kconfig = try kconfigDataSection(of: object) { object.dataSections.append(kconfig) }
        let kernel = KernelBTF()
        kernelSymbols = KernelSymbols(kernel: kernel)
        failedRelocations = try applyCORERelocations(to: &object, kernel: kernel)
        self.object = object
        if let spec = object.btf { programBTF = try ProgramBTF(spec, of: object) }
        try createMaps(objectName: name)
        let entries = entryPrograms(of: object)
        let programArrays = maps.values.filter { $0.definition.type == MapDefinition.programArray && !$0.isReused }
        let slotPrograms = programArrays.flatMap { $0.definition.initialSlots.map(\.symbol) }
        for programName in (programNames ?? entries.map(\.name)) + slotPrograms {
            guard programs[programName] == nil else { continue }
            guard let entry = entries.first(where: { $0.name == programName }) else {
                throw .noSuchProgram(programName)
            }
            programs[programName] = try load(entry)
        }
        for (definition, fd, _) in programArrays {
            try fillSlots(of: definition, fd: fd) { symbol in programs[symbol]?.fd }
        }
    }

    /// Runs a loaded program once with BPF_PROG_TEST_RUN and returns its r0 (the kernel
    /// reports it as u32; C programs return int). A raw tracepoint program sees zero arguments,
    /// a packet program a zeroed packet of `ProgramSection.testPacketSize` bytes.
    public func run(_ programName: String) throws(LoadError) -> Int32 {
        guard let program = programs[programName] else { throw .noSuchProgram(programName) }
        let input: BPFSyscall.TestRunInput
        switch program.section.testRun {
        case .context(let bytes): input = .context(bytes)
        case .packet(let bytes): input = .packet(bytes)
        case .unsupported(let reason): throw .notTestRunnable(program: programName, reason: reason)
        }
        do {
            return Int32(bitPattern: try BPFSyscall.testRun(program: program.fd, input: input))
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
        guard let (definition, fd, _) = maps[variable.section] else { throw .noSuchVariable(variable.name) }
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
        guard let (definition, fd, _) = maps[variable.section] else { throw .noSuchVariable(variable.name) }
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
            let info = try BPFSyscall.programInfo(program.fd)
            return ProgramStatistics(instructions: program.instructionCount, verifiedInstructions: Int(info.verifiedInstructions),
                                     jitedBytes: Int(info.jitedLength),
                                     type: BPFProgramType(rawValue: info.type),
                                     expectedAttachType: program.section.expectedAttachType, target: program.section.target)
        } catch {
            throw .syscall(error, context: "reading the statistics of '\(programName)'")
        }
    }

    /// The JIT's machine code of a loaded program, or nil where the kernel interprets it or
    /// shows the code not to this process (`kernel.kptr_restrict`).
    public func jitedCode(of programName: String) throws(LoadError) -> JitedCode? {
        guard let program = programs[programName] else { throw .noSuchProgram(programName) }
        let image: BPFSyscall.JitedProgram?
        do {
            image = try BPFSyscall.jitedProgram(program.fd)
        } catch {
            throw .syscall(error, context: "reading the machine code of '\(programName)'")
        }
        guard let image else { return nil }
        // The functions lie back to back in `bytes`, in the order the kernel lists them.
        var offset = 0
        var functions: [(name: String, offset: Int, address: UInt64)] = []
        for (index, function) in image.functions.enumerated() {
            let name = program.functions.count == image.functions.count ? program.functions[index] : "function \(index)"
            functions.append((name, offset, function.address))
            offset += function.length
        }
        var code = JitedCode(bytes: image.code, functions: functions, lines: [])
        code.lines = image.lines.compactMap { record in
            guard let at = code.offset(ofKernelAddress: record.address), let strings = programBTF?.strings,
                  let file = strings.string(at: record.fileName), let text = strings.string(at: record.sourceText)
            else { return nil }
            let line = LineRecord(instructionIndex: 0, file: file, line: Int(record.lineColumn >> BTFWire.lineShift),
                                  column: Int(record.lineColumn & 0x3ff), sourceText: text)
            return (at, line)
        }.sorted { $0.offset < $1.offset }
        return code
    }

    // MARK: Loading

    private func createMaps(objectName: String) throws(LoadError) {
        var definitions = try object.dataSections.filter { isInternalMapSection($0.name) && !$0.bytes.isEmpty }
            .map { section throws(LoadError) in try MapDefinition.internalMap(for: section) }
        definitions += try MapDefinition.definedMaps(in: object)
        for var definition in definitions {
            definition = try definition.sizedForKernel()
            let isInternal = definition.isInternal
            let kernelName = kernelObjectName(isInternal ? String(objectName.prefix(8)) + definition.name : definition.name)
            let pinPath = "/sys/fs/bpf/" + definition.name
            if definition.isPinnedByName, let fd = try reusePinnedMap(definition, at: pinPath) {
                maps[definition.name] = (definition, fd, true)
            } else {
                do {
                    let fd = try createMap(definition, kernelName: kernelName)
                    if let initialValue = definition.initialValue {
                        try BPFSyscall.updateElement(map: fd, key: [0, 0, 0, 0], value: initialValue)
                    }
                    if definition.freeze { try BPFSyscall.freeze(map: fd) }
                    if definition.isPinnedByName { try BPFSyscall.pin(fd, at: pinPath) }
                    maps[definition.name] = (definition, fd, false)
                } catch {
                    throw .syscall(error, context: "creating map '\(definition.name)'")
                }
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
        // Inner map templates served their purpose once the outer map exists, as in libbpf.
        for (name, map) in maps where map.definition.isMapInMap {
            if let inner = map.definition.innerMap {
                maps[inner] = nil
                mapTable.definedMaps[inner] = nil
            }
            if !map.isReused {
                try fillSlots(of: map.definition, fd: map.fd) { symbol in symbol == name ? nil : maps[symbol]?.fd }
            }
        }
    }

    /// BPF_MAP_CREATE with the object's BTF types where the map type takes them, and without
    /// them if the kernel refuses them, as libbpf retries.
    private func createMap(_ definition: MapDefinition, kernelName: String) throws(SyscallError) -> FileDescriptor {
        var request = BPFSyscall.MapCreate(
            type: definition.type, keySize: definition.keySize, valueSize: definition.valueSize,
            maxEntries: definition.maxEntries, flags: definition.flags, name: kernelName,
            mapExtra: definition.mapExtra, numaNode: definition.numaNode,
            innerMap: definition.innerMap.flatMap { maps[$0]?.fd })
        if definition.takesBTFTypes, let btf = programBTF?.fd, definition.keyType != nil || definition.valueType != nil {
            request.btf = btf
            request.keyType = definition.keyType?.rawValue ?? 0
            request.valueType = definition.valueType?.rawValue ?? 0
            if let fd = try? BPFSyscall.createMap(request) { return fd }
            request.btf = nil
        }
        return try BPFSyscall.createMap(request)
    }

    /// The map pinned at `path` when there is one, if it has the definition's shape (libbpf's
    /// map_is_reuse_compat); nil when nothing is pinned there.
    private func reusePinnedMap(_ definition: MapDefinition, at path: String) throws(LoadError) -> FileDescriptor? {
        let fd: FileDescriptor
        do {
            fd = try BPFSyscall.pinned(at: path)
        } catch where error.errno == 2 {  // ENOENT
            return nil
        } catch {
            throw .syscall(error, context: "opening pinned map '\(path)'")
        }
        let info: (type: UInt32, keySize: UInt32, valueSize: UInt32, maxEntries: UInt32, flags: UInt32)
        do {
            info = try BPFSyscall.mapInfo(fd)
        } catch {
            throw .syscall(error, context: "reading pinned map '\(path)'")
        }
        let wanted = (definition.type, definition.keySize, definition.valueSize, definition.maxEntries, definition.flags)
        guard info == wanted else {
            throw .badMap(name: definition.name, reason: "the map pinned at \(path) has type \(info.type), key size \(info.keySize), "
                          + "value size \(info.valueSize), \(info.maxEntries) entries and flags \(info.flags); "
                          + "the object wants \(wanted.0), \(wanted.1), \(wanted.2), \(wanted.3) and \(wanted.4)")
        }
        return fd
    }

    /// Writes a prog_array's or map-in-map's initial slots: each index gets the fd of the program
    /// or map its symbol names.
    private func fillSlots(of definition: MapDefinition, fd: FileDescriptor,
                           target: (String) -> FileDescriptor?) throws(LoadError) {
        for slot in definition.initialSlots {
            guard let targetFD = target(slot.symbol) else {
                throw .badMap(name: definition.name, reason: "slot \(slot.index) names '\(slot.symbol)', which is no "
                              + (definition.isMapInMap ? "other map of the object" : "entry program of the object"))
            }
            do {
                try BPFSyscall.updateElement(map: fd, key: littleEndian(slot.index), value: littleEndian(UInt32(bitPattern: targetFD.raw)))
            } catch {
                throw .syscall(error, context: "putting '\(slot.symbol)' in slot \(slot.index) of map '\(definition.name)'")
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
        let (section, linked, request) = try prepare(entry)

        // First without a log (cheap); on failure again with one, grown until the log fits, up to
        // 4 MiB: a program refused for its size or complexity writes hundreds of megabytes, and
        // the kernel (6.4 on) keeps the end of a log that does not fit, where the verdict is.
        var (result, log, trueSize) = BPFSyscall.loadProgram(request, logSize: 0)
        let largestLog = 1 << 22
        var logSize = 1 << 16
        while case .failure(let error) = result, error.errno != 1 {
            (result, log, trueSize) = BPFSyscall.loadProgram(request, logSize: logSize)
            guard case .failure(let retryError) = result, retryError.errno == 28, logSize < largestLog else { break }
            logSize = min(max(logSize * 4, trueSize + 1), largestLog)
        }
        switch result {
        case .success(let fd):
            return LoadedProgram(fd: fd, section: section, instructionCount: linked.instructions.count,
                                 functions: linked.placed.sorted { $0.start < $1.start }.map(\.function.name))
        case .failure(let error):
            if log.isEmpty { throw .syscall(error, context: "loading program '\(entry.name)'") }
            throw .verifier(program: entry.name, errno: error.errno, log: log, diagnosis: linked.diagnose(log))
        }
    }

    /// The entry program `name` linked, with the BPF_PROG_LOAD request that loads it.
    func prepare(_ name: String) throws(LoadError)
        -> (section: ProgramSection, linked: LinkedProgram, request: BPFSyscall.ProgramLoad)
    {
        guard let entry = entryPrograms(of: object).first(where: { $0.name == name }) else { throw .noSuchProgram(name) }
        return try prepare(entry)
    }

    private func prepare(_ entry: ProgramEntry) throws(LoadError)
        -> (section: ProgramSection, linked: LinkedProgram, request: BPFSyscall.ProgramLoad)
    {
        guard let section = ProgramSection(section: entry.section) else {
            throw .unsupportedProgram(program: entry.name, section: entry.section,
                                      reason: "names no program type libbpf knows (kprobe/NAME, tp/CATEGORY/NAME, fentry/NAME, xdp, tc, ...)")
        }
        guard let sectionIndex = object.codeSections.firstIndex(where: { $0.name == entry.section }),
              let function = object.codeSections[sectionIndex].functions.first(where: { $0.name == entry.name })
        else { throw .noSuchProgram(entry.name) }

        var linked = try link(object, section: sectionIndex, entry: function, maps: mapTable) {
            name throws(LoadError) in try kernelSymbols.resolve(name, in: object)
        }
        linked.noteFailedRelocations(failedRelocations)
        var attachBTFID: UInt32 = 0
        var expectedAttachType = section.expectedAttachType?.rawValue ?? 0
        switch section.btfTarget {
        case nil:
            break
        case .function(let name):
            attachBTFID = try kernelSymbols.attachTarget(name, isTypedef: false, section: section, program: entry.name)
        case .typedef(let name):
            attachBTFID = try kernelSymbols.attachTarget(name, isTypedef: true, section: section, program: entry.name)
        case .structOpsMember:
            (attachBTFID, expectedAttachType) = try structOpsMember(of: entry.name, section: entry.section, in: object) {
                name throws(LoadError) in try kernelSymbols.kernelStruct(name)
            }
        case .program:
            throw .unsupportedProgram(program: entry.name, section: entry.section,
                                      reason: "replaces a function of another BPF program (freplace), which swiftbpf cannot be given")
        }
        let license = object.dataSections.first { $0.name == "license" }
            .map { String(decoding: $0.bytes.prefix { $0 != 0 }, as: UTF8.self) } ?? ""
        let request = BPFSyscall.ProgramLoad(
            type: section.type.rawValue, flags: section.flags, expectedAttachType: expectedAttachType, attachBTFID: attachBTFID,
            name: kernelObjectName(entry.name), instructions: linked.instructions,
            license: license, btf: programBTF?.fd, funcInfo: linked.funcInfoBytes(), funcInfoCount: linked.funcInfo.count,
            lineInfo: programBTF?.lineInfo(of: linked) ?? [], lineInfoCount: linked.lines.count)
        return (section, linked, request)
    }
}

/// Map and program names: at most 15 characters of [A-Za-z0-9_.], as the kernel requires.
func kernelObjectName(_ name: String) -> String {
    String(String.UnicodeScalarView(name.unicodeScalars.map {
        (("0"..."9").contains($0) || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || $0 == "_" || $0 == ".")
            ? $0 : "_"
    }).prefix(15))
}
