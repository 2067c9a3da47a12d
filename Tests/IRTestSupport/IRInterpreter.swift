import BPFDiagnostics
import BPFIR

// A reference interpreter for the IR, with BPF's arithmetic (division by zero gives 0, modulo by
// zero leaves the dividend, shift amounts are masked, 32-bit results zero-extend), so that tests
// can compare what a pass or the kernel computes with what the IR means.
//
// Memory is a byte map. Pointers are plain numbers: the caller places its buffers at chosen
// addresses; each call frame's slots live at their own base; each global of the module lives at
// its own address from `globalBase` on, holding its initializer from the start.

/// Runs IR functions of one module.
public struct IRInterpreter {
    public let module: Module
    public var memory: [UInt64: UInt8] = [:]
    /// Where each global's symbol lives.
    public private(set) var globalAddresses: [String: UInt64] = [:]
    private var nextFrame: UInt64 = 0x7000_0000

    /// Where the first global is placed: far from the frames and from the small addresses tests use.
    public static let globalBase: UInt64 = 0x1000_0000

    public init(module: Module) {
        self.module = module
        var cursor = IRInterpreter.globalBase
        for global in module.globals {
            let alignment = UInt64(max(global.alignment, 1))
            cursor = (cursor + alignment - 1) / alignment * alignment
            globalAddresses[global.symbol] = cursor
            write(global.initializer, at: cursor)
            // A gap between globals, so that an access past one's end does not read its neighbour.
            cursor += UInt64(global.size) + 16
        }
    }

    public mutating func write(_ bytes: [UInt8], at address: UInt64) {
        for (i, byte) in bytes.enumerated() { memory[address + UInt64(i)] = byte }
    }

    public func read(_ count: Int, at address: UInt64) -> [UInt8] {
        (0..<count).map { memory[address + UInt64($0)] ?? 0 }
    }

    /// A little-endian integer of `size` bytes, zero-extended.
    func readInteger(_ size: MemorySize, at address: UInt64) -> UInt64 {
        read(size.rawValue, at: address).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The low `size` bytes of `value`, little-endian.
    mutating func writeInteger(_ value: UInt64, _ size: MemorySize, at address: UInt64) {
        write((0..<size.rawValue).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }, at: address)
    }

