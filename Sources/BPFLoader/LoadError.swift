import BPFObject

/// Why an object could not be loaded or run. Each case names the program, map, variable or
/// instruction involved; a verifier rejection keeps the whole log and what it says went wrong where.
public enum LoadError: Error, Sendable, CustomStringConvertible {
    case syscall(SyscallError, context: String)
    case verifier(program: String, errno: Int32, log: String, diagnosis: VerifierDiagnosis)
    case unsupportedProgram(program: String, section: String)
    case noSuchProgram(String)
    case noSuchVariable(String)
    case badMap(name: String, reason: String)
    case relocation(program: String, section: String, instruction: Int, symbol: String, reason: String)
    case badValue(variable: String, value: String, reason: String)
    case btf(String)
    /// BPF_BTF_LOAD failed; the log is the kernel's BTF checker naming the type it refused.
    case btfRejected(errno: Int32, log: String)
    /// The running kernel's BTF has no function of this name.
    case unknownKernelFunction(String)
    /// The object declares a kfunc with a prototype the kernel's does not match (both as C).
    case kernelFunctionMismatch(name: String, kernel: String, object: String)

    public var description: String {
        switch self {
        case .syscall(let error, let context):
            "\(context): \(error)"
        case .verifier(let program, let errno, _, let diagnosis):
            "program '\(program)' was rejected by the verifier (\(errnoName(errno))): \(diagnosis.reason)"
                + (diagnosis.line.map { " at \($0.file):\($0.line)" } ?? "")
        case .unsupportedProgram(let program, let section):
            "program '\(program)': section '\(section)' names no program type this loader supports"
        case .noSuchProgram(let name):
            "no program named '\(name)'"
        case .noSuchVariable(let name):
            "no global variable named '\(name)' in .data, .bss, .rodata or .addr_space.1"
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
        case .unknownKernelFunction(let name):
            "kfunc '\(name)': the running kernel's BTF (/sys/kernel/btf/vmlinux) has no function of that name"
        case .kernelFunctionMismatch(let name, let kernel, let object):
            "kfunc '\(name)': the object's prototype does not match the kernel's\n  kernel: \(kernel)\n  object: \(object)"
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
