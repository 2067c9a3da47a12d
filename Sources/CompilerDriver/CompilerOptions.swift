import BPFDiagnostics
import BPFIR
import CFrontend
import Passes

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

    /// A make-style dependency file, as clang's `-MD`/`-MMD` write it.
    public struct DependencyFile: Sendable, Equatable {
        public var path: String
        /// The rule's target: `-MT`, or the output file.
        public var target: String
        /// False for `-MMD`: headers from system directories are left out.
        public var systemHeaders: Bool
        /// `-MP`: an empty rule for each header, so that make does not fail when one is deleted.
        public var phonyTargets: Bool
    }

    public var input: String
    public var outputPath: String
    public var output: Output
    public var cpu: CPUVersion
    public var optimize: Bool
    public var debugInfo: Bool
    public var frontend: FrontendOptions
    public var dependencyFile: DependencyFile?
    /// `--print-after=PASS` (repeatable) and `--print-after-all`: the passes after which the IR is
    /// printed to standard error, to watch each one work.
    public var printAfter: Set<PassName> = []
    /// `-v`: the clang command line the source was parsed with (showing a precompiled prefix
    /// when one was used) and the cache's doings, on standard error.
    public var verbose: Bool
    /// The arguments as given, for the process that precompiles the prefix.
    public var arguments: [String]

    /// Parses the arguments after the program name. Unknown flags are errors, as in clang; the
    /// preprocessor and language flags of BPF Makefiles go to clang unchanged.
    public init(arguments: [String]) throws(DiagnosticList) {
        var input: String?
        var outputPath: String?
        var output = Output.object
        var cpu = CPUVersion.v3
        var optimize = true
        var debugInfo = false
        var clangFlags: [String] = []
        // -MD/-MMD ask for a dependency file; -MF, -MT/-MQ and -MP shape it.
        var dependencySystemHeaders: Bool?
        var dependencyPath: String?
        var dependencyTarget: String?
        var phonyTargets = false
        var printAfter: Set<PassName> = []
        var verbose = false
        var problems: [Diagnostic] = []
        func problem(_ message: String) { problems.append(.error(message, at: nil)) }

        var i = 0
        /// The value of a flag written either joined (`-Idir`) or separate (`-I dir`).
        func value(_ flag: String, _ argument: String) -> String? {
            if argument.count > flag.count { return String(argument.dropFirst(flag.count)) }
            i += 1
            guard i < arguments.count else {
                problem("argument to '\(flag)' is missing (expected 1 value)")
                return nil
            }
            return arguments[i]
        }
        /// Flags clang takes with a value and we pass on as they are.
        let clangFlagsWithValue = ["-I", "-D", "-U", "-iquote", "-isystem", "-idirafter", "-include"]
        while i < arguments.count {
            let argument = arguments[i]
            switch argument {
            case "-c": output = .object
            case "-v": verbose = true
            case "-S": output = .assembly
            case "-emit-ir": output = .ir
            case "-g0": debugInfo = false
            case "-O0": optimize = false
            case "-O", "-O1", "-O2", "-O3", "-Os", "-Oz": optimize = true
            case "-mcpu=v3": cpu = .v3
            case "-mcpu=v4": cpu = .v4
            case "-mlittle-endian": break
            case "-mbig-endian":
                problem("big-endian BPF ('-mbig-endian') is not supported: swiftbpfcc targets little-endian BPF, as the kernels it loads into")
            case "-target", "--target", "-triple":
                i += 1
                if i >= arguments.count || !["bpf", "bpfel"].contains(arguments[i]) {
                    problem("only '-target bpf' (little-endian BPF, also 'bpfel') is supported")
                }
            case "--target=bpf", "--target=bpfel": break
            case "--print-after-all": printAfter = Set(PassName.allCases)
            case "-MD": dependencySystemHeaders = true
            case "-MMD": dependencySystemHeaders = false
            case "-MP": phonyTargets = true
            case "-MF": dependencyPath = value(argument, argument)
            case "-MT", "-MQ": dependencyTarget = value(argument, argument)
            default:
                if argument.hasPrefix("--print-after=") {
                    let name = String(argument.dropFirst("--print-after=".count))
                    if let pass = PassName(rawValue: name) {
                        printAfter.insert(pass)
                    } else {
                        problem("unknown pass '\(name)' in --print-after: the passes are "
                                + PassName.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                } else if argument.hasPrefix("-o") {
                    outputPath = value("-o", argument)
                } else if let flag = clangFlagsWithValue.first(where: { argument.hasPrefix($0) }) {
                    if let v = value(flag, argument) { clangFlags.append(flag + v) }
                } else if argument.hasPrefix("-g") {
                    debugInfo = true  // -g, -gdwarf-5, -ggdb…: BTF and line info are what -g gives BPF
                } else if argument.hasPrefix("-W") || argument == "-w" || argument.hasPrefix("-std=")
                            || argument.hasPrefix("-f") || argument == "-pedantic" {
                    clangFlags.append(argument)
                } else if argument.hasPrefix("-mcpu=") {
                    problem("unsupported CPU '\(argument.dropFirst(6))': use -mcpu=v3 (default) or -mcpu=v4")
                } else if argument.hasPrefix("-") {
                    problem("unknown argument: '\(argument)'")
                } else if input == nil {
                    input = argument
                } else {
                    problem("only one input file is supported, got '\(input ?? "")' and '\(argument)'")
                }
            }
            i += 1
        }
        guard let input else {
            problem("no input files")
            throw DiagnosticList(problems)
        }
        if !problems.isEmpty { throw DiagnosticList(problems) }
        self.input = input
        self.output = output
        self.cpu = cpu
        self.optimize = optimize
        self.debugInfo = debugInfo
        self.printAfter = printAfter
        self.verbose = verbose
        self.arguments = arguments
        let stem = input.split(separator: "/").last.map { $0.hasSuffix(".c") ? String($0.dropLast(2)) : String($0) } ?? input
        let written = outputPath ?? stem + output.fileExtension
        self.outputPath = written
        self.frontend = FrontendOptions(clangFlags: clangFlags, optimize: optimize, cpu: cpu == .v3 ? "v3" : "v4")
        self.dependencyFile = dependencySystemHeaders.map { systemHeaders in
            // clang's default: the output's name with `.d` for its extension.
            let base = written == "-" ? stem : written
            let withoutExtension = base.split(separator: "/").last?.contains(".") == true
                ? String(base[..<(base.lastIndex(of: ".") ?? base.endIndex)]) : base
            return DependencyFile(path: dependencyPath ?? withoutExtension + ".d",
                                  target: dependencyTarget ?? (written == "-" ? stem + ".o" : written),
                                  systemHeaders: systemHeaders, phonyTargets: phonyTargets)
        }
    }

    /// The make rule of a dependency file naming `files` (the source first), laid out as clang
    /// writes it: a line ends before a name would pass 75 columns with room left for ` \`,
    /// `./` dropped, spaces escaped.
    public static func dependencyRule(_ dependencies: DependencyFile, files: [String]) -> String {
        func escaped(_ path: String) -> String {
            (path.hasPrefix("./") ? String(path.dropFirst(2)) : path).replacingOccurrences(of: " ", with: "\\ ")
        }
        var text = escaped(dependencies.target) + ":"
        var column = text.count
        for file in files.map(escaped) {
            if column + 1 + file.count + 2 > 75 {
                text += " \\\n "
                column = 2
            }
            text += " " + file
            column += 1 + file.count
        }
        text += "\n"
        if dependencies.phonyTargets {
            for file in files.dropFirst() { text += escaped(file) + ":\n" }
        }
        return text
    }
}