    /// Runs `name` with `arguments` in r1..r5 and returns r0.
    public mutating func call(_ name: String, _ arguments: [UInt64]) -> UInt64 {
        guard let function = module.functions.first(where: { $0.name == name }) else {
            preconditionFailure("no function \(name)")
        }
        var temps = [UInt64](repeating: 0, count: function.tempCount)
        for (parameter, value) in zip(function.parameters, arguments) { temps[parameter.index] = value }
        let frameStart = nextFrame
        defer { nextFrame = frameStart }
        var slotBase: [UInt64] = []
        var cursor = nextFrame
        for slot in function.slots {
            slotBase.append(cursor)
            cursor += UInt64(max(slot.size, 8) + 8)
        }
        nextFrame = cursor + 0x1000

        func value(_ v: Value) -> UInt64 {
            switch v {
            case .temp(let t): return temps[t.index]
            case .constant(let c): return UInt64(bitPattern: c)
            }
        }
        func address(_ a: Address) -> UInt64 {
            switch a {
            case .temp(let t, let offset): return temps[t.index] &+ UInt64(bitPattern: Int64(offset))
            case .slot(let s, let offset): return slotBase[s.index] &+ UInt64(bitPattern: Int64(offset))
            }
        }

        var block = function.blocks[0]
        while true {
            for instruction in block.instructions {
                switch instruction.operation {
                case .copy(let d, let v):
                    temps[d.index] = value(v)
                case .binary(let d, let op, let width, let a, let b):
                    temps[d.index] = evaluate(op, width, value(a), value(b))
                case .negate(let d, let width, let v):
                    temps[d.index] = truncate(0 &- value(v), width)
                case .signExtend(let d, let v, let bits):
                    let shift = UInt64(64 - bits)
                    temps[d.index] = UInt64(bitPattern: Int64(bitPattern: value(v) << shift) >> shift)
                case .zeroExtend(let d, let v, let bits):
                    temps[d.index] = value(v) & ((1 << UInt64(bits)) - 1)
                case .byteSwap(let d, let v, let bits):
                    temps[d.index] = UInt64(bitPattern: byteSwapped(Int64(bitPattern: value(v)), bits: bits))
                case .load(let d, let a, let size, _, _):
                    temps[d.index] = readInteger(size, at: address(a))
                case .store(let a, let v, let size, _, _):
                    writeInteger(value(v), size, at: address(a))
                case .copyMemory(let destination, let source, let size, _, _, _):
                    // As strict as C: memcpy and struct assignment never copy between ranges
                    // that partly overlap (memmove is lowered to loads and stores instead).
                    let (to, from) = (address(destination), address(source))
                    precondition(to == from || to &+ UInt64(size) <= from || from &+ UInt64(size) <= to,
                                 "\(name): copyMemory of \(size) bytes between overlapping ranges")
                    write(read(size, at: from), at: to)
                case .setMemory(let a, let byte, let size, _, _):
                    write([UInt8](repeating: byte, count: size), at: address(a))
                case .slotAddress(let d, let s, let offset):
                    temps[d.index] = slotBase[s.index] &+ UInt64(bitPattern: Int64(offset))
                case .symbolAddress(let d, let symbol, let offset):
                    guard let base = globalAddresses[symbol] else { preconditionFailure("no global \(symbol)") }
                    temps[d.index] = base &+ UInt64(bitPattern: Int64(offset))
                case .addrSpaceCast:
                    preconditionFailure("the interpreter has no arenas")
                case .inlineAsm:
                    preconditionFailure("the interpreter does not run BPF assembly")
                case .coreValue(let d, let relocation):
                    // The program runs against its own types: the value libbpf would find locally.
                    guard let local = module.types.coreLocalValue(of: relocation, typeID: { Int64($0.rawValue) }) else {
                        preconditionFailure("CO-RE relocation \(relocation) does not fit the module's types")
                    }
                    temps[d.index] = UInt64(bitPattern: local)
                case .call(let d, let callee, let arguments):
                    guard case .function(let name) = callee else { preconditionFailure("only calls to functions") }
                    let result = call(name, arguments.map(value))
                    if let d { temps[d.index] = result }
                case .setCondition(let d, let condition, let width, let a, let b):
                    temps[d.index] = holds(condition, width, value(a), value(b)) ? 1 : 0
                case .atomic(let d, let op, let a, let v, let size, _):
                    let old = readInteger(size, at: address(a))
                    let operand = value(v)
                    let new: UInt64
                    switch op {
                    case .add: new = old &+ operand
                    case .or: new = old | operand
                    case .and: new = old & operand
                    case .xor: new = old ^ operand
                    case .exchange: new = operand
                    }
                    writeInteger(new, size, at: address(a))
                    if let d { temps[d.index] = old }
                case .compareExchange(let d, let a, let expected, let desired, let size, _):
                    let old = readInteger(size, at: address(a))
                    // A 32-bit compare looks at the low halves only, as the kernel's.
                    if old == value(expected) & (size == .word ? 0xffff_ffff : .max) {
                        writeInteger(value(desired), size, at: address(a))
                    }
                    temps[d.index] = old
                }
            }
            switch block.terminator {
            case .jump(let target):
                block = function.blocks[target.index]
            case .branch(let condition, let width, let a, let b, let then, let otherwise):
                block = function.blocks[(holds(condition, width, value(a), value(b)) ? then : otherwise).index]
            case .return(let v):
                return v.map(value) ?? 0
            case .mayGoto(_, let next):
                block = function.blocks[next.index]
            case .inlineAsmGoto:
                preconditionFailure("the interpreter does not run BPF assembly")
            }
        }
    }
}

private func truncate(_ x: UInt64, _ width: ALUWidth) -> UInt64 {
    switch width {
    case .bits64: return x
    case .bits32: return x & 0xffff_ffff
    }
}

