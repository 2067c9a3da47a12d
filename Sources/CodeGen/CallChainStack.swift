import BPFDiagnostics
import BPFIR

// The stack of a whole call chain: the kernel refuses a program when the frames along some chain
// of BPF-to-BPF calls from it add up to more than 512 bytes (check_max_stack_depth: "combined
// stack size of N calls is M. Too large"), each frame rounded up to 16 bytes (a JITed program's
// unit). Each function's frame fits on its own (FrameLayout), but a chain is only known once every
// function is compiled. The driver then inlines the chain's static functions (`runPasses`'s
// `alwaysInline`), where slots needed at different times share bytes, and asks again; what is left
// is an error naming the chain, each call at its line.

/// A chain of BPF-to-BPF calls from a program whose frames add up to more than the kernel allows.
public struct OverlongCallChain: Sendable {
    /// The functions, the program first.
    public var functions: [String]
    /// The call that enters each function after the first.
    public var calls: [SourceLocation?]
    /// Each function's frame as the kernel counts it.
    public var frames: [Int]
    public var programLocation: SourceLocation

    public var total: Int { frames.reduce(0, +) }

    /// The error at the call entering the last frame, a note at each earlier call, then `notes`
    /// (why inlining did not help).
    public func diagnostics(notes: [String]) -> [Diagnostic] {
        let chain = zip(functions, frames).map { "\($0) (\($1) bytes)" }.joined(separator: " -> ")
        var result = [Diagnostic.error(
            "call chain \(chain) needs \(total) bytes of stack, over the \(FrameLayout.limit) bytes BPF allows "
                + "a whole chain of calls (each frame rounded up to \(frameUnit) bytes, as the kernel counts it)",
            at: calls.last ?? programLocation)]
        for (i, call) in calls.enumerated().dropLast() {
            result.append(Diagnostic(.note, "'\(functions[i])' calls '\(functions[i + 1])' here", at: call))
        }
        result += notes.map { Diagnostic(.note, $0, at: programLocation) }
        return result
    }
}

/// The unit a JITed program's frames are counted in (round_up_stack_depth).
private let frameUnit = 16

/// For each program of `module` whose deepest chain of calls needs more stack than the kernel
/// allows, that chain; `object` is `module` compiled.
public func overlongCallChains(_ module: Module, _ object: CompiledObject) -> [OverlongCallChain] {
    var frames: [String: Int] = [:]
    for listing in object.listings {
        frames[listing.name] = (listing.stackSize + frameUnit - 1) / frameUnit * frameUnit
    }
    let byName = Dictionary(module.functions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

    /// The deepest chain from each function: its own frame, then the deepest of its callees'
    /// (the frontend rejects recursion, so the calls form no cycle).
    var deepest: [String: (total: Int, chain: [String], calls: [SourceLocation?])] = [:]
    func chain(from name: String) -> (total: Int, chain: [String], calls: [SourceLocation?]) {
        if let known = deepest[name] { return known }
        var best = (total: frames[name] ?? 0, chain: [name], calls: [SourceLocation?]())
        for block in byName[name]?.blocks ?? [] {
            for instruction in block.instructions {
                guard case .call(_, .function(let callee), _) = instruction.operation, byName[callee] != nil
                else { continue }
                let below = chain(from: callee)
                if (frames[name] ?? 0) + below.total > best.total {
                    best = ((frames[name] ?? 0) + below.total, [name] + below.chain, [instruction.location] + below.calls)
                }
            }
        }
        deepest[name] = best
        return best
    }

    return module.functions.filter { $0.section != nil }.compactMap { program in
        let found = chain(from: program.name)
        guard found.total > FrameLayout.limit else { return nil }
        return OverlongCallChain(functions: found.chain, calls: found.calls,
                                 frames: found.chain.map { frames[$0] ?? 0 }, programLocation: program.location)
    }
}
