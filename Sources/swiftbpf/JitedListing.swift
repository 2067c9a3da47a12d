// `swiftbpf dump OBJ --jited`: the machine code the kernel's JIT made of each program, with the C
// line each stretch of it came from. The loader reads the code and the kernel's line table
// (LoadedObject.jitedCode); binutils' objdump decodes the instructions, which keeps a
// disassembler for every machine the kernel JITs for out of this package.

import BPFLoader

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// objdump's name for this machine's instruction set.
func objdumpMachine() throws(Failure) -> String {
    var names = utsname()
    uname(&names)
    let machine = withUnsafeBytes(of: names.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    switch machine {
    case "x86_64": return "i386:x86-64"
    case "aarch64": return "aarch64"
    case "riscv64": return "riscv:rv64"
    case "s390x": return "s390:64-bit"
    default: throw Failure(message: "no disassembler known for the JIT's code on a '\(machine)' machine")
    }
}

/// objdump's decoding of `code`, placed at `address`: one (address, text) per instruction.
func disassembleMachineCode(_ code: ArraySlice<UInt8>, at address: UInt64) throws(Failure) -> [(address: UInt64, text: String)] {
    let machine = try objdumpMachine()
    var template = Array("/tmp/swiftbpf-jited.XXXXXX".utf8CString)
    let descriptor = mkstemp(&template)
    guard descriptor >= 0 else { throw Failure(message: "cannot create a temporary file: \(decodeCString(strerror(errno)))") }
    let path = decodeCString(template)
    defer { unlink(path) }
    let written = code.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    close(descriptor)
    guard written == code.count else { throw Failure(message: "\(path): could not write the machine code") }

    let command = "objdump -D -b binary -m \(machine) --no-show-raw-insn --adjust-vma=0x\(String(address, radix: 16)) \(path) 2>&1"
    guard let pipe = popen(command, "r") else { throw Failure(message: "cannot run objdump: \(decodeCString(strerror(errno)))") }
    var output: [String] = []
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, Int32(buffer.count), pipe) != nil {
        output.append(decodeCString(buffer).trimmingSuffix("\n"))
    }
    guard pclose(pipe) == 0 else {
        throw Failure(message: "objdump (from binutils) could not disassemble the machine code:\n" + output.joined(separator: "\n"))
    }
    // Instruction lines read "ffffffffc0a3b01f:\tmov    %rdi,%rax".
    return output.compactMap { line in
        let parts = line.split(separator: "\t", maxSplits: 1)
        guard parts.count == 2, parts[0].hasSuffix(":"),
              let address = UInt64(parts[0].dropLast().drop { $0 == " " }, radix: 16) else { return nil }
        return (address, String(parts[1]))
    }
}

/// Each program's machine code, with its functions as labels and its C lines as `; text`
/// comments. Offsets count from the start of the program's code; a jump or call target inside the
/// program is shown as such an offset, with the function it enters, and one outside it with the
/// kernel symbol there (a helper, a kfunc, the return thunk).
func jitedListing(_ options: RunOptions) throws(Failure) -> [String] {
    let (loaded, programs) = try load(options)
    var output: [String] = []
    for program in programs {
        let code: JitedCode?
        do {
            code = try loaded.jitedCode(of: program)
        } catch {
            throw failure(error, path: options.path)
        }
        guard let code else {
            output.append("\(program): no machine code to show (the kernel interprets the program, or kernel.kptr_restrict hides it)")
            continue
        }
        output.append("\(program): \(code.bytes.count) bytes of machine code")
        let functions = code.functions.isEmpty ? [(name: program, offset: 0, address: UInt64(0))] : code.functions
        var instructions: [(offset: Int, mnemonic: Substring, target: UInt64?, text: String)] = []
        for (index, function) in functions.enumerated() {
            let end = index + 1 < functions.count ? functions[index + 1].offset : code.bytes.count
            for instruction in try disassembleMachineCode(code.bytes[function.offset..<end], at: function.address) {
                let mnemonic = instruction.text.prefix { $0 != " " }
                let operand = instruction.text.drop { $0 != " " }.drop { $0 == " " }
                let isTransfer = mnemonic.hasPrefix("j") || mnemonic.hasPrefix("call")
                let target = isTransfer && operand.hasPrefix("0x") ? UInt64(operand.dropFirst(2), radix: 16) : nil
                instructions.append((function.offset + Int(instruction.address - function.address), mnemonic, target, instruction.text))
            }
        }
        let symbols = kernelSymbolNames(at: Set(instructions.compactMap(\.target).filter { code.offset(ofKernelAddress: $0) == nil }))

        var lines = code.lines[...]
        var labels = functions[...]
        var lastLine: (file: String, line: Int)?
        for instruction in instructions {
            while let function = labels.first, function.offset <= instruction.offset {
                output.append("")
                output.append("\(function.name):")
                labels.removeFirst()
            }
            while let record = lines.first, record.offset <= instruction.offset {
                if lastLine?.file != record.line.file || lastLine?.line != record.line.line {
                    output.append("; \(record.line.sourceText)")
                    lastLine = (record.line.file, record.line.line)
                }
                lines.removeFirst()
            }
            var text = instruction.text
            if let target = instruction.target {
                let padded = instruction.mnemonic.padding(toLength: 6)
                if let offset = code.offset(ofKernelAddress: target) {
                    let entered = functions.first { $0.offset == offset }.map { " <\($0.name)>" } ?? ""
                    text = "\(padded) 0x\(String(offset, radix: 16))\(entered)"
                } else if let symbol = symbols[target] {
                    text = "\(padded) 0x\(String(target, radix: 16)) <\(symbol)>"
                }
            }
            output.append(String(instruction.offset, radix: 16).leftPadded(toLength: 6) + ": " + text)
        }
        output.append("")
    }
    return output
}

private func decodeCString(_ characters: [CChar]) -> String {
    String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

private func decodeCString(_ characters: UnsafePointer<CChar>) -> String {
    String(decoding: UnsafeRawBufferPointer(start: characters, count: strlen(characters)), as: UTF8.self)
}

private extension StringProtocol {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : String(self)
    }

    func padding(toLength length: Int) -> String {
        self + String(repeating: " ", count: Swift.max(0, length - count))
    }

    func leftPadded(toLength length: Int) -> String {
        String(repeating: " ", count: Swift.max(0, length - count)) + self
    }
}
