import BPFInstructions
import CBPFSyscall

/// bpf() commands used by the loader (`enum bpf_cmd` in include/uapi/linux/bpf.h).
public enum BPFCommand: Int32, Sendable {
    case mapCreate = 0
    case mapLookupElem = 1
    case mapUpdateElem = 2
    case progLoad = 5
    case objPin = 6
    case objGet = 7
    case progTestRun = 10
    case objGetInfoByFD = 15
    case btfLoad = 18
    case mapFreeze = 22

    public var name: String {
        switch self {
        case .mapCreate: "BPF_MAP_CREATE"
        case .mapLookupElem: "BPF_MAP_LOOKUP_ELEM"
        case .mapUpdateElem: "BPF_MAP_UPDATE_ELEM"
        case .progLoad: "BPF_PROG_LOAD"
        case .objPin: "BPF_OBJ_PIN"
        case .objGet: "BPF_OBJ_GET"
        case .progTestRun: "BPF_PROG_TEST_RUN"
        case .objGetInfoByFD: "BPF_OBJ_GET_INFO_BY_FD"
        case .btfLoad: "BPF_BTF_LOAD"
        case .mapFreeze: "BPF_MAP_FREEZE"
        }
    }
}

/// A failed bpf() call: the command and the errno it returned.
public struct SyscallError: Error, Hashable, Sendable, CustomStringConvertible {
    public var command: BPFCommand
    public var errno: Int32

    public var description: String { "\(command.name) failed: \(errnoName(errno))" }

    /// bpf() is not available to this process at all (not root, or no BPF in the kernel).
    public var isPermissionOrAbsence: Bool { errno == 1 || errno == 38 }  // EPERM, ENOSYS
}

/// Symbolic names of the errno values bpf() returns, as a loader user would look them up.
func errnoName(_ errno: Int32) -> String {
    let names: [Int32: String] = [
        1: "EPERM", 2: "ENOENT", 7: "E2BIG", 9: "EBADF", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT",
        16: "EBUSY", 22: "EINVAL", 28: "ENOSPC", 34: "ERANGE", 38: "ENOSYS", 95: "EOPNOTSUPP", 524: "ENOTSUPP",
    ]
    return "\(names[errno] ?? "errno") (\(errno))"
}

/// The one door into the bpf() syscall. Each command's `union bpf_attr` member is written as a
/// byte layout (offsets from include/uapi/linux/bpf.h) rather than imported from a C header,
/// because the build machine's UAPI header is older than the kernel the loader targets.
enum BPFSyscall {
    /// Calls bpf(command, attr); returns the non-negative result.
    @discardableResult
    static func call(_ command: BPFCommand, _ attr: inout AttrBuilder) -> Result<Int32, SyscallError> {
        let result = attr.bytes.withUnsafeMutableBytes { buffer in
            swiftbpf_bpf(command.rawValue, buffer.baseAddress, UInt32(buffer.count))
        }
        guard result >= 0 else { return .failure(SyscallError(command: command, errno: swiftbpf_errno())) }
        return .success(Int32(truncatingIfNeeded: result))
    }

    /// Like `call`, for commands that return a new fd.
    static func callReturningFD(_ command: BPFCommand, _ attr: inout AttrBuilder) throws(SyscallError) -> FileDescriptor {
        switch call(command, &attr) {
        case .success(let fd): return FileDescriptor(fd)
        case .failure(let error): throw error
        }
    }

    // MARK: Maps

    /// The inputs of BPF_MAP_CREATE that the loader varies.
    struct MapCreate {
        var type: UInt32
        var keySize: UInt32
        var valueSize: UInt32
        var maxEntries: UInt32
        var flags: UInt32
        var name: String
        var mapExtra: UInt64 = 0
        var numaNode: UInt32 = 0
        /// A map-in-map's inner map template.
        var innerMap: FileDescriptor?
        /// The object's BTF and the key and value types in it; 0 for none.
        var btf: FileDescriptor?
        var keyType: UInt32 = 0
        var valueType: UInt32 = 0
    }

