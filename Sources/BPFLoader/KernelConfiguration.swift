#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BPFInstructions
import BPFObject
import BTF
import CZlib

// `.kconfig` externs (libbpf's `__kconfig`) read the running kernel's configuration. As libbpf
// does, the loader gives them storage of their own: one read-only array map, `.kconfig`, whose
// value holds every such extern, sorted by alignment (largest first), then size, then name, and
// each placed at the next offset its alignment allows. `CONFIG_*` values come from the build
// configuration (/boot/config-$(uname -r), else /proc/config.gz); libbpf's virtual `LINUX_*`
// values are computed: the kernel version, whether syscalls go through pt_regs wrappers, whether
// BPF cookies exist. A weak extern the configuration lacks reads 0; a strong one is an error.

/// What a `.kconfig` extern's type lets it hold (libbpf's find_kcfg_type): the rules of which
/// configuration value fits which C type follow from it.
enum KconfigKind: Hashable {
    /// `bool` (1 byte): `y` or `n`, or 0 or 1.
    case bool
    /// `enum libbpf_tristate` (4 bytes): `y`, `n` or `m` as TRI_YES, TRI_NO, TRI_MODULE.
    case tristate
    /// A 1-byte integer: the letter itself, or a number.
    case char(isSigned: Bool)
    /// A 2-, 4- or 8-byte integer: a number, range-checked against the type.
    case integer(isSigned: Bool)
    /// A `char` array: a quoted string, truncated to leave room for the NUL.
    case charArray
}

/// One `.kconfig` extern and where it lives in the `.kconfig` map's value.
struct KconfigExtern: Hashable {
    var name: String
    var isWeak: Bool
    var kind: KconfigKind
    var size: Int
    var offset: Int

    var alignment: Int {
        switch kind {
        case .bool, .char, .charArray: 1
        case .tristate: 4
        case .integer: size
        }
    }
}

/// The `.kconfig` externs of `object`, laid out as libbpf lays them out; empty without any.
func kconfigExterns(of object: ObjectFile) throws(LoadError) -> [KconfigExtern] {
    var externs: [KconfigExtern] = []
    for symbol in object.externs {
        let declaration = try externDeclaration(symbol.name, in: object)
        guard declaration.section == kconfigSection else { continue }
        guard case .variable(let type) = declaration.kind else {
            throw .kconfig(name: symbol.name, reason: "a function cannot live in .kconfig")
        }
        guard let btf = object.btf, let (kind, size) = kconfigKind(of: type, in: btf) else {
            throw .kconfig(name: symbol.name, reason: "type is unsupported: __kconfig takes bool, char, an integer of 1, 2, 4 or 8 bytes, enum libbpf_tristate or a char array")
        }
        externs.append(KconfigExtern(name: symbol.name, isWeak: symbol.isWeak, kind: kind, size: size, offset: 0))
    }
    return layOutKconfig(externs)
}

/// `externs` in libbpf's order (largest alignment first, then smallest size, then name), each at
/// the next offset its alignment allows.
func layOutKconfig(_ externs: [KconfigExtern]) -> [KconfigExtern] {
    var externs = externs.sorted { a, b in
        if a.alignment != b.alignment { return a.alignment > b.alignment }
        if a.size != b.size { return a.size < b.size }
        return a.name < b.name
    }
    var end = 0
    for index in externs.indices {
        let alignment = externs[index].alignment
        externs[index].offset = (end + alignment - 1) / alignment * alignment
        end = externs[index].offset + externs[index].size
    }
    return externs
}

/// The DATASEC libbpf's `__kconfig` puts externs in.
let kconfigSection = ".kconfig"

private func kconfigKind(of type: BTFTypeID, in btf: BTFSpec) -> (KconfigKind, size: Int)? {
    guard let (_, resolved) = btf.resolved(type) else { return nil }
    switch resolved {
    case .int(_, let size, let encoding):
        switch (encoding, size) {
        case (.bool, 1): return (.bool, 1)
        case (.bool, _): return nil
        case (_, 1): return (.char(isSigned: encoding == .signed), 1)
        case (_, 2), (_, 4), (_, 8): return (.integer(isSigned: encoding == .signed), Int(size))
        default: return nil
        }
    case .enumeration(let name, 4, _, _) where name == "libbpf_tristate":
        return (.tristate, 4)
    case .array(let element, _, let count) where count > 0:
        guard case (.char, _)? = kconfigKind(of: element, in: btf) else { return nil }
        return (.charArray, Int(count))
    case .enumeration, .array, .pointer, .structure, .union, .forward, .typedef, .volatile, .const, .restrict,
         .function, .functionProto, .variable, .dataSection, .float, .declTag, .typeTag:
        return nil
    }
}

