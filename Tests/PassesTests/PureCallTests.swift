import BPFDiagnostics
import BPFIR
import IRTestSupport
import Testing
@testable import Passes

private let here = SourceLocation(file: "test.c", line: 1, column: 1)

/// An 8-byte global holding 41: `g`, constant, and `h`, an ordinary one.
private func global(constant: Bool) -> GlobalVariable {
    let name = constant ? "g" : "h"
    return GlobalVariable(symbol: name, name: name, linkage: .global, section: constant ? ".rodata" : ".data",
                          type: TypeID(rawValue: 0), size: 8, alignment: 8, initializer: [41, 0, 0, 0, 0, 0, 0, 0],
                          location: here, isConstant: constant)
}
private let globals = [global(constant: true), global(constant: false)]

/// A function `name(p)` of one block.
private func callee(_ name: String = "c", linkage: Linkage = .static, tempCount: Int, slots: [StackSlot] = [],
                    _ instructions: [Operation], returning result: Value?) -> Function {
    var function = testFunction(name, parameters: 1, tempCount: tempCount,
                                blocks: [Block(id: BlockID(0), instructions: instructions.map { ir($0) },
                                               terminator: .return(result))],
                                slots: slots, linkage: linkage)
    function.section = nil
    return function
}

/// What `c(p)` does, each a different reason two of its calls may or may not compute the same.
enum CalleeBody: String, CaseIterable, CustomTestStringConvertible {
    /// `p * p`, through a stack slot of its own.
    case squareThroughItsStack
    /// `p + g`, g a constant global.
    case addsAConstantGlobal
    /// `p + h`, h an ordinary global, which the caller changes between its calls.
    case addsAGlobal
    /// `++*p`: writes memory through its argument.
    case incrementsThroughItsArgument
    /// `p * p`, but global: the loader may replace it (freplace).
    case squareButGlobal
    /// `square(p) + 1`: calls a pure function.
    case callsAPureFunction

    var testDescription: String { rawValue }

    var mergesCalls: Bool {
        switch self {
        case .squareThroughItsStack, .addsAConstantGlobal, .callsAPureFunction: return true
        case .addsAGlobal, .incrementsThroughItsArgument, .squareButGlobal: return false
        }
    }

    /// The functions besides the caller, `c` first.
    var functions: [Function] {
        let p = Value.temp(Temp(0))
        let square = callee("square", tempCount: 2, [.binary(Temp(1), .mul, .bits64, p, p)], returning: .temp(Temp(1)))
        switch self {
        case .squareThroughItsStack:
            let slot = StackSlot(size: 8, alignment: 8, name: "local", location: here)
            return [callee(tempCount: 4, slots: [slot], [
                .slotAddress(Temp(1), SlotID(0), offset: 0),
                .store(.temp(Temp(1), offset: 0), p, .double, addressSpace: 0),
                .load(Temp(2), .temp(Temp(1), offset: 0), .double, addressSpace: 0),
                .binary(Temp(3), .mul, .bits64, .temp(Temp(2)), .temp(Temp(2))),
            ], returning: .temp(Temp(3)))]
        case .addsAConstantGlobal, .addsAGlobal:
            return [callee(tempCount: 4, [
                .symbolAddress(Temp(1), symbol: self == .addsAConstantGlobal ? "g" : "h", offset: 0),
                .load(Temp(2), .temp(Temp(1), offset: 0), .double, addressSpace: 0),
                .binary(Temp(3), .add, .bits64, .temp(Temp(2)), p),
            ], returning: .temp(Temp(3)))]
        case .incrementsThroughItsArgument:
            return [callee(tempCount: 3, [
                .load(Temp(1), .temp(Temp(0), offset: 0), .double, addressSpace: 0),
                .binary(Temp(2), .add, .bits64, .temp(Temp(1)), .constant(1)),
                .store(.temp(Temp(0), offset: 0), .temp(Temp(2)), .double, addressSpace: 0),
            ], returning: .temp(Temp(2)))]
        case .squareButGlobal:
            return [callee(linkage: .global, tempCount: 2, [.binary(Temp(1), .mul, .bits64, p, p)],
                           returning: .temp(Temp(1)))]
        case .callsAPureFunction:
            return [callee(tempCount: 3, [
                .call(Temp(1), .function("square"), [p]),
                .binary(Temp(2), .add, .bits64, .temp(Temp(1)), .constant(1)),
            ], returning: .temp(Temp(2))), square]
        }
    }
}

/// Calls of `name` in `function`.
private func calls(of name: String, in function: Function) -> Int {
    function.blocks.flatMap(\.instructions).filter {
        if case .call(_, .function(name), _) = $0.operation { return true }
        return false
    }.count
}

