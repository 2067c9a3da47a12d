import BPFIR
import BPFInstructions
import CodeGen

/// The `-S` listing: every function's instructions in the kernel's syntax, with the C line they
/// came from above them, and the reason next to each instruction the compiler added on its own
/// (an arena cast, a zeroed register). Meant to be read: how C became verified BPF.
func renderListing(_ compiled: CompiledObject, module: Module, source: String, cpu: CPUVersion) -> String {
    var out = "; swiftbpfcc -mcpu=\(cpu == .v3 ? "v3" : "v4") \(source)\n"
    var currentSection = ""
    var sectionStart: [String: Int] = [:]
    for listing in compiled.listings {
        if listing.section != currentSection {
            currentSection = listing.section
            out += "\n\t.section \(listing.section)\n"
        }
        let start = sectionStart[listing.section, default: 0]
        sectionStart[listing.section] = start + listing.code.instructions.count
        let kind = listing.section == ".text" ? (listing.linkage == .global ? "global function" : "static function")
                                              : "program"
        out += "\(listing.name):\t\t\t\t; \(kind), \(listing.code.instructions.count) instructions, "
            + "\(listing.stackSize) bytes of stack\n"
        var previousLine: (String, Int)?
        for line in disassemble(listing.code.instructions) {
            if let location = listing.code.locations[line.index],
               previousLine.map({ $0 != (location.file, location.line) }) ?? true {
                out += ";\(location.lineReference(mainFile: module.mainFile)): "
                    + "\(module.sourceText(location).trimmingCharacters(in: .whitespaces))\n"
                previousLine = (location.file, location.line)
            }
            var text = "\(String(start + line.index).leftPadded(to: 5)):\t\(line.text)"
            if let note = listing.code.notes[line.index] {
                text = text.padded(to: 48) + "; \(note)"
            }
            out += text + "\n"
        }
    }
    return out
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
    func padded(to width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}
