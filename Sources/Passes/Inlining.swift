import BPFDiagnostics
import BPFIR

// Inlining of static functions.
//
// Requires: frontend IR (any pass order; it runs first).
// Guarantees: calls to small static functions, and to static functions called once, are replaced
// by the callee's body, and so are all calls to the static functions asked for by name (code
// generation's call-chain stack check names them); static functions no longer called are removed.
// Semantics are unchanged.
// Why: a BPF-to-BPF call costs argument moves, a call, a new frame and a return, and the verifier
// re-verifies the callee at every call site anyway; clang inlines every such function at -O2.
// Global functions are never inlined: the kernel verifies them once, on their own, which is what
// keeps a loop that calls one cheap to verify.
//
// A static function a BPF call cannot carry (`mustInline`: a struct returned by value, one of
// more than 16 bytes taken, more than five argument registers) is inlined at every call, whatever
// its size and even without optimization, as clang inlines one or fails; a call that stays (in a
// cycle of calls) is an error at its line.
//
// `__attribute__((always_inline))` and `noinline` decide before size does (InlineHint).
//
// The callee's instructions keep their own source locations, so line_info and listings point at
// the callee's lines, as clang's do.

/// Static functions up to this many IR instructions are inlined at every call.
private let smallFunction = 60
/// A caller stops growing past this many instructions (a guard against blow-up).
private let largestCaller = 1500
/// Nor do its slots reach deeper than this many bytes (or than they already did), slots needed at
/// different times sharing bytes (`StackColoring`): an inlined copy whose slots are needed while
/// the caller's are adds to the caller's frame, while a called function's frame is given back at
/// its return. BPF has 512 bytes for a whole call chain.
private let largestCallerStack = 256

/// Inlines static functions into their callers and drops static functions nobody calls: at every
/// call, those no BPF call can carry (`mustInline`), those marked `always_inline` and those named
/// in `always`; others, unless marked `noinline`, by size and number of calls when `bySize`
/// (when optimizing).
public func inlineFunctions(_ module: inout Module, always: Set<String> = [], bySize: Bool = true) {
    // Callees are flattened before their callers take copies of them.
    for name in bottomUpOrder(module) {
        guard let index = module.functions.firstIndex(where: { $0.name == name }) else { continue }
        var function = module.functions[index]
        inlineCalls(in: &function, module: module, always: always, bySize: bySize)
        module.functions[index] = function
    }
    removeUncalledStaticFunctions(&module)
}

/// Reports each call that stays a BPF call although its callee must be inlined, and such a
/// function kept without calls (`used`): code generation cannot give it its arguments.
public func checkRequiredInlining(_ module: Module) throws(DiagnosticList) {
    let required = Dictionary(module.functions.compactMap { f in f.mustInline.map { (f.name, $0) } },
                              uniquingKeysWith: { a, _ in a })
    guard !required.isEmpty else { return }
    var problems: [Diagnostic] = []
    var called: Set<String> = []
    for function in module.functions {
        for block in function.blocks {
            for instruction in block.instructions {
                guard case .call(_, .function(let name), _) = instruction.operation, let reason = required[name] else {
                    continue
                }
                called.insert(name)
                problems.append(.error("call to '\(name)' cannot be inlined here, and cannot be a BPF call: \(reason)",
                                       at: instruction.location))
            }
        }
    }
    for function in module.functions where !called.contains(function.name) {
        if let reason = function.mustInline {
            problems.append(.error("function '\(function.name)' is kept, but cannot be a BPF function: \(reason)",
                                   at: function.location))
        }
    }
    if !problems.isEmpty { throw DiagnosticList(problems) }
}

private func size(_ function: Function) -> Int {
    function.blocks.reduce(0) { $0 + $1.instructions.count + 1 }
}

private func callees(_ function: Function) -> [String] {
    function.blocks.flatMap { block in
        block.instructions.compactMap {
            if case .call(_, .function(let callee), _) = $0.operation { return callee }
            return nil
        }
    }
}

