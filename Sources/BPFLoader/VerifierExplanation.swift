import BPFInstructions
import BPFObject

// Folds the verifier's full log onto a program's instructions and source lines, for readers who
// want to see what the verifier concluded at each line. At BPF_LOG_LEVEL2 the kernel logs every
// path it walks, not only the failing one:
//
//   from 23 to 11: R0=1 R1=2 R6=2 R10=fp0     a path taken at a branch, with its whole state
//   11: R0=1 R1=2 R6=2 R10=fp0                the whole state where the walk resumes (or, right
//                                             after instruction 11, what 11 changed, when other
//                                             lines came between the instruction and its state)
//   ; s += sq(i); @ u.c:8                     the source line, from line_info
//   11: (bf) r1 = r6            ; R1=2 R6=2   an instruction and the registers and stack slots it
//                                             read or wrote, as they are after it
//   25: (bf) r0 = r1            ; frame1: R0=2 a callee's state names its frame
//
// and between them lines about precision tracking (`mark_precise: ...`), calls (`caller:`,
// `callee:`), liveness and the reason verification stopped. The fold keeps the states and the
// instruction they belong to; VerifierDiagnosis reads the reason.

/// One pass of the verifier over one instruction.
public struct VerifierVisit: Sendable, Hashable {
    /// The whole state a path arrived with where the walk jumped here (`from 23 to 11: ...`) or
    /// resumed here; nil where it came from the instruction before.
    public var arrival: String?
    /// The instruction the arriving path came from, for a path taken at a branch or a return.
    public var arrivedFrom: Int?
    /// What the instruction changed or used, as the verifier printed it after the instruction;
    /// nil when it printed nothing (an exit, a call into a subprogram, the instruction it refused).
    public var after: String?
}

/// An instruction of the loaded program, its source line, and every pass the verifier made over it.
public struct ExplainedInstruction: Sendable {
    /// The index in the program as loaded (the entry function, then the subprograms it calls).
    public var index: Int
    public var instruction: Instruction
    /// The instruction as `swiftbpf dump` and `llvm-objdump` write it.
    public var text: String
    public var line: LineRecord?
    /// In the order the verifier made them; empty for an instruction it never reached.
    public var visits: [VerifierVisit]
}

/// What the verifier concluded about one program: its full log folded onto the instructions, and
/// for a rejected program why.
public struct VerifierExplanation: Sendable {
    public var program: String
    public var instructions: [ExplainedInstruction]
    /// Why the verifier refused the program; nil when it accepted it.
    public var rejection: VerifierDiagnosis?
    /// What the walk cost (`processed 56 insns (limit 1000000) max_states_per_insn 1 ...`).
    public var statistics: String?
    /// The log as the kernel wrote it.
    public var log: String
    /// The kernel kept only the log's end: the whole log would have passed `explanationLogLimit`.
    public var logIsTail: Bool
}

/// The largest full log asked for. Walking a million instructions (the complexity limit) logs
/// hundreds of megabytes; past this the kernel keeps the end of the log, where verification stopped.
let explanationLogLimit = 1 << 24

extension LoadedObject {
    /// Loads `program` with the verifier's full log and folds the log onto its instructions.
    /// Whether the verifier accepts or refuses the program, this returns what it concluded; the
    /// program itself is closed again, so this object's programs are unchanged.
    public func explain(_ program: String) throws(LoadError) -> VerifierExplanation {
        let (_, linked, request) = try prepare(program)
        // One buffer of the largest size asked for: verifying again costs more than the memory.
        var (result, log, trueSize) = BPFSyscall.loadProgram(request, logSize: explanationLogLimit, logLevel: 2)
        let logIsTail = trueSize > explanationLogLimit
        if logIsTail {
            // The kernel fails a load whose log did not fit (ENOSPC), whatever the verdict; without
            // a log it gives the verdict itself.
            (result, _, _) = BPFSyscall.loadProgram(request, logSize: 0)
        }
        var explanation = VerifierExplanation(
            program: program, instructions: linked.explainedInstructions(walk: verifierWalk(log)), rejection: nil,
            statistics: log.split(separator: "\n").last { $0.hasPrefix("processed ") }.map(String.init),
            log: log, logIsTail: logIsTail)
        if case .failure(let error) = result {
            guard !log.isEmpty else { throw .syscall(error, context: "loading program '\(program)'") }
            explanation.rejection = linked.diagnose(log)
        }
        return explanation
    }
}