    /// BPF_MAP_CREATE: map_type@0 key_size@4 value_size@8 max_entries@12 map_flags@16
    /// inner_map_fd@20 numa_node@24 map_name[16]@28 btf_fd@48 btf_key_type_id@52
    /// btf_value_type_id@56 map_extra@64.
    static func createMap(_ map: MapCreate) throws(SyscallError) -> FileDescriptor {
        var attr = AttrBuilder(size: 72)
        attr.set32(0, map.type)
        attr.set32(4, map.keySize)
        attr.set32(8, map.valueSize)
        attr.set32(12, map.maxEntries)
        attr.set32(16, map.flags)
        if let inner = map.innerMap { attr.set32(20, UInt32(bitPattern: inner.raw)) }
        attr.set32(24, map.numaNode)
        attr.setName(28, map.name)
        if let btf = map.btf {
            attr.set32(48, UInt32(bitPattern: btf.raw))
            attr.set32(52, map.keyType)
            attr.set32(56, map.valueType)
        }
        attr.set64(64, map.mapExtra)
        return try withExtendedLifetime((map.innerMap, map.btf)) { () throws(SyscallError) in
            try callReturningFD(.mapCreate, &attr)
        }
    }

    /// BPF_OBJ_PIN: pathname@0 bpf_fd@8. The map then lives in bpffs after its fds close.
    static func pin(_ object: FileDescriptor, at path: String) throws(SyscallError) {
        let pathBuffer = PinnedBuffer(Array(path.utf8) + [0])
        var attr = AttrBuilder(size: 16)
        attr.set64(0, pathBuffer.address)
        attr.set32(8, UInt32(bitPattern: object.raw))
        if case .failure(let error) = withExtendedLifetime(pathBuffer, { call(.objPin, &attr) }) { throw error }
    }

    /// BPF_OBJ_GET: pathname@0 file_flags@12. An fd of what is pinned at `path`.
    static func pinned(at path: String) throws(SyscallError) -> FileDescriptor {
        let pathBuffer = PinnedBuffer(Array(path.utf8) + [0])
        var attr = AttrBuilder(size: 16)
        attr.set64(0, pathBuffer.address)
        return try withExtendedLifetime(pathBuffer) { () throws(SyscallError) in try callReturningFD(.objGet, &attr) }
    }

    /// BPF_OBJ_GET_INFO_BY_FD on a map: type@0 key_size@8 value_size@12 max_entries@16
    /// map_flags@20 of `struct bpf_map_info`.
    static func mapInfo(_ map: FileDescriptor) throws(SyscallError)
        -> (type: UInt32, keySize: UInt32, valueSize: UInt32, maxEntries: UInt32, flags: UInt32)
    {
        let field = try objectInfo(map, size: 24)
        return (field(0), field(8), field(12), field(16), field(20))
    }

    /// BPF_OBJ_GET_INFO_BY_FD: bpf_fd@0 info_len@4 info@8. The first `size` bytes of the
    /// object's info struct, read as u32 fields by byte offset.
    private static func objectInfo(_ object: FileDescriptor, size: Int) throws(SyscallError) -> (Int) -> UInt32 {
        let info = PinnedBuffer(zeroed: size)
        try objectInfo(object, into: info)
        return { offset in UInt32(littleEndian: info.pointer.load(fromByteOffset: offset, as: UInt32.self)) }
    }

    /// BPF_OBJ_GET_INFO_BY_FD into `info`, whose fields the caller may have set first (sizes and
    /// addresses of the arrays it wants filled).
    private static func objectInfo(_ object: FileDescriptor, into info: PinnedBuffer) throws(SyscallError) {
        var attr = AttrBuilder(size: 16)
        attr.set32(0, UInt32(bitPattern: object.raw))
        attr.set32(4, UInt32(info.pointer.count))
        attr.set64(8, info.address)
        if case .failure(let error) = call(.objGetInfoByFD, &attr) { throw error }
    }

