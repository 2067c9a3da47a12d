// swiftbpf: loads a BPF ELF object into the running kernel and runs its programs, reports what
// loading them cost, or prints the disassembly. All the work happens in BPFLoader/BPFObject;
// this file parses arguments and prints (the JIT's code: JitedListing.swift).
//
//   swiftbpf run OBJ [--prog NAME]... [--set VAR=VALUE]... [--get VAR]...
//   swiftbpf stats OBJ [--prog NAME]...
//   swiftbpf dump OBJ
//   swiftbpf dump OBJ --jited [--prog NAME]...
//   swiftbpf explain OBJ --prog NAME [--html FILE]

import BPFDiagnostics
import BPFInstructions
import BPFLoader
import BPFObject

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

let usage = """
    usage: swiftbpf run OBJ [--prog NAME]... [--set VAR=VALUE]... [--get VAR]...
           swiftbpf stats OBJ [--prog NAME]...
           swiftbpf dump OBJ
           swiftbpf dump OBJ --jited [--prog NAME]...
           swiftbpf explain OBJ --prog NAME [--html FILE]
    run: test-runs syscall and raw_tp programs (a raw_tp gets twelve zero arguments) and packet
         programs (xdp, tc, socket, cgroup_skb, lwt, flow_dissector), which get a zeroed 64-byte
         packet; prints NAME retval=R. Other program types load but cannot be test-run.
    stats: loads every program of any section libbpf knows and prints NAME insns=N verified=N
         type=T [attach=A] [target=X]
    dump: the object's BPF instructions with their C lines; with --jited, loads the programs and
         prints the machine code the kernel's JIT made of them, with their C lines (needs objdump)
    explain: loads one program with the verifier's full log and prints it folded onto the C lines;
         --html writes the same as one self-contained page.
    """

/// A command-line mistake or a failure to report; main prints it to stderr and exits 1.
struct Failure: Error {
    var message: String
    /// Printed after the message: a verifier log and the diagnostic that sums it up.
    var details: String = ""
}

struct RunOptions {
    var path: String
    var programs: [String] = []
    var sets: [(name: String, value: String)] = []
    var gets: [String] = []
}

/// `run` takes every flag; `stats` only `--prog`.
func parseRun(_ arguments: ArraySlice<String>, allowing flags: Set<String>) throws(Failure) -> RunOptions {
    var rest = arguments
    guard let path = rest.popFirst() else { throw Failure(message: usage) }
    var options = RunOptions(path: path)
    while let flag = rest.popFirst() {
        guard flags.contains(flag) else { throw Failure(message: "unknown option '\(flag)'\n\(usage)") }
        guard let value = rest.popFirst() else { throw Failure(message: "\(flag) needs a value\n\(usage)") }
        switch flag {
        case "--prog": options.programs.append(value)
        case "--get": options.gets.append(value)
        case "--set":
            guard let equals = value.firstIndex(of: "=") else { throw Failure(message: "--set wants VAR=VALUE, got '\(value)'") }
            options.sets.append((String(value[..<equals]), String(value[value.index(after: equals)...])))
        default: preconditionFailure("flag '\(flag)' allowed but not handled")
        }
    }
    return options
}

func readFile(_ path: String) throws(Failure) -> [UInt8] {
    do {
        return try readWholeFile(path)
    } catch {
        throw Failure(message: error.description)
    }
}

func loadObject(_ path: String) throws(Failure) -> ObjectFile {
    do {
        return try readObject(try readFile(path))
    } catch let error as Failure {
        throw error
    } catch {
        throw Failure(message: "\(path): \(error)")
    }
}

/// Loads the object (after `--set`) with the chosen programs, all entry programs by default.
func load(_ options: RunOptions) throws(Failure) -> (loaded: LoadedObject, programs: [String]) {
    var object = try loadObject(options.path)
    let name = String(options.path.split(separator: "/").last ?? "obj").split(separator: ".").first.map(String.init) ?? "obj"
    do {
        for (variableName, value) in options.sets {
            let variable = try GlobalVariable(named: variableName, in: object)
            try object.setInitialValue(of: variable, to: try variable.encode(value))
        }
        let programs = options.programs.isEmpty ? entryPrograms(of: object).map(\.name) : options.programs
        return (try LoadedObject(object, name: name, programs: programs), programs)
    } catch {
        throw failure(error, path: options.path)
    }
}

func run(_ options: RunOptions) throws(Failure) -> [String] {
    let (loaded, programs) = try load(options)
    var output: [String] = []
    do {
        for program in programs {
            output.append("\(program) retval=\(try loaded.run(program))")
        }
        for variableName in options.gets {
            // The loaded object: `.kconfig` externs have a section there.
            let variable = try GlobalVariable(named: variableName, in: loaded.object)
            output.append("\(variableName)=\(try variable.format(try loaded.value(of: variable)))")
        }
    } catch {
        throw failure(error, path: options.path)
    }
    return output
}