/// Functions ordered so that every callee comes before its callers (the call graph has no
/// cycles: the frontend rejects recursion).
private func bottomUpOrder(_ module: Module) -> [String] {
    let byName = Dictionary(module.functions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var order: [String] = []
    var visited: Set<String> = []
    func visit(_ name: String) {
        guard visited.insert(name).inserted, let function = byName[name] else { return }
        for callee in callees(function) { visit(callee) }
        order.append(name)
    }
    for function in module.functions { visit(function.name) }
    return order
}

private func inlineCalls(in caller: inout Function, module: Module, always: Set<String>, bySize: Bool) {
    let callCounts = module.functions.flatMap(callees).reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
    func isRequired(_ callee: Function) -> Bool {
        always.contains(callee.name) || callee.mustInline != nil || callee.inlineHint == .always
    }
    /// The static function a call may be replaced with, before its stack is looked at.
    func candidate(_ instruction: IRInstruction) -> Function? {
        guard case .call(_, .function(let name), _) = instruction.operation,
              let callee = module.functions.first(where: { $0.name == name }),
              callee.linkage == .static, callee.section == nil, callee.name != caller.name else { return nil }
        if isRequired(callee) { return callee }
        guard bySize, callee.inlineHint != .never, size(callee) <= smallFunction || callCounts[name] == 1,
              size(caller) + size(callee) <= largestCaller else { return nil }
        return callee
    }
    var blockIndex = 0
    // Calls before this position of the block were kept: their callee's slots would deepen the frame.
    var from = 0
    while blockIndex < caller.blocks.count {
        let instructions = caller.blocks[blockIndex].instructions
        guard let position = instructions.indices.dropFirst(from).first(where: { candidate(instructions[$0]) != nil }),
              let callee = candidate(instructions[position]),
              case .call(let result, _, let arguments) = instructions[position].operation else {
            blockIndex += 1
            from = 0
            continue
        }
        var inlined = caller
        splice(callee, into: &inlined, at: blockIndex, position: position, arguments: arguments, result: result)
        if !isRequired(callee) && !callee.slots.isEmpty {
            let depth = StackColoring(inlined).depth
            if depth > max(largestCallerStack, StackColoring(caller).depth) {
                from = position + 1
                continue
            }
        }
        caller = inlined
        // The same block now ends in a jump into the callee's copy; look at it again for later calls
        // in the continuation, which became a new block at the end.
        blockIndex += 1
        from = 0
    }
}

/// Replaces the call at `position` of block `blockIndex` with a copy of `callee`'s body.
private func splice(_ callee: Function, into caller: inout Function, at blockIndex: Int, position: Int,
                    arguments: [Value], result: Temp?) {
    let call = caller.blocks[blockIndex].instructions[position]
    let temps = (0..<callee.tempCount).map { _ in caller.makeTemp() }
    let firstSlot = caller.slots.count
    caller.slots += callee.slots
    let firstBlock = caller.blocks.count
    let continuation = BlockID(firstBlock + callee.blocks.count)

    func temp(_ t: Temp) -> Temp { temps[t.index] }
    func value(_ v: Value) -> Value {
        if case .temp(let t) = v { return .temp(temp(t)) }
        return v
    }
    func address(_ a: Address) -> Address {
        switch a {
        case .temp(let t, let offset): return .temp(temp(t), offset: offset)
        case .slot(let s, let offset): return .slot(SlotID(firstSlot + s.index), offset: offset)
        }
    }
    func block(_ b: BlockID) -> BlockID { BlockID(firstBlock + b.index) }

    for original in callee.blocks {
        var copy = Block(id: block(original.id), terminator: .return(nil),
                         terminatorLocation: original.terminatorLocation)
        copy.instructions = original.instructions.map { instruction in
            var renamed = instruction
            renamed.operation = instruction.operation.mapped(defined: temp, value: value, address: address,
                                                             slot: { SlotID(firstSlot + $0.index) })
            return renamed
        }
        if case .return(let returned) = original.terminator {
            if let result, let returned {
                copy.instructions.append(IRInstruction(.copy(result, value(returned)), at: original.terminatorLocation))
            }
            copy.terminator = .jump(continuation)
        } else {
            copy.terminator = original.terminator.mapped(value: value, block: block)
        }
        caller.blocks.append(copy)
    }

    var head = caller.blocks[blockIndex]
    let after = Block(id: continuation, instructions: Array(head.instructions[(position + 1)...]),
                      terminator: head.terminator, terminatorLocation: head.terminatorLocation)
    head.instructions = Array(head.instructions[..<position])
    for (parameter, argument) in zip(callee.parameters, arguments) {
        head.instructions.append(IRInstruction(.copy(temp(parameter), argument), at: call.location))
    }
    head.terminator = .jump(block(BlockID(0)))
    head.terminatorLocation = call.location
    caller.blocks[blockIndex] = head
    caller.blocks.append(after)
}

private func removeUncalledStaticFunctions(_ module: inout Module) {
    let called = Set(module.functions.flatMap(callees))
    module.functions.removeAll {
        $0.linkage == .static && $0.section == nil && !$0.symbolAttributes.isUsed && !called.contains($0.name)
    }
}