    /// BPF_MAP_UPDATE_ELEM: map_fd@0 key@8 value@16 flags@24.
    static func updateElement(map: FileDescriptor, key: [UInt8], value: [UInt8]) throws(SyscallError) {
        let keyBuffer = PinnedBuffer(key), valueBuffer = PinnedBuffer(value)
        var attr = AttrBuilder(size: 32)
        attr.set32(0, UInt32(bitPattern: map.raw))
        attr.set64(8, keyBuffer.address)
        attr.set64(16, valueBuffer.address)
        if case .failure(let error) = withExtendedLifetime((keyBuffer, valueBuffer), { call(.mapUpdateElem, &attr) }) {
            throw error
        }
    }

    /// BPF_MAP_LOOKUP_ELEM: same layout as update; the kernel writes the value.
    static func lookupElement(map: FileDescriptor, key: [UInt8], valueSize: Int) throws(SyscallError) -> [UInt8] {
        let keyBuffer = PinnedBuffer(key), valueBuffer = PinnedBuffer(zeroed: valueSize)
        var attr = AttrBuilder(size: 32)
        attr.set32(0, UInt32(bitPattern: map.raw))
        attr.set64(8, keyBuffer.address)
        attr.set64(16, valueBuffer.address)
        if case .failure(let error) = withExtendedLifetime(keyBuffer, { call(.mapLookupElem, &attr) }) {
            throw error
        }
        return valueBuffer.bytes(count: valueSize)
    }

    /// BPF_MAP_FREEZE: map_fd@0. Afterwards user space can no longer write the map.
    static func freeze(map: FileDescriptor) throws(SyscallError) {
        var attr = AttrBuilder(size: 8)
        attr.set32(0, UInt32(bitPattern: map.raw))
        if case .failure(let error) = call(.mapFreeze, &attr) { throw error }
    }

    // MARK: BTF and programs

    /// BPF_BTF_LOAD: btf@0 btf_log_buf@8 btf_size@16 btf_log_size@20 btf_log_level@24.
    static func loadBTF(_ blob: [UInt8], logSize: Int) -> (Result<FileDescriptor, SyscallError>, log: String) {
        let blobBuffer = PinnedBuffer(blob), logBuffer = PinnedBuffer(zeroed: logSize)
        var attr = AttrBuilder(size: 32)
        attr.set64(0, blobBuffer.address)
        attr.set32(16, UInt32(blob.count))
        if logSize > 0 {
            attr.set64(8, logBuffer.address)
            attr.set32(20, UInt32(logSize))
            attr.set32(24, 1)
        }
        let result = withExtendedLifetime(blobBuffer) { call(.btfLoad, &attr) }
        return (result.map(FileDescriptor.init), cString(logBuffer, logSize))
    }

    /// The inputs of BPF_PROG_LOAD that the loader varies.
    struct ProgramLoad {
        var type: UInt32
        var flags: UInt32
        /// What a tracing program attaches to: an attach type and the vmlinux BTF id of its target.
        var expectedAttachType: UInt32 = 0
        var attachBTFID: UInt32 = 0
        var name: String
        var instructions: [Instruction]
        var license: String
        var btf: FileDescriptor?
        var funcInfo: [UInt8]
        var funcInfoCount: Int
        var lineInfo: [UInt8]
        var lineInfoCount: Int
    }