@Suite struct PureCallTests {
    /// `f(a)` calls `c(a)`, stores 7 into h, calls `c(a)` again in the same block and once more
    /// after a branch: the later calls are copies of the first exactly when c is pure, and f
    /// returns the same either way.
    @Test(arguments: CalleeBody.allCases)
    func repeatedCallsOfAPureFunctionAreComputedOnce(body: CalleeBody) {
        let a = Value.temp(Temp(0))
        let caller = testFunction(parameters: 1, tempCount: 8, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.call(Temp(1), .function("c"), [a])),
                ir(.symbolAddress(Temp(2), symbol: "h", offset: 0)),
                ir(.store(.temp(Temp(2), offset: 0), .constant(7), .double, addressSpace: 0)),
                ir(.call(Temp(3), .function("c"), [a])),
                ir(.binary(Temp(4), .mul, .bits64, .temp(Temp(1)), .constant(1000))),
                ir(.binary(Temp(4), .add, .bits64, .temp(Temp(4)), .temp(Temp(3)))),
            ], terminator: .branch(.eq, .bits64, a, .constant(0), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [], terminator: .return(.temp(Temp(4)))),
            Block(id: BlockID(2), instructions: [
                ir(.call(Temp(5), .function("c"), [a])),
                ir(.binary(Temp(6), .mul, .bits64, .temp(Temp(4)), .constant(1000))),
                ir(.binary(Temp(7), .add, .bits64, .temp(Temp(6)), .temp(Temp(5)))),
            ], terminator: .return(.temp(Temp(7)))),
        ])
        let original = Module(functions: [caller] + body.functions, globals: globals)
        var simplified = original
        simplify(&simplified)
        #expect(calls(of: "c", in: simplified.functions[0]) == (body.mergesCalls ? 1 : 3))
        // An address in a page of its own for `++*p`; small numbers for the others.
        for argument: UInt64 in [0, 3, 0x5000] {
            var before = IRInterpreter(module: original)
            var after = IRInterpreter(module: simplified)
            #expect(before.call("f", [argument]) == after.call("f", [argument]), "f(\(argument))")
        }
    }

    /// A call of a pure function whose result nobody reads goes, with or without a result Temp;
    /// one of a function that writes memory stays.
    @Test func anUnreadPureCallGoes() {
        let p = Value.temp(Temp(0))
        let square = callee("square", tempCount: 2, [.binary(Temp(1), .mul, .bits64, p, p)], returning: .temp(Temp(1)))
        let bump = callee("bump", tempCount: 3, [
            .symbolAddress(Temp(1), symbol: "h", offset: 0),
            .store(.temp(Temp(1), offset: 0), p, .double, addressSpace: 0),
        ], returning: nil)
        let caller = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.call(Temp(1), .function("square"), [p])),
                ir(.call(nil, .function("square"), [p])),
                ir(.call(Temp(2), .function("bump"), [p])),
            ], terminator: .return(.constant(0))),
        ])
        var module = Module(functions: [caller, square, bump], globals: globals)
        simplify(&module)
        #expect(calls(of: "square", in: module.functions[0]) == 0)
        #expect(calls(of: "bump", in: module.functions[0]) == 1)
    }

    /// What makes a function impure besides memory: a helper call, may_goto, a volatile access
    /// even of its own stack, an arena's address, a call passing fewer arguments than the callee
    /// takes (an old-style definition: the callee reads a register the call did not set), and
    /// calls in a cycle; a function calling a pure one is pure.
    @Test func purityFollowsTheCallGraph() {
        let p = Value.temp(Temp(0))
        let slot = StackSlot(size: 8, alignment: 8, name: "local", location: here)
        var maybe = callee("maybe", tempCount: 1, [], returning: p)
        maybe.blocks = [Block(id: BlockID(0), terminator: .mayGoto(bail: BlockID(1), next: BlockID(1))),
                        Block(id: BlockID(1), terminator: .return(p))]
        let arena = GlobalVariable(symbol: "arena", name: "arena", linkage: .global, section: ".addr_space.1",
                                   type: TypeID(rawValue: 0), size: 8, alignment: 8, initializer: [UInt8](repeating: 0, count: 8),
                                   location: here)
        let module = Module(functions: [
            callee("leaf", tempCount: 2, [.binary(Temp(1), .add, .bits64, p, .constant(1))], returning: .temp(Temp(1))),
            callee("caller", tempCount: 2, [.call(Temp(1), .function("leaf"), [p])], returning: .temp(Temp(1))),
            callee("short", tempCount: 2, [.call(Temp(1), .function("leaf"), [])], returning: .temp(Temp(1))),
            callee("helper", tempCount: 2, [.call(Temp(1), .helper(5), [])], returning: .temp(Temp(1))),
            maybe,
            callee("volatile", tempCount: 2, slots: [slot], [
                .load(Temp(1), .slot(SlotID(0), offset: 0), .double, addressSpace: 0, AccessFlags(isVolatile: true)),
            ], returning: .temp(Temp(1))),
            callee("arena", tempCount: 2, [.symbolAddress(Temp(1), symbol: "arena", offset: 0)], returning: .temp(Temp(1))),
            callee("ping", tempCount: 2, [.call(Temp(1), .function("pong"), [p])], returning: .temp(Temp(1))),
            callee("pong", tempCount: 2, [.call(Temp(1), .function("ping"), [p])], returning: .temp(Temp(1))),
        ], globals: [arena])
        let pure = PureFunctions(module)
        let pureNames = module.functions.map(\.name).filter { pure.isPureCall(.call(Temp(9), .function($0), [p])) }
        #expect(pureNames == ["leaf", "caller"])
        #expect(!pure.isPureCall(.call(Temp(9), .function("leaf"), [])))
    }
}
