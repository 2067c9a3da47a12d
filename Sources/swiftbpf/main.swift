// swiftbpf: loads a BPF ELF object into the running kernel and runs its programs, or prints
// its disassembly. All the work happens in BPFLoader/BPFObject; this file parses arguments and
// prints.
//
//   swiftbpf run OBJ [--prog NAME]... [--set VAR=VALUE]... [--get VAR]...
//   swiftbpf dump OBJ

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
           swiftbpf dump OBJ
    """

/// A command-line mistake or a failure to report; main prints it and exits 1.
struct Failure: Error {
    var message: String
    /// Extra output for stdout-adjacent context, such as a verifier log.
    var details: String = ""
}

struct RunOptions {
    var path: String
    var programs: [String] = []
    var sets: [(name: String, value: String)] = []
    var gets: [String] = []
}

func parseRun(_ arguments: ArraySlice<String>) throws(Failure) -> RunOptions {
    var rest = arguments
    guard let path = rest.popFirst() else { throw Failure(message: usage) }
    var options = RunOptions(path: path)
    while let flag = rest.popFirst() {
        guard let value = rest.popFirst() else { throw Failure(message: "\(flag) needs a value\n\(usage)") }
        switch flag {
        case "--prog": options.programs.append(value)
        case "--get": options.gets.append(value)
        case "--set":
            guard let equals = value.firstIndex(of: "=") else { throw Failure(message: "--set wants VAR=VALUE, got '\(value)'") }
            options.sets.append((String(value[..<equals]), String(value[value.index(after: equals)...])))
        default: throw Failure(message: "unknown option '\(flag)'\n\(usage)")
        }
    }
    return options
}

func readFile(_ path: String) throws(Failure) -> [UInt8] {
    guard let file = fopen(path, "rb") else { throw Failure(message: "cannot open '\(path)': \(String(cString: strerror(errno)))") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        bytes += chunk[0..<count]
        if count < chunk.count { break }
    }
    if ferror(file) != 0 { throw Failure(message: "cannot read '\(path)'") }
    return bytes
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

func run(_ options: RunOptions) throws(Failure) -> [String] {
    var object = try loadObject(options.path)
    let name = String(options.path.split(separator: "/").last ?? "obj").split(separator: ".").first.map(String.init) ?? "obj"
    var output: [String] = []
    do {
        for (variableName, value) in options.sets {
            let variable = try GlobalVariable(named: variableName, in: object)
            try object.setInitialValue(of: variable, to: try variable.encode(value))
        }
        let programs = options.programs.isEmpty ? entryPrograms(of: object).map(\.name) : options.programs
        let loaded = try LoadedObject(object, name: name, programs: programs)
        for program in programs {
            output.append("\(program) retval=\(try loaded.run(program))")
        }
        for variableName in options.gets {
            let variable = try GlobalVariable(named: variableName, in: object)
            output.append("\(variableName)=\(try variable.format(try loaded.value(of: variable)))")
        }
    } catch {
        if case .verifier(_, _, let log, let line) = error {
            var details = log
            if let line { details += "\(line.file):\(line.line): \(line.sourceText)\n" }
            throw Failure(message: "\(options.path): \(error)", details: details)
        }
        throw Failure(message: "\(options.path): \(error)")
    }
    return output
}

/// Disassembly per section and function, with each new source line as a `; text` comment.
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
                let annotation = relocations[index].map { " <\($0)>" } ?? ""
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
    case "run": lines = try run(parseRun(arguments[2...]))
    case "dump":
        guard arguments.count == 3 else { throw Failure(message: usage) }
        lines = try dump(arguments[2])
    default: throw Failure(message: usage)
    }
    for line in lines { print(line) }
} catch let failure as Failure {
    if !failure.details.isEmpty { print(failure.details, terminator: failure.details.hasSuffix("\n") ? "" : "\n") }
    let message = "swiftbpf: \(failure.message)\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(1)
}