/// Values for `.kconfig` externs, filled the way libbpf fills them.
struct KconfigValues {
    let externs: [KconfigExtern]
    private(set) var bytes: [UInt8]
    /// Names given a value; an extern is given one only once.
    private(set) var assigned: Set<String> = []

    init(_ externs: [KconfigExtern]) {
        self.externs = externs
        bytes = [UInt8](repeating: 0, count: externs.map { $0.offset + $0.size }.max() ?? 0)
    }

    /// One line of a configuration file: `CONFIG_NAME=VALUE` for a name the object declares
    /// sets it; other lines (comments, `# CONFIG_X is not set`, names nobody declared) are ignored.
    mutating func apply(line: Substring, from file: String) throws(LoadError) {
        guard line.hasPrefix("CONFIG_") else { return }
        guard let equals = line.firstIndex(of: "=") else {
            throw .kconfig(name: String(line), reason: "\(file): line has no '='")
        }
        let name = String(line[..<equals])
        let value = line[line.index(after: equals)...]
        guard !value.isEmpty else { throw .kconfig(name: name, reason: "\(file): no value after '='") }
        guard let target = externs.first(where: { $0.name == name }), !assigned.contains(name) else { return }
        switch value.first {
        case "y", "n", "m":
            try setLetter(value.first!, of: target)
        case "\"":
            try setString(value, of: target)
        default:
            guard let number = parseUnsigned(value) else {
                throw .kconfig(name: name, reason: "value '\(value)' in \(file) isn't a valid integer")
            }
            switch target.kind {
            case .integer, .char:
                try setNumber(number, of: target)
            case .bool, .tristate, .charArray:
                throw .kconfig(name: name, reason: "value '\(value)' in \(file) implies an integer type")
            }
        }
    }

    /// A virtual `LINUX_*` value or a number for an integer, char or bool extern.
    mutating func setNumber(_ value: UInt64, of target: KconfigExtern) throws(LoadError) {
        switch target.kind {
        case .integer(let isSigned), .char(let isSigned):
            let bits = UInt64(8 * target.size)
            if target.size < 8 {
                // A signed value stored in 64 bits fits when adding 2^(bits-1) stays below 2^bits.
                let fits = isSigned ? value &+ (1 << (bits - 1)) < 1 << bits : value >> bits == 0
                guard fits else {
                    throw .kconfig(name: target.name, reason: "value \(value) doesn't fit in \(target.size) bytes")
                }
            }
        case .bool:
            guard value <= 1 else { throw .kconfig(name: target.name, reason: "value \(value) isn't boolean") }
        case .tristate, .charArray:
            throw .kconfig(name: target.name, reason: "value \(value) implies an integer, char or bool type")
        }
        store((0..<target.size).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }, for: target)
    }

    private mutating func setLetter(_ letter: Character, of target: KconfigExtern) throws(LoadError) {
        switch target.kind {
        case .bool:
            guard letter != "m" else {
                throw .kconfig(name: target.name, reason: "value 'm' (a module) implies enum libbpf_tristate or char, not bool")
            }
            store([letter == "y" ? 1 : 0], for: target)
        case .tristate:
            let value: UInt8 = letter == "y" ? 1 : letter == "m" ? 2 : 0
            store([value, 0, 0, 0], for: target)
        case .char:
            store([letter.asciiValue ?? 0], for: target)
        case .integer, .charArray:
            throw .kconfig(name: target.name, reason: "value '\(letter)' implies bool, enum libbpf_tristate or char")
        }
    }

    private mutating func setString(_ quoted: Substring, of target: KconfigExtern) throws(LoadError) {
        guard case .charArray = target.kind else {
            throw .kconfig(name: target.name, reason: "value \(quoted) implies a char array")
        }
        guard quoted.utf8.count >= 2, quoted.last == "\"" else {
            throw .kconfig(name: target.name, reason: "invalid string value \(quoted)")
        }
        // As libbpf: the text between the quotes as written, cut to leave room for the NUL.
        let text = Array(quoted.utf8.dropFirst().dropLast().prefix(target.size - 1))
        store(text + [UInt8](repeating: 0, count: target.size - text.count), for: target)
    }

    private mutating func store(_ value: [UInt8], for target: KconfigExtern) {
        bytes.replaceSubrange(target.offset..<target.offset + target.size, with: value)
        assigned.insert(target.name)
    }

    /// strtoull with base 0, as libbpf parses: 0x hex, leading-0 octal, decimal; a leading minus
    /// wraps around. The whole value must be the number.
    private func parseUnsigned(_ text: Substring) -> UInt64? {
        var digits = text
        let negative = digits.first == "-"
        if negative || digits.first == "+" { digits = digits.dropFirst() }
        let radix: Int
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0") && digits.count > 1 {
            radix = 8
            digits = digits.dropFirst()
        } else {
            radix = 10
        }
        guard !digits.isEmpty, let magnitude = UInt64(digits, radix: radix) else { return nil }
        return negative ? 0 &- magnitude : magnitude
    }
}