/// One line per program: instruction slots as loaded, the kernel's verified_insns, the bytes of
/// machine code its JIT made, the program type the kernel reports, the expected attach type it was
/// loaded with and what its section names as its target.
func stats(_ options: RunOptions) throws(Failure) -> [String] {
    let (loaded, programs) = try load(options)
    var output: [String] = []
    for program in programs {
        do {
            let statistics = try loaded.statistics(of: program)
            var line = "\(program) insns=\(statistics.instructions) verified=\(statistics.verifiedInstructions)"
            line += " jited=\(statistics.jitedBytes)"
            line += " type=\(statistics.type?.name ?? "unknown")"
            if let attachType = statistics.expectedAttachType { line += " attach=\(attachType.name)" }
            if !statistics.target.isEmpty { line += " target=\(statistics.target)" }
            output.append(line)
        } catch {
            throw failure(error, path: options.path)
        }
    }
    return output
}

/// A loader error for the user. A verifier rejection names the program, shows the whole log,
/// and ends in its diagnostic (rejectionDiagnostic).
func failure(_ error: LoadError, path: String) -> Failure {
    guard case .verifier(let program, _, let log, let diagnosis) = error else { return Failure(message: "\(path): \(error)") }
    let details = (log.hasSuffix("\n") || log.isEmpty ? log : log + "\n") + rejectionDiagnostic(program: program, diagnosis)
    return Failure(message: "\(path): program '\(program)' failed to load; verifier log:", details: details)
}

/// Disassembly per section and function, with each new source line as a `; text` comment.
/// Why an `addr_space_cast` is there, for readers of the listing: the object does not record
/// the compiler's reasons, but the two legal forms have one meaning each. The line is named with
/// its file: a cast in a function from a header serves the header's lines.
func castReason(_ instruction: Instruction, line: LineRecord?) -> String? {
    guard instruction.opcode == Opcode.classALU64 | Opcode.mov | Opcode.sourceX,
          instruction.offset == Opcode.addrSpaceCastOffset else { return nil }
    let at = line.map { " (\(sourceKey($0)))" } ?? ""
    switch instruction.imm {
    case 1:
        return "cast_kern: the __arena pointer in \(instruction.src) becomes dereferenceable for the accesses that follow\(at)"
    case 0x10000:
        return "cast_user: the pointer in \(instruction.src) becomes an __arena (user-space) address\(at)"
    default:
        return "addr_space_cast between address spaces the kernel does not allow\(at)"
    }
}

func dump(_ path: String) throws(Failure) -> [String] {
    let object = try loadObject(path)
    var output: [String] = []
    for section in object.codeSections {
        output.append("Disassembly of section \(section.name):")
        let relocations = Dictionary(section.relocations.map { ($0.instructionIndex, $0.symbol) }, uniquingKeysWith: { a, _ in a })
        var lastLine: LineRecord?
        for function in section.functions {
            output.append("")
            output.append("\(function.name):")
            let code = Array(section.instructions[function.firstInstruction..<function.firstInstruction + function.instructionCount])
            for line in disassemble(code) {
                let index = function.firstInstruction + line.index
                if let source = section.lines.last(where: { $0.instructionIndex <= index }),
                   source.instructionIndex == index || lastLine == nil,
                   source.line != lastLine?.line || source.file != lastLine?.file {
                    output.append("; \(source.sourceText)")
                    lastLine = source
                }
                var annotation = relocations[index].map { " <\($0)>" } ?? ""
                if let reason = castReason(section.instructions[index], line: lastLine) {
                    annotation += "\t; \(reason)"
                }
                output.append(String(repeating: " ", count: max(0, 5 - String(index).count)) + "\(index): \(line.text)\(annotation)")
            }
        }
        output.append("")
    }
    return output
}

let arguments = CommandLine.arguments
do {
    guard arguments.count >= 3 else { throw Failure(message: usage) }
    let lines: [String]
    switch arguments[1] {
    case "run": lines = try run(parseRun(arguments[2...], allowing: ["--prog", "--set", "--get"]))
    case "stats": lines = try stats(parseRun(arguments[2...], allowing: ["--prog"]))
    case "dump" where arguments.count > 3 && arguments[3] == "--jited":
        lines = try jitedListing(parseRun([arguments[2]] + arguments[4...], allowing: ["--prog"]))
    case "dump":
        guard arguments.count == 3 else { throw Failure(message: usage) }
        lines = try dump(arguments[2])
    case "explain": lines = try explain(parseExplain(arguments[2...]))
    default: throw Failure(message: usage)
    }
    for line in lines { print(line) }
} catch let failure as Failure {
    let message = "swiftbpf: \(failure.message)\n" + failure.details
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(1)
}
