import BPFIR

// Pure functions: the static functions of a module whose result depends on nothing but their
// arguments, and which change nothing a caller could see (LLVM infers `memory(none)`, readnone,
// for them). Two calls of one with the same arguments compute the same; a call whose result
// nobody reads does nothing. Value numbering and block propagation take such a call as a
// computation like `a + b`, so that one computed on every path before is a copy of its result, and
// dead code elimination removes one whose result is unread.
//
// A function is pure when it is static, in `.text`, and every instruction is
//   - arithmetic, a comparison, an extension, a copy, an address space cast, a CO-RE value
//     (fixed once loaded), the address of a stack slot or of a global other than an arena (whose
//     ld_imm64 gives a program its arena, read or not);
//   - a load or store neither volatile nor ordered (a volatile access is itself an effect), of
//     its own stack: a slot, or a Temp assigned once to a pointer into one (pointer arithmetic
//     stays within its object, C11 6.5.6p8, and the verifier keeps a stack pointer within its
//     frame); a load may also read a constant global (`GlobalVariable.isConstant`); a copy or
//     fill of memory the same, as its loads and stores;
//   - a call of a pure function with as many arguments as it has parameters;
// and it neither may jump (`may_goto`: the kernel decides, so two calls may differ) nor runs
// asm. Helpers, kfuncs, atomics and asm may do anything. A global function is never pure, nor is
// a caller of one: even if its code is in this object, the loader may replace it (freplace).
// Purity is the least fixed point over the call graph, so functions that call each other in a
// cycle (which BPF refuses anyway) are not pure.
//
// The caller passes a pure function nothing but values, so its own memory is neither read nor
// written by the call: merging two calls needs nothing about memory between them.
//
// Requires: nothing; asked anew by each simplification, which may have made more functions pure.
// Guarantees: a call it names pure may take an earlier identical call's result, or go when its
// result is unread, and the program behaves the same.
// Why: clang infers which functions are readnone and computes `negative(s)`, called three times
// with one `s`, once (narrow_returns.c); each call we keep is a call the verifier walks again.

/// The pure functions of a module (see above), by name.
struct PureFunctions {
    /// Each pure function's parameter count: a call passing fewer arguments (of an old-style
    /// definition) leaves the callee reading registers the call did not set.
    private var parameterCounts: [String: Int] = [:]

    /// None: no call is pure.
    init() {}

    init(_ module: Module) {
        let arenas = arenaSymbols(of: module)
        let constants = Set(module.globals.filter(\.isConstant).map(\.symbol))
        // The calls each candidate makes, for the functions whose other instructions are pure.
        var candidates: [(function: Function, calls: [Operation])] = []
        for function in module.functions where function.linkage == .static && function.section == nil {
            if let calls = Self.callsIfOtherwisePure(function, arenas: arenas, constants: constants) {
                candidates.append((function, calls))
            }
        }
        var changed = true
        while changed {
            changed = false
            for (function, calls) in candidates where parameterCounts[function.name] == nil {
                guard calls.allSatisfy(isPureCall) else { continue }
                parameterCounts[function.name] = function.parameters.count
                changed = true
            }
        }
    }

    /// Whether `operation` calls a pure function with all its arguments.
    func isPureCall(_ operation: Operation) -> Bool {
        guard case .call(_, .function(let name), let arguments) = operation else { return false }
        return parameterCounts[name] == arguments.count
    }

    /// The calls of functions `function` makes, when every other instruction is pure as above;
    /// nil otherwise.
    private static func callsIfOtherwisePure(_ function: Function, arenas: Set<String>,
                                             constants: Set<String>) -> [Operation]? {
        let facts = AliasFacts(function)
        /// Whether an access of `address` reaches the function's own stack (or, for a read, a
        /// constant global).
        func isPrivate(_ address: Address, reading: Bool) -> Bool {
            switch facts.place(address, size: 1, space: 0).base {
            case .slot: return true
            case .symbol(let symbol): return reading && constants.contains(symbol)
            case .temp: return false
            }
        }
        let plain = { (flags: AccessFlags) in !flags.isVolatile && !flags.isOrdered }
        var calls: [Operation] = []
        for block in function.blocks {
            switch block.terminator {
            case .jump, .branch, .return: break
            case .mayGoto, .inlineAsmGoto: return nil
            }
            for instruction in block.instructions {
                switch instruction.operation {
                case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .slotAddress, .addrSpaceCast,
                     .setCondition, .coreValue:
                    break
                case .symbolAddress(_, let symbol, _):
                    guard !arenas.contains(symbol) else { return nil }
                case .load(_, let address, _, let space, let flags):
                    guard space == 0, plain(flags), isPrivate(address, reading: true) else { return nil }
                case .store(let address, _, _, let space, let flags):
                    guard space == 0, plain(flags), isPrivate(address, reading: false) else { return nil }
                case .copyMemory(let destination, let source, _, _, let destinationSpace, let sourceSpace):
                    guard destinationSpace == 0, sourceSpace == 0, isPrivate(destination, reading: false),
                          isPrivate(source, reading: true) else { return nil }
                case .setMemory(let address, _, _, _, let space):
                    guard space == 0, isPrivate(address, reading: false) else { return nil }
                case .call(_, .function, _):
                    calls.append(instruction.operation)
                case .call(_, .helper, _), .call(_, .kfunc, _), .atomic, .compareExchange, .inlineAsm:
                    return nil
                }
            }
        }
        return calls
    }
}
