import BPFIR

// Memory aliasing: which memory accesses of a function may touch the same bytes, for the passes
// that reason about memory (load forwarding, dead store elimination).
//
// Two places may be the same memory unless it is certain they are not:
//   - the same base (one slot, one global, one pointer Temp not assigned in between): exactly
//     when their byte ranges overlap;
//   - two different slots, two different globals, a global and a slot: never; a pointer Temp
//     every assignment of which points into one global (a join's `p = &grid[r][c]`) counts as
//     that global, reached at an offset that cannot be compared;
//   - a slot whose address is never taken is reached by nothing but its own accesses;
//   - otherwise, unless both accesses are typed (AccessFlags.isTyped) and of different widths.
// A call may write any memory but a slot whose address is never taken; atomics and copies write
// their destination as untyped stores do. Assigning a Temp forgets what was known through it.

/// Where a place is relative to: a stack slot, a global, or a pointer in a Temp.
enum Base: Hashable {
    case slot(SlotID)
    case symbol(String)
    case temp(Temp)
}

/// A memory range one load or store covers.
struct Place: Hashable {
    var base: Base
    /// Bytes from the base; nil somewhere within the object (a variable index into an array).
    var offset: Int?
    var size: Int
    var space: Int

    func overlaps(_ other: Place) -> Bool {
        guard let offset, let otherOffset = other.offset else { return true }
        return offset < otherOffset + other.size && otherOffset < offset + size
    }
}

/// The facts about a function's slots and Temps the aliasing rules need.
struct AliasFacts {
    /// Slots a pointer may reach other than through the accesses below: their address is stored,
    /// passed, returned, compared or kept in a Temp assigned more than once.
    var escapedSlots: Set<SlotID> = []
    /// Temps assigned once to a pointer into a slot or a global: the object they point into
    /// wherever they are read (pointer arithmetic stays within its object, C11 6.5.6p8), and the
    /// offset when it is constant.
    var fixedBases: [Temp: (base: Base, offset: Int?)] = [:]
    /// Temps assigned more than once, each time to a pointer into the same global: the pointer a
    /// join or a loop carries (`p = &grid[r][c]` in each arm). Its offset differs from one
    /// assignment to the next, but never its object.
    var joinedGlobals: [Temp: String] = [:]

    init(_ function: Function) {
        var assignments = [Int](repeating: 0, count: function.tempCount)
        var definitions = [Operation?](repeating: nil, count: function.tempCount)
        for parameter in function.parameters { assignments[parameter.index] += 1 }
        for block in function.blocks {
            for instruction in block.instructions {
                for temp in instruction.operation.definedTemps {
                    assignments[temp.index] += 1
                    definitions[temp.index] = instruction.operation
                }
            }
        }
        let once = { (t: Temp) in assignments[t.index] == 1 }
        // Temps found to point into no fixed object without the search reaching its depth limit:
        // asked again (each Temp of a long chain asks of the one before), the answer is the same.
        var pointsNowhere = [Bool](repeating: false, count: function.tempCount)
        var reachedDepthLimit = false
        func object(_ temp: Temp, depth: Int = 0) -> (base: Base, offset: Int?)? {
            guard once(temp) else { return nil }
            guard depth < 64 else {
                reachedDepthLimit = true
                return nil
            }
            if let known = fixedBases[temp] { return known }
            if pointsNowhere[temp.index] { return nil }
            let limitReachedBefore = reachedDepthLimit
            reachedDepthLimit = false
            let result: (base: Base, offset: Int?)?
            switch definitions[temp.index] {
            case .slotAddress(_, let slot, let offset): result = (.slot(slot), offset)
            case .symbolAddress(_, let symbol, let offset): result = (.symbol(symbol), offset)
            case .copy(_, .temp(let source)): result = object(source, depth: depth + 1)
            case .binary(_, let op, .bits64, .temp(let pointer), let delta) where op == .add || op == .sub:
                if let inner = object(pointer, depth: depth + 1) {
                    if case .constant(let c) = delta, let offset = inner.offset, let step = Int(exactly: c) {
                        result = (inner.base, op == .add ? offset + step : offset - step)
                    } else {
                        result = (inner.base, nil)
                    }
                } else {
                    result = nil
                }
            default: result = nil
            }
            fixedBases[temp] = result
            if result == nil && !reachedDepthLimit { pointsNowhere[temp.index] = true }
            reachedDepthLimit = reachedDepthLimit || limitReachedBefore
            return result
        }
        for index in definitions.indices where definitions[index] != nil { _ = object(Temp(index)) }

        let everyDefinition = function.assignments { assignments[$0.index] > 1 }
        for (temp, operations) in everyDefinition where operations.count == assignments[temp.index] {
            // The global each assignment points into; nil for one that is not a pointer, or is
            // one the Temp steps (`p += 4`), which stays in the object it was in.
            let globals = operations.map { operation -> String?? in
                let source: Temp
                switch operation {
                case .symbolAddress(_, let symbol, _): return .some(symbol)
                case .copy(_, .temp(let t)): source = t
                case .binary(_, let op, .bits64, .temp(let t), _) where op == .add || op == .sub: source = t
                default: return nil
                }
                if source == temp { return .some(nil) }
                guard case .symbol(let symbol)? = fixedBases[source]?.base else { return nil }
                return .some(symbol)
            }
            guard globals.allSatisfy({ $0 != nil }) else { continue }
            let named = Set(globals.compactMap { $0! })
            if named.count == 1 { joinedGlobals[temp] = named.first! }
        }

        // A slot escapes when a pointer into it is used other than as an address or to compute
        // another tracked pointer.
        func escape(_ values: [Value]) {
            for case .temp(let t) in values {
                if case .slot(let slot)? = fixedBases[t]?.base { escapedSlots.insert(slot) }
            }
        }
        for block in function.blocks {
            for instruction in block.instructions {
                let operation = instruction.operation
                switch operation {
                case .load, .setMemory, .copyMemory:
                    break
                case .store(_, let value, _, _, _), .atomic(_, _, _, let value, _, _):
                    escape([value])
                case .compareExchange(_, _, let expected, let desired, _, _):
                    escape([expected, desired])
                case .copy(let dst, _) where fixedBases[dst] != nil:
                    break
                case .binary(let dst, _, _, _, let delta) where fixedBases[dst] != nil:
                    escape([delta])
                case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .slotAddress, .symbolAddress,
                     .call, .addrSpaceCast, .setCondition, .inlineAsm, .coreValue:
                    escape(operation.usedValues)
                }
                if case .slotAddress(let dst, let slot, _) = operation, !once(dst) { escapedSlots.insert(slot) }
            }
            escape(block.terminator.usedValues)
        }
    }

