import BPFObject

/// Why an object could not be loaded or run. Each case names the program, map, variable or
/// instruction involved; a verifier rejection keeps the whole log and what it says went wrong where.
public enum LoadError: Error, Sendable, CustomStringConvertible {
    case syscall(SyscallError, context: String)
    case verifier(program: String, errno: Int32, log: String, diagnosis: VerifierDiagnosis)
    /// A section that names no program type the loader knows, or names one wrongly.
    case unsupportedProgram(program: String, section: String, reason: String)
    case noSuchProgram(String)
    case noSuchVariable(String)
    case badMap(name: String, reason: String)
    case relocation(program: String, section: String, instruction: Int, symbol: String, reason: String)
    case badValue(variable: String, value: String, reason: String)
    case btf(String)
    /// BPF_BTF_LOAD failed; the log is the kernel's BTF checker naming the type it refused.
    case btfRejected(errno: Int32, log: String)
    /// A strong `__ksym` the running kernel does not have: `kind` (function, variable, symbol)
    /// says what was looked for, `source` where (vmlinux BTF, /proc/kallsyms).
    case unknownKernelSymbol(String, source: String, kind: String)
    /// The object declares a kfunc or kernel variable with a type the kernel's does not match
    /// (both as C).
    case kernelSymbolMismatch(name: String, kernel: String, object: String)
    /// A `__kconfig` extern that cannot be given a value, and why.
    case kconfig(name: String, reason: String)
    /// A program of a type BPF_PROG_TEST_RUN does not run.
    case notTestRunnable(program: String, reason: String)
    /// A CO-RE relocation that libbpf would refuse outright (not one the kernel cannot satisfy,
    /// whose instruction is poisoned instead): where it is, what it asks for, why.
    case coreRelocation(section: String, instruction: Int, line: LineRecord?, relocation: String, reason: String)

    public var description: String {
        switch self {
        case .syscall(let error, let context):
            "\(context): \(error)"
        case .verifier(let program, let errno, _, let diagnosis):
            "program '\(program)' was rejected by the verifier (\(errnoName(errno))): \(diagnosis.reason)"
                + (diagnosis.line.map { " at \($0.file):\($0.line)" } ?? "")
        case .unsupportedProgram(let program, let section, let reason):
            "program '\(program)': section '\(section)' \(reason)"
        case .noSuchProgram(let name):
            "no program named '\(name)'"
        case .noSuchVariable(let name):
            "no global variable named '\(name)' in .data, .bss, .rodata, .kconfig or .addr_space.1"
        case .badMap(let name, let reason):
            "map '\(name)': \(reason)"
        case .relocation(let program, let section, let instruction, let symbol, let reason):
            "program '\(program)': relocation of '\(symbol)' at \(section)+\(instruction): \(reason)"
        case .badValue(let variable, let value, let reason):
            "cannot set '\(variable)' to '\(value)': \(reason)"
        case .btf(let reason):
            "BTF: \(reason)"
        case .btfRejected(let errno, let log):
            "the kernel rejected the object's BTF (\(errnoName(errno))): \(btfRejectionReason(in: log))"
        case .unknownKernelSymbol(let name, let source, let kind):
            "__ksym '\(name)': the running kernel's \(source) has no \(kind) of that name (declare it __weak to load without it)"
        case .kernelSymbolMismatch(let name, let kernel, let object):
            "__ksym '\(name)': the object's declaration does not match the kernel's\n  kernel: \(kernel)\n  object: \(object)"
        case .kconfig(let name, let reason):
            "__kconfig '\(name)': \(reason)"
        case .notTestRunnable(let program, let reason):
            "program '\(program)' cannot be test-run: \(reason)"
        case .coreRelocation(let section, let instruction, let line, let relocation, let reason):
            (line.map { "\($0.file):\($0.line): " } ?? "")
                + "CO-RE relocation \(relocation) at \(section)+\(instruction): \(reason)"
        }
    }
}

/// The kernel's BTF checker logs one line per type (`[23] STRUCT point size=8 vlen=2`) and one
/// indented line per member, parameter or DATASEC entry, and appends its complaint to the line it
/// refuses. A member's line does not say whose member it is, so it gets its type's line in front.
func btfRejectionReason(in log: String) -> String {
    let lines = log.split(separator: "\n")
    guard let last = lines.last else { return "no log" }
    guard last.first == "\t", let owner = lines.last(where: { $0.first == "[" }) else { return String(last) }
    return "in \(owner): \(last.drop { $0 == "\t" || $0 == " " })"
}
