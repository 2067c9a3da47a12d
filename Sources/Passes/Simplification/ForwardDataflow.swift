import BPFIR

/// What holds at the start of each block for a forward analysis whose facts must hold on every
/// path (constants a Temp holds, computations available): the meet of what the predecessors end
/// with, iterated to a fixed point. A block no path has reached yet does not constrain the meet,
/// so loops start optimistic and lose what their back edges do not keep. Nil when `rounds` sweeps
/// did not settle it (the caller then changes nothing: an unsettled state may claim too much);
/// in the result, nil for a block no path reaches.
func blockEntryStates<State: Equatable>(of function: Function, start: State, rounds: Int = 16,
                                        meet: (State, State) -> State,
                                        transfer: (_ block: Int, _ entry: State) -> State) -> [State?]? {
    let count = function.blocks.count
    let predecessors = ControlFlow.predecessors(of: function)
    var exits = [State?](repeating: nil, count: count)
    func entry(_ b: Int) -> State? {
        guard b != 0, !predecessors[b].isEmpty else { return start }
        let reached = predecessors[b].compactMap { exits[$0] }
        guard let first = reached.first else { return nil }
        return reached.dropFirst().reduce(first, meet)
    }
    for _ in 0..<rounds {
        var changed = false
        for b in 0..<count {
            guard let state = entry(b) else { continue }
            let exit = transfer(b, state)
            if exits[b] != exit {
                exits[b] = exit
                changed = true
            }
        }
        if !changed { return (0..<count).map(entry) }
    }
    return nil
}