    func place(_ address: Address, size: Int, space: Int) -> Place {
        switch address {
        case .slot(let slot, let offset):
            return Place(base: .slot(slot), offset: offset, size: size, space: space)
        case .temp(let temp, let offset):
            if let fixed = fixedBases[temp] {
                return Place(base: fixed.base, offset: fixed.offset.map { $0 + offset }, size: size, space: space)
            }
            return Place(base: .temp(temp), offset: offset, size: size, space: space)
        }
    }

    /// The place an access reaches, said through its pointer when that points into a known object
    /// at an offset not known (`greeting[i]`): two accesses through one pointer Temp reach the
    /// same bytes, which the object and an unknown offset cannot tell.
    func trackedPlace(_ address: Address, size: Int, space: Int) -> Place {
        let place = place(address, size: size, space: space)
        guard place.offset == nil, case .temp(let temp, let offset) = address else { return place }
        return Place(base: .temp(temp), offset: offset, size: size, space: space)
    }

    /// Whether a write of `write` (typed or not) may change memory at `place` (known through a
    /// typed access or not).
    func mayAlias(_ place: Place, typed placeTyped: Bool, _ write: Place, typed writeTyped: Bool) -> Bool {
        if place.base == write.base { return place.overlaps(write) }
        let (placeObject, writeObject) = (object(place.base), object(write.base))
        switch (placeObject, writeObject) {
        case (.slot, .slot), (.symbol, .symbol), (.slot, .symbol), (.symbol, .slot):
            // One object reached through different pointers, at offsets that cannot be compared.
            return placeObject == writeObject
        case (.slot(let slot), .temp), (.temp, .slot(let slot)):
            guard escapedSlots.contains(slot) else { return false }
        case (.symbol, .temp), (.temp, .symbol), (.temp, .temp):
            break
        }
        // A byte access is a character access, whatever its flags say.
        return !(placeTyped && writeTyped && place.size != write.size && min(place.size, write.size) > 1)
    }

    /// The object a base lies in, as far as it is known: a pointer into a known object (a
    /// tracked place's), or one that each of its assignments points into one global.
    private func object(_ base: Base) -> Base {
        guard case .temp(let temp) = base else { return base }
        if let fixed = fixedBases[temp] { return fixed.base }
        return joinedGlobals[temp].map { .symbol($0) } ?? base
    }

