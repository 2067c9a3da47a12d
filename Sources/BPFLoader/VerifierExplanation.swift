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
let explanationLogLimit = 1 << 26

extension LoadedObject {
    /// Loads `program` with the verifier's full log and folds the log onto its instructions.
    /// Whether the verifier accepts or refuses the program, this returns what it concluded; the
    /// program itself is closed again, so this object's programs are unchanged.
    public func explain(_ program: String) throws(LoadError) -> VerifierExplanation {
        let (_, linked, request) = try prepare(program)
        var logSize = 1 << 20
        var (result, log, trueSize) = BPFSyscall.loadProgram(request, logSize: logSize, logLevel: 2)
        while case .failure(let error) = result, error.errno == 28, logSize < explanationLogLimit {
            logSize = min(max(logSize * 4, trueSize + 1), explanationLogLimit)
            (result, log, trueSize) = BPFSyscall.loadProgram(request, logSize: logSize, logLevel: 2)
        }
        let logIsTail = trueSize > logSize
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

/// The visits of a BPF_LOG_LEVEL2 log, by instruction index (see the top of this file).
func verifierWalk(_ log: String) -> [Int: [VerifierVisit]] {
    var visits: [Int: [VerifierVisit]] = [:]
    /// The instruction whose line came last, while its state may still follow.
    var open: Int?
    /// A path's state, waiting for the instruction it arrived at.
    var arrival: (at: Int, from: Int?, state: String)?

    for line in log.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("from ") {
            // `from 23 to 11: STATE`, or `from 23 to 11 (speculative execution): STATE`.
            open = nil
            let words = line.split(separator: " ", maxSplits: 4)
            guard words.count == 5, let from = Int(words[1]), words[2] == "to",
                  let to = Int(words[3].prefix { $0.isNumber }), let colon = line.firstRange(of: ": ")
            else { continue }
            let state = String(line[colon.upperBound...])
            arrival = state == "safe" ? nil : (to, from, state)
            continue
        }
        guard let colon = line.firstRange(of: ": "), let index = Int(line[..<colon.lowerBound]) else {
            // Source lines and the other kinds of line end no instruction: its state can follow them.
            continue
        }
        let rest = line[colon.upperBound...]
        if rest.first == "(" {
            // `N: (op) text`, then `; STATE` after padding when the state follows at once.
            let state = rest.firstRange(of: " ; ").map { String(rest[$0.upperBound...]) }
            var visit = VerifierVisit(arrival: nil, arrivedFrom: nil, after: state)
            if let pending = arrival, pending.at == index {
                visit.arrival = pending.state
                visit.arrivedFrom = pending.from
            }
            arrival = nil
            visits[index, default: []].append(visit)
            open = state == nil ? index : nil
        } else if rest == "safe" {
            // The path joins a state already proven safe: the walk ends here.
            arrival = nil
            open = nil
        } else if open == index, let last = visits[index]?.indices.last {
            visits[index]?[last].after = String(rest)
            open = nil
        } else {
            // The whole state where the walk resumes; after `from A to N:` it repeats that state.
            if arrival?.at != index { arrival = (index, nil, String(rest)) }
            open = nil
        }
    }
    return visits
}