/// One ALU operation as BPF defines it.
public func evaluate(_ op: BinaryOperator, _ width: ALUWidth, _ a: UInt64, _ b: UInt64) -> UInt64 {
    switch width {
    case .bits64:
        let (sa, sb) = (Int64(bitPattern: a), Int64(bitPattern: b))
        switch op {
        case .add: return a &+ b
        case .sub: return a &- b
        case .mul: return a &* b
        case .udiv: return b == 0 ? 0 : a / b
        case .umod: return b == 0 ? a : a % b
        case .sdiv: return UInt64(bitPattern: b == 0 ? 0 : sb == -1 ? 0 &- sa : sa / sb)
        case .smod: return UInt64(bitPattern: b == 0 ? sa : sb == -1 ? 0 : sa % sb)
        case .and: return a & b
        case .or: return a | b
        case .xor: return a ^ b
        case .shl: return a << (b & 63)
        case .lshr: return a >> (b & 63)
        case .ashr: return UInt64(bitPattern: sa >> Int64(b & 63))
        }
    case .bits32:
        let (a, b) = (UInt32(truncatingIfNeeded: a), UInt32(truncatingIfNeeded: b))
        let (sa, sb) = (Int32(bitPattern: a), Int32(bitPattern: b))
        let result: UInt32
        switch op {
        case .add: result = a &+ b
        case .sub: result = a &- b
        case .mul: result = a &* b
        case .udiv: result = b == 0 ? 0 : a / b
        case .umod: result = b == 0 ? a : a % b
        case .sdiv: result = UInt32(bitPattern: b == 0 ? 0 : sb == -1 ? 0 &- sa : sa / sb)
        case .smod: result = UInt32(bitPattern: b == 0 ? sa : sb == -1 ? 0 : sa % sb)
        case .and: result = a & b
        case .or: result = a | b
        case .xor: result = a ^ b
        case .shl: result = a << (b & 31)
        case .lshr: result = a >> (b & 31)
        case .ashr: result = UInt32(bitPattern: sa >> Int32(b & 31))
        }
        return UInt64(result)
    }
}

/// A comparison as BPF's JMP (64-bit) or JMP32 class evaluates it.
public func holds(_ condition: Condition, _ width: ALUWidth, _ a: UInt64, _ b: UInt64) -> Bool {
    let (ua, ub): (UInt64, UInt64)
    let (sa, sb): (Int64, Int64)
    switch width {
    case .bits64:
        (ua, ub) = (a, b)
        (sa, sb) = (Int64(bitPattern: a), Int64(bitPattern: b))
    case .bits32:
        (ua, ub) = (a & 0xffff_ffff, b & 0xffff_ffff)
        (sa, sb) = (Int64(Int32(truncatingIfNeeded: a)), Int64(Int32(truncatingIfNeeded: b)))
    }
    switch condition {
    case .eq: return ua == ub
    case .ne: return ua != ub
    case .ugt: return ua > ub
    case .uge: return ua >= ub
    case .ult: return ua < ub
    case .ule: return ua <= ub
    case .sgt: return sa > sb
    case .sge: return sa >= sb
    case .slt: return sa < sb
    case .sle: return sa <= sb
    }
}

/// A function with defaults for what a test does not care about.
public func testFunction(_ name: String = "f", parameters: Int, tempCount: Int, blocks: [Block],
                         slots: [StackSlot] = [], linkage: Linkage = .global) -> Function {
    Function(name: name, linkage: linkage, section: linkage == .global ? "syscall" : nil, type: TypeID(rawValue: 0),
             parameters: (0..<parameters).map(Temp.init), blocks: blocks, slots: slots, tempCount: tempCount,
             location: SourceLocation(file: "test.c", line: 1, column: 1))
}

/// Shorthand for an instruction at line `line` of test.c.
public func ir(_ operation: Operation, line: Int = 2) -> IRInstruction {
    IRInstruction(operation, at: SourceLocation(file: "test.c", line: line, column: 1))
}