    /// BPF_PROG_LOAD: prog_type@0 insn_cnt@4 insns@8 license@16 log_level@24 log_size@28
    /// log_buf@32 prog_flags@44 prog_name[16]@48 expected_attach_type@68 prog_btf_fd@72
    /// func_info_rec_size@76 func_info@80 func_info_cnt@88 line_info_rec_size@92 line_info@96
    /// line_info_cnt@104 attach_btf_id@108 log_true_size@140.
    /// Returns the fd or the error, the log, and the log size the kernel says it needed.
    /// `logLevel` is BPF_LOG_LEVEL1 (the walk of the failing path) or BPF_LOG_LEVEL2 (every path,
    /// with the state after each instruction), always with BPF_LOG_STATS.
    static func loadProgram(_ load: ProgramLoad, logSize: Int, logLevel: UInt32 = 1)
        -> (Result<FileDescriptor, SyscallError>, log: String, trueLogSize: Int)
    {
        let code = PinnedBuffer(encode(load.instructions))
        let license = PinnedBuffer(Array(load.license.utf8) + [0])
        let funcInfo = PinnedBuffer(load.funcInfo), lineInfo = PinnedBuffer(load.lineInfo)
        let log = PinnedBuffer(zeroed: logSize)
        var attr = AttrBuilder(size: 144)
        attr.set32(0, load.type)
        attr.set32(4, UInt32(load.instructions.count))
        attr.set64(8, code.address)
        attr.set64(16, license.address)
        if logSize > 0 {
            // BPF_LOG_STATS: each subprogram's stack depth, and what verification cost.
            attr.set32(24, logLevel | 4)
            attr.set32(28, UInt32(logSize))
            attr.set64(32, log.address)
        }
        attr.set32(44, load.flags)
        attr.setName(48, load.name)
        attr.set32(68, load.expectedAttachType)
        attr.set32(108, load.attachBTFID)
        if let btf = load.btf {
            attr.set32(72, UInt32(bitPattern: btf.raw))
            if load.funcInfoCount > 0 {
                attr.set32(76, 8)
                attr.set64(80, funcInfo.address)
                attr.set32(88, UInt32(load.funcInfoCount))
            }
            if load.lineInfoCount > 0 {
                attr.set32(92, 16)
                attr.set64(96, lineInfo.address)
                attr.set32(104, UInt32(load.lineInfoCount))
            }
        }
        let result = withExtendedLifetime((code, license, funcInfo, lineInfo, load.btf)) { call(.progLoad, &attr) }
        return (result.map(FileDescriptor.init), cString(log, logSize), Int(attr.get32(140)))
    }

    /// What BPF_PROG_TEST_RUN gives a program.
    enum TestRunInput {
        /// ctx_in: a syscall program's arguments, a raw tracepoint's u64s.
        case context([UInt8])
        /// data_in: a packet for an skb or XDP program.
        case packet([UInt8])
    }

    /// BPF_PROG_TEST_RUN: prog_fd@0 retval@4 (out) data_size_in@8 data_in@16 ctx_size_in@40
    /// ctx_in@48. Everything else zero, as syscall and raw tracepoint programs require (no
    /// repeat or flags); no data_out, so the kernel copies no packet back.
    static func testRun(program: FileDescriptor, input: TestRunInput) throws(SyscallError) -> UInt32 {
        let bytes: [UInt8]
        let (sizeOffset, pointerOffset): (Int, Int)
        switch input {
        case .context(let context): (bytes, sizeOffset, pointerOffset) = (context, 40, 48)
        case .packet(let packet): (bytes, sizeOffset, pointerOffset) = (packet, 8, 16)
        }
        let buffer = PinnedBuffer(bytes)
        var attr = AttrBuilder(size: 80)
        attr.set32(0, UInt32(bitPattern: program.raw))
        if !bytes.isEmpty {
            attr.set32(sizeOffset, UInt32(bytes.count))
            attr.set64(pointerOffset, buffer.address)
        }
        if case .failure(let error) = withExtendedLifetime(buffer, { call(.progTestRun, &attr) }) { throw error }
        return attr.get32(4)
    }

    /// BPF_OBJ_GET_INFO_BY_FD on a program: type@0, jited_prog_len@16 and verified_insns@216
    /// (kernel 5.16 and later) of `struct bpf_prog_info`.
    static func programInfo(_ program: FileDescriptor) throws(SyscallError)
        -> (type: UInt32, jitedLength: UInt32, verifiedInstructions: UInt32)
    {
        let field = try objectInfo(program, size: 232)
        return (field(0), field(16), field(216))
    }

    /// What the JIT made of a program, as BPF_OBJ_GET_INFO_BY_FD reports it. Addresses are the
    /// kernel's; `code` is every sub-program's machine code, one after the other.
    struct JitedProgram {
        var code: [UInt8]
        /// Each sub-program's start address (jited_ksyms) and length in bytes (jited_func_lens).
        var functions: [(address: UInt64, length: Int)]
        /// The program's line_info records as the kernel keeps them, {insn_off, file_name_off,
        /// line_off, line_col}, and where each one's first instruction landed (jited_line_info).
        var lines: [(fileName: UInt32, sourceText: UInt32, lineColumn: UInt32, address: UInt64)]
    }