    /// Whether a call may change memory at `place`.
    func callMayWrite(_ place: Place) -> Bool {
        if case .slot(let slot) = place.base { return escapedSlots.contains(slot) }
        return true
    }

    /// Whether a call that writes only the globals `written` may change memory at `place`: not a
    /// slot of this function, nor a global it does not name; a pointer Temp into an object not
    /// known may be one of them.
    func callMayWrite(_ place: Place, writingOnly written: Set<String>) -> Bool {
        switch object(place.base) {
        case .slot: return false
        case .symbol(let symbol): return written.contains(symbol)
        case .temp: return true
        }
    }
}

/// The globals each function of a module may write, for the calls between them: a static
/// function that stores only to named globals (and to its own stack) changes nothing else, so a
/// loop counter kept in another global, or a value on the caller's stack, survives its call.
/// Global functions are not known (freplace may replace them), nor are helpers, kfuncs and asm,
/// which may write through the pointers they get.
struct CallEffects {
    /// The globals a static function and what it calls may write; absent when it may write
    /// anything.
    private var written: [String: Set<String>] = [:]

    init(_ module: Module) {
        var direct: [String: Set<String>] = [:]
        var callees: [String: Set<String>] = [:]
        for function in module.functions where function.linkage == .static {
            guard let (globals, called) = Self.directWrites(function) else { continue }
            direct[function.name] = globals
            callees[function.name] = called
        }
        // What a function calls adds to what it writes; one that calls an unknown function is
        // unknown. Calls between BPF functions never recurse, so this settles.
        written = direct
        var changed = true
        while changed {
            changed = false
            for (name, called) in callees where written[name] != nil {
                let theirs = called.map { written[$0] }
                let all = theirs.contains { $0 == nil } ? nil : theirs.reduce(direct[name]!) { $0.union($1!) }
                if written[name] != all {
                    written[name] = all
                    changed = true
                }
            }
        }
    }

    /// The globals a call of `callee` may write; nil when it may write anything.
    func globalsWritten(by callee: Callee) -> Set<String>? {
        switch callee {
        case .function(let name): return written[name]
        case .helper, .kfunc: return nil
        }
    }

    /// The globals `function` names in its stores and the module functions it calls; nil when it
    /// stores through a pointer into an object not known, or calls what may write anything.
    private static func directWrites(_ function: Function) -> (globals: Set<String>, called: Set<String>)? {
        let facts = AliasFacts(function)
        var globals: Set<String> = [], called: Set<String> = []
        func wrote(_ address: Address, _ space: Int) -> Bool {
            switch facts.place(address, size: 1, space: space).base {
            case .slot: return true
            case .symbol(let symbol):
                globals.insert(symbol)
                return true
            case .temp: return false
            }
        }
        for block in function.blocks {
            if case .inlineAsmGoto = block.terminator { return nil }
            for instruction in block.instructions {
                switch instruction.operation {
                case .store(let address, _, _, let space, _), .atomic(_, _, let address, _, _, let space),
                     .compareExchange(_, let address, _, _, _, let space), .setMemory(let address, _, _, _, let space),
                     .copyMemory(let address, _, _, _, let space, _):
                    guard wrote(address, space) else { return nil }
                case .call(_, .function(let name), _):
                    called.insert(name)
                case .call(_, .helper, _), .call(_, .kfunc, _), .inlineAsm:
                    return nil
                case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .load, .slotAddress, .symbolAddress,
                     .addrSpaceCast, .setCondition, .coreValue:
                    break
                }
            }
        }
        return (globals, called)
    }
}

/// The bytes of a module's constant globals (`GlobalVariable.isConstant`): what a load of them
/// reads, whoever asks (load forwarding, the loop unroller's simulation).
struct ConstantGlobals {
    private var bytes: [String: [UInt8]] = [:]

    init(_ module: Module) {
        for global in module.globals where global.isConstant { bytes[global.symbol] = global.initializer }
    }

    /// What a load of `place` reads when it lies within a constant global: its bytes,
    /// little-endian as BPF is, zero-extended as loads are.
    func load(_ place: Place) -> Int64? {
        guard case .symbol(let symbol) = place.base, let data = bytes[symbol], let offset = place.offset,
              offset >= 0, offset + place.size <= data.count else { return nil }
        var value: UInt64 = 0
        for i in (0..<place.size).reversed() { value = value << 8 | UInt64(data[offset + i]) }
        return Int64(bitPattern: value)
    }
}
