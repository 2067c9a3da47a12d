import BPFIR

/// A comparison's 0 or 1 that only constant arithmetic reads (`(x == 7) * 100000 + 233`) becomes
/// a choice between the two results: `y = 100233; if x != 7 goto +1; y = 233`, as clang selects
/// between constants, where the comparison alone needed as many instructions (`d = 1; if x == 7
/// goto +1; d = 0`) before the arithmetic. The block splits at the comparison into a branch, one
/// block for each result and the rest of the block; speculation then puts one result before the
/// branch, and join hoisting moves what follows and reads neither above it.
///
/// Run in the last simplification, after comparisons computable without a branch became arithmetic
/// (ComparisonValues.swift): what is left needs its branch anyway.
func foldSelects(_ function: inout Function) -> Bool {
    let reads = function.readCounts
    var changed = false
    var b = 0
    while b < function.blocks.count {
        defer { b += 1 }
        let instructions = function.blocks[b].instructions
        for (i, instruction) in instructions.enumerated() {
            guard case .setCondition(let d, let condition, let width, let x, let y) = instruction.operation,
                  let (end, result, values) = chain(from: d, after: i, in: instructions, reads: reads) else { continue }
            let thenBlock = BlockID(function.blocks.count), elseBlock = BlockID(thenBlock.index + 1)
            let rest = BlockID(thenBlock.index + 2)
            let location = instructions[end].location
            function.blocks.append(Block(id: thenBlock, instructions: [IRInstruction(.copy(result, .constant(values.ifTrue)), at: location)],
                                         terminator: .jump(rest), terminatorLocation: location))
            function.blocks.append(Block(id: elseBlock, instructions: [IRInstruction(.copy(result, .constant(values.ifFalse)), at: location)],
                                         terminator: .jump(rest), terminatorLocation: location))
            function.blocks.append(Block(id: rest, instructions: Array(instructions[(end + 1)...]),
                                         terminator: function.blocks[b].terminator,
                                         terminatorLocation: function.blocks[b].terminatorLocation))
            function.blocks[b].instructions = Array(instructions[..<i])
            function.blocks[b].terminator = .branch(condition, width, x, y, then: thenBlock, else: elseBlock)
            function.blocks[b].terminatorLocation = instruction.location
            changed = true
            // The rest of the block is a block of its own now, looked at in its turn.
            break
        }
    }
    return changed
}

/// The constant arithmetic after a comparison's result `d` at index `i`: each step
/// `t = s op constant` reads the step before and nothing else does. The index of the last step,
/// what it assigns, and its results when d is 1 and when it is 0; nil without a step.
private func chain(from d: Temp, after i: Int, in instructions: [IRInstruction], reads: [Int])
    -> (end: Int, result: Temp, values: (ifTrue: Int64, ifFalse: Int64))? {
    var current = d
    var values: (ifTrue: Int64, ifFalse: Int64) = (1, 0)
    var end: Int?
    var k = i + 1
    while k < instructions.count,
          case .binary(let t, let op, let width, .temp(current), .constant(let c)) = instructions[k].operation,
          reads[current.index] == 1 || t == current,
          let ifTrue = evaluate(op, width, values.ifTrue, c), let ifFalse = evaluate(op, width, values.ifFalse, c) {
        values = (ifTrue, ifFalse)
        current = t
        end = k
        k += 1
    }
    guard let end else { return nil }
    return (end, current, values)
}