    /// The JIT's image of `program`, or nil when the kernel shows it not to this process
    /// (`kernel.kptr_restrict`, bpf_dump_raw_ok) or did not JIT the program. Two calls: one for
    /// the sizes, one with buffers at jited_prog_insns@24, jited_ksyms@112, jited_func_lens@120,
    /// line_info@152 and jited_line_info@160 (record sizes at 172 and 176).
    static func jitedProgram(_ program: FileDescriptor) throws(SyscallError) -> JitedProgram? {
        let size = 232
        let sizes = try objectInfo(program, size: size)
        let (codeLength, functionCount, lineCount) = (Int(sizes(16)), Int(sizes(104)), Int(sizes(148)))
        guard codeLength > 0 else { return nil }
        let code = PinnedBuffer(zeroed: codeLength), addresses = PinnedBuffer(zeroed: 8 * functionCount)
        let lengths = PinnedBuffer(zeroed: 4 * functionCount)
        let lineRecords = PinnedBuffer(zeroed: 16 * lineCount), lineAddresses = PinnedBuffer(zeroed: 8 * lineCount)
        var request = AttrBuilder(size: size)
        request.set32(16, UInt32(codeLength))
        request.set64(24, code.address)
        request.set32(104, UInt32(functionCount))
        request.set32(108, UInt32(functionCount))
        request.set64(112, addresses.address)
        request.set64(120, lengths.address)
        request.set32(148, UInt32(lineCount))
        request.set64(152, lineRecords.address)
        request.set64(160, lineAddresses.address)
        request.set32(168, UInt32(lineCount))
        request.set32(172, 16)
        request.set32(176, 8)
        let info = PinnedBuffer(request.bytes)
        try withExtendedLifetime((code, addresses, lengths, lineRecords, lineAddresses)) { () throws(SyscallError) in
            try objectInfo(program, into: info)
        }
        func u32(_ buffer: PinnedBuffer, _ offset: Int) -> UInt32 {
            UInt32(littleEndian: buffer.pointer.load(fromByteOffset: offset, as: UInt32.self))
        }
        func u64(_ buffer: PinnedBuffer, _ offset: Int) -> UInt64 {
            UInt64(littleEndian: buffer.pointer.load(fromByteOffset: offset, as: UInt64.self))
        }
        // The kernel clears the pointers it will not fill for this process.
        guard u64(info, 24) != 0 else { return nil }
        let shownFunctions = u64(info, 112) == 0 ? 0 : min(functionCount, Int(u32(info, 104)))
        let shownLines = u64(info, 160) == 0 ? 0 : min(lineCount, Int(u32(info, 168)), Int(u32(info, 148)))
        return JitedProgram(
            code: code.bytes(count: min(codeLength, Int(u32(info, 16)))),
            functions: (0..<shownFunctions).map { (u64(addresses, 8 * $0), Int(u32(lengths, 4 * $0))) },
            lines: (0..<shownLines).map {
                (u32(lineRecords, 16 * $0 + 4), u32(lineRecords, 16 * $0 + 8), u32(lineRecords, 16 * $0 + 12), u64(lineAddresses, 8 * $0))
            })
    }

    private static func cString(_ buffer: PinnedBuffer, _ size: Int) -> String {
        let bytes = buffer.bytes(count: size)
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// A zeroed `union bpf_attr` prefix of the size a command needs, filled field by field.
struct AttrBuilder {
    var bytes: [UInt8]

    init(size: Int) {
        bytes = Array(repeating: 0, count: size)
    }

    mutating func set32(_ offset: Int, _ value: UInt32) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }

    mutating func set64(_ offset: Int, _ value: UInt64) {
        for i in 0..<8 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    /// Object names are 16 bytes with a terminating NUL; the kernel accepts [A-Za-z0-9_.] only.
    mutating func setName(_ offset: Int, _ name: String) {
        for (i, byte) in name.utf8.prefix(15).enumerated() { bytes[offset + i] = byte }
    }

    func get32(_ offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }
}
