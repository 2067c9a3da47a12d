import BPFInstructions
import BPFObject

// Reads a verifier log for the one-line summary of a rejection. The kernel's log (level 1 plus
// BPF_LOG_STATS) walks the program instruction by instruction (`12: (85) call ...`), with register
// states (`12: R1=ctx() R10=fp0`, `from 4 to 6: ...`) and source lines (`; x++; @ f.c:3`); where
// verification stops it prints the reason, some reasons followed by the states that led to them
// (`infinite loop detected at insn 4`, then `cur state:` and `old state:`); and whatever the
// outcome it ends with statistics (print_verification_stats: `verification time`, `stack depth`,
// `processed N insns`).

/// What a verifier log says went wrong: the kernel's reason, the source line it concerns, notes
/// that explain it further, and for a common reason what it means and the usual fix.
public struct VerifierDiagnosis: Sendable {
    /// The kernel's own words.
    public var reason: String
    /// The instruction of the linked program the reason concerns (where verification stopped).
    public var instruction: Int
    public var line: LineRecord?
    public var notes: [String]
    public var explanation: RejectionExplanation?

    init(reason: String, instruction: Int, line: LineRecord?, notes: [String]) {
        self.reason = reason
        self.instruction = instruction
        self.line = line
        self.notes = notes
        explanation = RejectionExplanation(reason: reason)
    }
}

/// The line of a verifier log that says why verification stopped: the last one that is neither
/// statistics, nor a state, instruction or source line of the walk.
public func verifierReason(in log: String) -> String {
    log.split(separator: "\n").last { !isWalkOrStatistics($0) }.map(String.init) ?? "no reason in the log"
}

private func isWalkOrStatistics(_ line: Substring) -> Bool {
    let prefixes = ["processed ", "verification time ", "stack depth ", "cur state:", "old state:", "from ", "; "]
    if prefixes.contains(where: { line.hasPrefix($0) }) || line.first == " " { return true }
    // `N: (op) instruction` and `N: R1=... R10=fp0`.
    guard let colon = line.firstIndex(of: ":") else { return false }
    return Int(line[..<colon]) != nil
}

/// The index of the last instruction a verifier log mentions (`12: (85) call ...`), which is
/// where verification stopped.
func lastInstruction(in log: String) -> Int? {
    for line in log.split(separator: "\n").reversed() {
        guard let colon = line.firstIndex(of: ":"), let index = Int(line[..<colon]) else { continue }
        return index
    }
    return nil
}

/// The instruction a reason names (`infinite loop detected at insn 4`, `back-edge from insn 7 to 2`).
func instructionNamed(in reason: String) -> Int? {
    let words = reason.split(separator: " ")
    guard let at = words.firstIndex(of: "insn"), at + 1 < words.count else { return nil }
    return Int(words[at + 1].prefix { $0.isNumber })
}

extension LinkedProgram {
    /// Why the verifier refused this program, from its log.
    func diagnose(_ log: String) -> VerifierDiagnosis {
        let reason = verifierReason(in: log)
        if let chain = stackChain(reason: reason, log: log) { return chain }
        // A reason about the program as a whole comes with no instruction: it goes to the program's start.
        let failing = instructionNamed(in: reason) ?? lastInstruction(in: log) ?? 0
        return VerifierDiagnosis(reason: reason, instruction: failing, line: line(atInstruction: failing),
                                 notes: absentKernelFunctionNotes(reason) + failedRelocationNotes(reason, at: failing))
    }

    /// "invalid func unknown#N" for a call the linker gave an impossible helper number because
    /// its weak kfunc is missing from the kernel: says which kfunc, and how such a call is kept out.
    private func absentKernelFunctionNotes(_ reason: String) -> [String] {
        guard let number = reason.split(separator: "#").last.flatMap({ Int32($0.prefix { $0.isNumber }) }),
              reason.hasPrefix("invalid func unknown#"), let name = absentKernelFunctions[number]
        else { return [] }
        return ["unknown#\(number) stands for the weak kfunc '\(name)', which the running kernel does not have; a call to it must be unreachable, as under `if (bpf_ksym_exists(\(name)))`"]
    }

    /// "combined stack size of N calls is M. Too large" (check_max_stack_depth) names neither the
    /// functions nor a place. The functions are the placed ones (the kernel's subprograms, in the
    /// same order); the chain is the first one of N frames from the entry, in the order of the
    /// call instructions as the kernel walks them, whose frames add up to M; each frame's bytes come
    /// from the log's `stack depth` statistics. The diagnostic goes to the call that enters the
    /// last frame.
    private func stackChain(reason: String, log: String) -> VerifierDiagnosis? {
        let words = reason.split(separator: " ")
        guard reason.hasPrefix("combined stack size of "), words.count >= 8, let frames = Int(words[4]),
              let total = Int(words[7].prefix { $0.isNumber }), frames >= 2
        else { return nil }
        let maximumStack = 512
        let functions = placed.sorted { $0.start < $1.start }
        let depths = log.split(separator: "\n").last { $0.hasPrefix("stack depth ") }
            .map { $0.dropFirst("stack depth ".count).split(separator: "+").compactMap { Int($0) } } ?? []
        guard depths.count == functions.count else { return nil }

        /// Calls out of function `caller`: (instruction, callee), in instruction order.
        func calls(of caller: Int) -> [(instruction: Int, callee: Int)] {
            let function = functions[caller]
            return (function.start..<function.start + function.function.instructionCount).compactMap { index in
                let instruction = instructions[index]
                guard instruction.opcode == Opcode.classJMP | Opcode.call, instruction.src.rawValue == Opcode.pseudoCall,
                      let callee = functions.firstIndex(where: { $0.start == index + 1 + Int(instruction.imm) })
                else { return nil }
                return (index, callee)
            }
        }
        // round_up_stack_depth: a JITed program's frames count in units of 16 bytes, an
        // interpreted one's in units of 32 (at least one unit).
        func rounding(of path: [Int]) -> Int? {
            if path.reduce(0, { $0 + (depths[$1] + 15) / 16 * 16 }) == total { return 16 }
            if path.reduce(0, { $0 + (max(depths[$1], 1) + 31) / 32 * 32 }) == total { return 32 }
            return nil
        }
        var found: (path: [Int], call: Int, unit: Int)?
        func search(_ path: [Int], lastCall: Int) {
            guard found == nil else { return }
            if path.count == frames {
                if let unit = rounding(of: path) { found = (path, lastCall, unit) }
                return
            }
            // The kernel stops a chain as soon as it passes 512 bytes, so no longer chain starts
            // with one that already has (counted in the smaller unit, so for either rounding).
            guard path.reduce(0, { $0 + (depths[$1] + 15) / 16 * 16 }) <= maximumStack else { return }
            for (instruction, callee) in calls(of: path[path.count - 1]) where !path.contains(callee) {
                search(path + [callee], lastCall: instruction)
            }
        }
        guard let entry = functions.firstIndex(where: { $0.start == 0 }) else { return nil }
        search([entry], lastCall: 0)
        guard let (path, call, unit) = found else { return nil }
        let chain = path.map { "\(functions[$0].function.name) (\(depths[$0]) bytes)" }.joined(separator: " -> ")
        return VerifierDiagnosis(
            reason: reason, instruction: call, line: line(atInstruction: call),
            notes: ["call chain: \(chain), each frame counted in units of \(unit) bytes; the kernel allows "
                    + "\(maximumStack) bytes of stack for a whole chain (MAX_BPF_STACK)"])
    }
}