extension LinkedProgram {
    /// Every instruction (an ld_imm64 counts once, at its first slot) with its line and visits.
    func explainedInstructions(walk: [Int: [VerifierVisit]]) -> [ExplainedInstruction] {
        disassemble(instructions).map { disassembled in
            ExplainedInstruction(index: disassembled.index, instruction: instructions[disassembled.index],
                                 text: disassembled.text, line: line(atInstruction: disassembled.index),
                                 visits: walk[disassembled.index] ?? [])
        }
    }
}

/// The visits of a BPF_LOG_LEVEL2 log, by instruction index (see the top of this file). A log of
/// the complexity limit has millions of lines, so this reads bytes, not Characters.
func verifierWalk(_ log: String) -> [Int: [VerifierVisit]] {
    var visits: [Int: [VerifierVisit]] = [:]
    /// The instruction whose line came last, while its state may still follow.
    var open: Int?
    /// A path's state, waiting for the instruction it arrived at.
    var arrival: (at: Int, from: Int?, state: String)?
    let bytes = Array(log.utf8)
    let newline = UInt8(ascii: "\n"), space = UInt8(ascii: " "), colon = UInt8(ascii: ":")

    /// The decimal number at `position` and the index after it.
    func number(at position: Int, before end: Int) -> (value: Int, next: Int)? {
        var value = 0, next = position
        while next < end, bytes[next] >= UInt8(ascii: "0"), bytes[next] <= UInt8(ascii: "9"), value < Int.max / 10 - 9 {
            value = value * 10 + Int(bytes[next] - UInt8(ascii: "0"))
            next += 1
        }
        return next > position ? (value, next) : nil
    }
    /// Whether `text` is at `position`.
    func has(_ text: StaticString, at position: Int, before end: Int) -> Bool {
        let count = text.utf8CodeUnitCount
        guard position + count <= end else { return false }
        return (0..<count).allSatisfy { bytes[position + $0] == text.utf8Start[$0] }
    }
    /// The first index at or after `position` where `text` is.
    func find(_ text: StaticString, from position: Int, before end: Int) -> Int? {
        var candidate = position
        while let first = bytes[candidate..<end].firstIndex(of: text.utf8Start[0]) {
            if has(text, at: first, before: end) { return first }
            candidate = first + 1
        }
        return nil
    }
    func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    var start = 0
    while start < bytes.count {
        let end = bytes[start...].firstIndex(of: newline) ?? bytes.count
        defer { start = end + 1 }
        if has("from ", at: start, before: end) {
            // `from 23 to 11: STATE`, or `from 23 to 11 (speculative execution): STATE`.
            open = nil
            guard let (from, afterFrom) = number(at: start + 5, before: end), has(" to ", at: afterFrom, before: end),
                  let (to, afterTo) = number(at: afterFrom + 4, before: end),
                  let separator = find(": ", from: afterTo, before: end)
            else { continue }
            let state = string(separator + 2..<end)
            arrival = state == "safe" ? nil : (to, from, state)
            continue
        }
        // Source lines and the other kinds of line end no instruction: its state can follow them.
        guard let (index, afterIndex) = number(at: start, before: end), afterIndex + 1 < end,
              bytes[afterIndex] == colon, bytes[afterIndex + 1] == space
        else { continue }
        let rest = afterIndex + 2
        if rest < end, bytes[rest] == UInt8(ascii: "(") {
            // `N: (op) text`, then `; STATE` after padding when the state follows at once.
            let state = find(" ; ", from: rest, before: end).map { string($0 + 3..<end) }
            var visit = VerifierVisit(arrival: nil, arrivedFrom: nil, after: state)
            if let pending = arrival, pending.at == index {
                visit.arrival = pending.state
                visit.arrivedFrom = pending.from
            }
            arrival = nil
            visits[index, default: []].append(visit)
            open = state == nil ? index : nil
        } else if has("safe", at: rest, before: end) && rest + 4 == end {
            // The path joins a state already proven safe: the walk ends here.
            arrival = nil
            open = nil
        } else if open == index, let last = visits[index]?.indices.last {
            visits[index]?[last].after = string(rest..<end)
            open = nil
        } else {
            // The whole state where the walk resumes; after `from A to N:` it repeats that state.
            if arrival?.at != index { arrival = (index, nil, string(rest..<end)) }
            open = nil
        }
    }
    return visits
}
