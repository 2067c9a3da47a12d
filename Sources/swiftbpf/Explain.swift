// `swiftbpf explain`: what the verifier concluded about one program, line by line of its C. The
// loader folds the verifier's full log onto the instructions (VerifierExplanation); this file
// prints the fold and, for a rejected program, the diagnostic with its explanation. The page that
// `--html` writes is ExplainPage.swift's.

import BPFDiagnostics
import BPFLoader
import BPFObject

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct ExplainOptions {
    var path: String
    var program: String
    var html: String?
}

func parseExplain(_ arguments: ArraySlice<String>) throws(Failure) -> ExplainOptions {
    var rest = arguments
    guard let path = rest.popFirst() else { throw Failure(message: usage) }
    var program: String?
    var html: String?
    while let flag = rest.popFirst() {
        guard let value = rest.popFirst() else { throw Failure(message: "\(flag) needs a value\n\(usage)") }
        switch flag {
        case "--prog": program = value
        case "--html": html = value
        default: throw Failure(message: "unknown option '\(flag)'\n\(usage)")
        }
    }
    guard let program else { throw Failure(message: "explain needs --prog NAME\n\(usage)") }
    return ExplainOptions(path: path, program: program, html: html)
}

/// How many different states an instruction shows before the rest are only counted: a loop the
/// verifier walks a thousand times would otherwise bury the listing.
let shownStates = 6

/// The explanation as text (and the page, with `--html`). A rejected program is explained, not a
/// failure: the command succeeds.
func explain(_ options: ExplainOptions) throws(Failure) -> [String] {
    let object = try loadObject(options.path)
    let name = String(options.path.split(separator: "/").last ?? "obj").split(separator: ".").first.map(String.init) ?? "obj"
    let explanation: VerifierExplanation
    do {
        explanation = try LoadedObject(object, name: name, programs: []).explain(options.program)
    } catch {
        throw failure(error, path: options.path)
    }
    if let html = options.html {
        try writeFile(html, explanationPage(explanation, objectPath: options.path))
    }
    return explanationText(explanation, objectPath: options.path)
}

/// `file:line` of a source line, the key that ties instructions to their C line.
func sourceKey(_ line: LineRecord) -> String { "\(line.file):\(line.line)" }

/// The distinct states of an instruction's visits, in the order the verifier reached them, at most
/// `shownStates` of each kind: whole states a path arrived with (`from 23: ...`), then what the
/// instruction left; and how many more there were.
func distinctStates(_ visits: [VerifierVisit]) -> (arrivals: [String], after: [String], hidden: Int) {
    var arrivals: [String] = [], after: [String] = [], seen: Set<String> = []
    var hidden = 0
    func add(_ state: String, to list: inout [String]) {
        guard seen.insert(state).inserted else { return }
        if list.count < shownStates { list.append(state) } else { hidden += 1 }
    }
    for visit in visits {
        if let state = visit.arrival {
            add((visit.arrivedFrom.map { "from \($0): " } ?? "state here: ") + state, to: &arrivals)
        }
        if let state = visit.after { add(state, to: &after) }
    }
    return (arrivals, after, hidden)
}

func explanationText(_ explanation: VerifierExplanation, objectPath: String) -> [String] {
    var output: [String] = []
    let verdict = explanation.rejection == nil ? "accepted" : "rejected"
    output.append("program '\(explanation.program)' of \(objectPath): \(verdict) by the verifier")
    if let statistics = explanation.statistics { output.append(statistics) }
    if explanation.logIsTail {
        output.append("(the whole log would be too large: only its end was kept, so earlier instructions show no states)")
    }
    output.append("Under each C line, its instructions; beside each, what the verifier knew after it: the registers and")
    output.append("stack slots it used or changed (a different state on each path the verifier walked). Where a path")
    output.append("arrives from elsewhere, its whole state comes first (`from N:`, or `state here:` where the walk resumes).")

    var lastKey: String?
    for instruction in explanation.instructions {
        if let line = instruction.line, sourceKey(line) != lastKey {
            output.append("")
            output.append("\(sourceKey(line)): \(line.sourceText.trimmingPrefix { $0 == " " || $0 == "\t" })")
            lastKey = sourceKey(line)
        }
        let (arrivals, after, hidden) = distinctStates(instruction.visits)
        let indent = String(repeating: " ", count: 8)
        for arrival in arrivals { output.append("\(indent)\(arrival)") }
        let head = String(repeating: " ", count: max(0, 6 - String(instruction.index).count)) + "\(instruction.index): \(instruction.text)"
        let column = 40
        let padded = head + String(repeating: " ", count: max(1, column - head.count))
        if instruction.index == explanation.rejection?.instruction {
            output.append(padded + "<- rejected here")
        } else if instruction.visits.isEmpty {
            output.append(padded + "(never reached)")
        } else if after.isEmpty {
            output.append(head)
        } else {
            output.append(padded + after[0])
            for state in after.dropFirst() {
                output.append(String(repeating: " ", count: column) + state)
            }
        }
        if hidden > 0 { output.append(String(repeating: " ", count: column) + "(and \(hidden) more states)") }
        if let reason = castReason(instruction.instruction, line: instruction.line) {
            output.append(String(repeating: " ", count: column) + "; \(reason)")
        }
    }
    output.append("")
    if let rejection = explanation.rejection {
        output += rejectionDiagnostic(program: explanation.program, rejection).split(separator: "\n").map(String.init)
    }
    return output
}

/// The diagnostic of a verifier rejection: the verifier's reason at the source line it concerns,
/// with that line's text (from line_info) and a caret under its column, then the notes, and for a
/// common reason what it means and the usual fix.
func rejectionDiagnostic(program: String, _ diagnosis: VerifierDiagnosis) -> String {
    var text = ""
    let message = "verifier rejected program '\(program)': \(diagnosis.reason)"
    if let line = diagnosis.line {
        text += Diagnostic.error(message, at: SourceLocation(file: line.file, line: line.line, column: line.column))
            .description + "\n"
        let padding = line.sourceText.prefix(max(0, line.column - 1)).map { $0 == "\t" ? "\t" : " " }.joined()
        text += "\(line.sourceText)\n\(padding)^\n"
    } else {
        text += Diagnostic.error(message, at: nil).description + "\n"
    }
    for note in diagnosis.notes {
        text += Diagnostic(.note, note, at: nil).description + "\n"
    }
    if let explanation = diagnosis.explanation {
        text += Diagnostic(.note, "\(explanation.rule): \(explanation.meaning)", at: nil).description + "\n"
        text += Diagnostic(.note, "usual fix: \(explanation.fix)", at: nil).description + "\n"
    }
    return text
}

func writeFile(_ path: String, _ text: String) throws(Failure) {
    guard let file = fopen(path, "wb") else { throw Failure(message: "cannot write '\(path)': \(String(cString: strerror(errno)))") }
    defer { fclose(file) }
    let bytes = Array(text.utf8)
    if fwrite(bytes, 1, bytes.count, file) != bytes.count { throw Failure(message: "cannot write '\(path)'") }
}