/// The `.kconfig` section for `object`: its externs' values as the running kernel gives them,
/// with a symbol for each, so that relocations, BTF offsets and `--get` find them as they find
/// any global. Nil when the object declares none.
func kconfigDataSection(of object: ObjectFile) throws(LoadError) -> DataSection? {
    let externs = try kconfigExterns(of: object)
    guard !externs.isEmpty else { return nil }
    var values = KconfigValues(externs)
    for target in externs where !target.name.hasPrefix("CONFIG_") {
        switch target.name {
        case "LINUX_KERNEL_VERSION":
            guard let version = runningKernelVersion() else {
                throw .kconfig(name: target.name, reason: "cannot read the kernel version from uname's release")
            }
            try values.setNumber(UInt64(version), of: target)
        case "LINUX_HAS_SYSCALL_WRAPPER":
            try values.setNumber(hasSyscallWrapper() ? 1 : 0, of: target)
        case "LINUX_HAS_BPF_COOKIE":
            try values.setNumber(hasBPFCookie() ? 1 : 0, of: target)
        default:
            // An unknown LINUX_ name may be a newer libbpf's; weak, it reads 0 as libbpf leaves it.
            guard target.name.hasPrefix("LINUX_") && target.isWeak else {
                throw .kconfig(name: target.name, reason: "not a kernel configuration option (CONFIG_*) or a value the loader computes (LINUX_KERNEL_VERSION, LINUX_HAS_SYSCALL_WRAPPER, LINUX_HAS_BPF_COOKIE)")
            }
        }
    }
    if externs.contains(where: { $0.name.hasPrefix("CONFIG_") }) {
        let (path, lines) = try readKernelConfiguration()
        for line in lines { try values.apply(line: line, from: path) }
        if let missing = externs.first(where: { !$0.isWeak && !values.assigned.contains($0.name) && $0.name.hasPrefix("CONFIG_") }) {
            throw .kconfig(name: missing.name, reason: "not set in \(path); declare it __weak to read 0 when the kernel lacks it")
        }
    }
    return DataSection(name: kconfigSection, bytes: values.bytes, alignment: externs.map(\.alignment).max() ?? 1,
                       symbols: externs.map { DataSymbol(name: $0.name, offset: $0.offset, size: $0.size, binding: $0.isWeak ? .weak : .global) })
}

/// The running kernel's build configuration, one line per element, and the file it came from:
/// /boot/config-RELEASE when present, else /proc/config.gz (CONFIG_IKCONFIG_PROC), as libbpf
/// looks. zlib reads either, compressed or not.
private func readKernelConfiguration() throws(LoadError) -> (path: String, lines: [Substring]) {
    let candidates = ["/boot/config-\(kernelRelease())", "/proc/config.gz"]
    for path in candidates {
        guard let file = gzopen(path, "rb") else { continue }
        defer { gzclose(file) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = gzread(file, &chunk, UInt32(chunk.count))
            guard count >= 0 else { throw .btf("cannot read \(path): corrupt or unreadable") }
            if count == 0 { break }
            text += chunk[0..<Int(count)]
        }
        return (path, String(decoding: text, as: UTF8.self).split(separator: "\n"))
    }
    throw .kconfig(name: "CONFIG_*", reason: "the kernel's configuration is in neither \(candidates.joined(separator: " nor "))")
}

