import BPFDiagnostics
import BPFIR
import CFrontend

/// What `swiftbpfcc` was asked to do, parsed from clang-style flags.
public struct CompilerOptions: Sendable {
    public enum Output: Sendable, Equatable {
        /// `-c` (the default): an ELF relocatable object.
        case object
        /// `-S`: an assembly listing in the kernel's syntax.
        case assembly
        /// `-emit-ir`: the IR as code generation receives it, after every pass (as clang's
        /// `-emit-llvm -S`), to see where the compiler inserted arena casts.
        case ir

        var fileExtension: String {
            switch self {
            case .object: return ".o"
            case .assembly: return ".s"
            case .ir: return ".ir"
            }
        }
    }

    public var input: String
    public var outputPath: String
    public var output: Output
    public var cpu: CPUVersion
    public var optimize: Bool
    public var debugInfo: Bool
    public var frontend: FrontendOptions

    /// Parses the arguments after the program name. Unknown flags are errors, as in clang.
    public init(arguments: [String]) throws(DiagnosticList) {
        var input: String?
        var outputPath: String?
        var output = Output.object
        var cpu = CPUVersion.v3
        var optimize = true
        var debugInfo = false
        var includes: [String] = []
        var macros: [(String, Bool)] = []
        var problems: [Diagnostic] = []

        var i = 0
        /// The value of a flag written either joined (`-Idir`) or separate (`-I dir`).
        func value(_ flag: String, _ argument: String) -> String? {
            if argument.count > flag.count { return String(argument.dropFirst(flag.count)) }
            i += 1
            return i < arguments.count ? arguments[i] : nil
        }
        while i < arguments.count {
            let argument = arguments[i]
            switch argument {
            case "-c": output = .object
            case "-S": output = .assembly
            case "-emit-ir": output = .ir
            case "-g": debugInfo = true
            case "-O0": optimize = false
            case "-O", "-O1", "-O2", "-O3", "-Os", "-Oz": optimize = true
            case "-mcpu=v3": cpu = .v3
            case "-mcpu=v4": cpu = .v4
            case "-target", "--target":
                i += 1
                if i >= arguments.count || !["bpf", "bpfel"].contains(arguments[i]) {
                    problems.append(.error("only '-target bpf' (little-endian BPF) is supported", at: nil))
                }
            case "--target=bpf", "--target=bpfel":
                break
            default:
                if argument.hasPrefix("-o") {
                    outputPath = value("-o", argument)
                } else if argument.hasPrefix("-I") {
                    if let v = value("-I", argument) { includes.append(v) }
                } else if argument.hasPrefix("-D") {
                    if let v = value("-D", argument) { macros.append((v, true)) }
                } else if argument.hasPrefix("-U") {
                    if let v = value("-U", argument) { macros.append((v, false)) }
                } else if argument.hasPrefix("-W") || argument == "-w" {
                    // Warning flags are accepted and ignored: we print clang's warnings as they come.
                } else if argument.hasPrefix("-mcpu=") {
                    problems.append(.error("unsupported CPU '\(argument.dropFirst(6))': use -mcpu=v3 (default) or -mcpu=v4", at: nil))
                } else if argument.hasPrefix("-") {
                    problems.append(.error("unknown argument: '\(argument)'", at: nil))
                } else if input == nil {
                    input = argument
                } else {
                    problems.append(.error("only one input file is supported, got '\(input ?? "")' and '\(argument)'", at: nil))
                }
            }
            i += 1
        }
        guard let input else {
            problems.append(.error("no input files", at: nil))
            throw DiagnosticList(problems)
        }
        if !problems.isEmpty { throw DiagnosticList(problems) }
        self.input = input
        self.output = output
        self.cpu = cpu
        self.optimize = optimize
        self.debugInfo = debugInfo
        let stem = input.split(separator: "/").last.map { $0.hasSuffix(".c") ? String($0.dropLast(2)) : String($0) } ?? input
        self.outputPath = outputPath ?? stem + output.fileExtension
        self.frontend = FrontendOptions(includeDirectories: includes, macros: macros, optimize: optimize,
                                        cpu: cpu == .v3 ? "v3" : "v4")
    }
}