/// `uname -r`.
private func kernelRelease() -> String {
    var names = utsname()
    uname(&names)
    return withUnsafeBytes(of: names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
}

/// KERNEL_VERSION(a, b, c) as libbpf computes it for LINUX_KERNEL_VERSION: Ubuntu's
/// /proc/version_signature, else Debian's "Debian a.b.c" in uname's version, else uname's release
/// "a.b.c…"; c stops at 255.
func runningKernelVersion() -> UInt32? {
    func version(_ text: Substring) -> UInt32? {
        let numbers = text.split(separator: ".", maxSplits: 2).map { $0.prefix { $0.isASCII && $0.isNumber } }
        guard numbers.count == 3, let a = UInt32(numbers[0]), let b = UInt32(numbers[1]), let c = UInt32(numbers[2]) else {
            return nil
        }
        return a << 16 + b << 8 + min(c, 255)
    }
    if let signature = readSmallFile("/proc/version_signature") {
        // "Ubuntu 5.4.0-42.46-generic 5.4.44": the third field is the upstream version.
        let fields = signature.split(separator: " ")
        if fields.count >= 3, let result = version(fields[2]) { return result }
    }
    var names = utsname()
    uname(&names)
    let uts = withUnsafeBytes(of: names.version) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    // "#1 SMP Debian 4.19.37-5+deb10u2 (2019-08-08)": the field after "Debian".
    let words = uts.split(separator: " ")
    if let debian = words.firstIndex(of: "Debian"), debian + 1 < words.count, let result = version(words[debian + 1]) {
        return result
    }
    return version(kernelRelease()[...])
}

private func readSmallFile(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 512)
    guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Whether system calls enter through the pt_regs wrappers (`__x64_sys_bpf` and the like,
/// CONFIG_ARCH_HAS_SYSCALL_WRAPPER), so that a kprobe on a syscall sees the registers in one
/// pt_regs argument. libbpf asks by opening a kprobe on the wrapper, so a kernel without kprobes
/// reads 0 (the value only matters to kprobe programs); the loader asks the same question without
/// creating a probe: can this kernel make kprobes (the perf `kprobe` event source, or tracefs's
/// `kprobe_events`), and does /proc/kallsyms list the wrapper, as a probe's target must be listed.
func hasSyscallWrapper() -> Bool {
    guard let prefix = syscallWrapperPrefix else { return false }
    let kprobeSources = ["/sys/bus/event_source/devices/kprobe/type", "/sys/kernel/tracing/kprobe_events",
                         "/sys/kernel/debug/tracing/kprobe_events"]
    guard kprobeSources.contains(where: { access($0, F_OK) == 0 }) else { return false }
    return kernelSymbolAddress("__\(prefix)_sys_bpf") != nil
}

/// The architecture part of syscall wrapper names (arch/*/include/asm/syscall_wrapper.h).
var syscallWrapperPrefix: String? {
    #if arch(x86_64)
    "x64"
    #elseif arch(i386)
    "ia32"
    #elseif arch(arm64)
    "arm64"
    #elseif arch(s390x)
    "s390x"
    #elseif arch(arm)
    "arm"
    #elseif arch(powerpc64le) || arch(powerpc64)
    "powerpc"
    #elseif arch(riscv64)
    "riscv"
    #else
    nil
    #endif
}

/// Whether the kernel has BPF cookies: libbpf's probe, a tracepoint program calling
/// bpf_get_attach_cookie (helper 174), which loads only where the helper exists.
private func hasBPFCookie() -> Bool {
    let call = Instruction(opcode: Opcode.classJMP | Opcode.call, imm: 174)
    let exit = Instruction(opcode: Opcode.classJMP | Opcode.exit)
    let request = BPFSyscall.ProgramLoad(type: BPFProgramType.tracepoint.rawValue, flags: 0, name: "cookie_probe",
                                         instructions: [call, exit], license: "GPL", btf: nil, funcInfo: [],
                                         funcInfoCount: 0, lineInfo: [], lineInfoCount: 0)
    if case .success = BPFSyscall.loadProgram(request, logSize: 0).0 { return true }
    return false
}
