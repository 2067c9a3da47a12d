// Assembles BPF's pseudo-C assembly, the syntax of inline asm in BPF C: what LLVM's BPF asm
// parser accepts (`r0 = *(u64 *)(r1 + 8)`, `w0 += 1`, `if r1 > 5 goto +1`, `lock *(u64 *)(r1 + 0)
// += r2`, `r1 = be16 r1`, labels, `.byte`) and also the kernel's spelling that `disassemble`
// prints (`goto pc+3`, `(r10 -4)`, `call bpf_map_lookup_elem#1`, `atomic64_xchg(...)`), so that
// a listing assembles back to the same instructions.
//
// Statements end at a newline or `;`. Comments are `/* */`, `//` and `#` to the end of the line,
// except a `#` right after a name, as in the kernel's `bpf_map_lookup_elem#1`. `.ifc A, B` /
// `.ifnc A, B` ... `.else` ... `.endif` keep or drop statements by comparing two strings (after
// the caller substituted inline asm operands into them). `.byte`/`.short`/`.long`/`.quad` emit
// raw little-endian data, which must add up to whole 8-byte instructions. A jump goes to `+N`/`-N`
// instructions from the next one, or to a label: `name:` or GNU's numeric `1:` (referred to as
// `1b` backwards, `1f` forwards). A label the text does not define but the caller names as
// external becomes an `ExternalJump` for the caller to aim (asm goto's C labels).

/// A problem in assembly text: the statement, where it starts, and what is wrong with it.
public struct AssemblyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The line of the text (1-based) the statement is on.
    public var line: Int
    public var statement: String
    public var message: String

    /// `line 2 'foo r1': unknown instruction 'foo'`.
    public var description: String { "line \(line) '\(statement)': \(message)" }
}

/// A jump of assembled code to a label outside it; its offset is left 0 for the caller to set.
public struct ExternalJump: Hashable, Sendable {
    /// The slot of the jump in `AssembledCode.instructions`.
    public var index: Int
    public var label: String
}

/// Assembled instructions, with the jumps that leave the text.
public struct AssembledCode: Hashable, Sendable {
    public var instructions: [Instruction]
    public var externalJumps: [ExternalJump]
    /// Relative jumps that land outside the text (before its start, or further than just past its
    /// end), each as the error to report where the text stands alone, as inline asm does; a
    /// fragment of a listing may jump anywhere.
    public var jumpsOutside: [AssemblyError]
}

/// Assembles `text`; jumps to a label in `externalLabels` that the text does not define become
/// `externalJumps`.
public func assemble(_ text: String, externalLabels: Set<String> = []) throws(AssemblyError) -> AssembledCode {
    var assembler = Assembler(externalLabels: externalLabels)
    for (number, line) in removingBlockComments(text).split(separator: "\n", omittingEmptySubsequences: false)
        .enumerated() {
        for statement in removingLineComment(line).split(separator: ";") {
            let trimmed = statement.trimmingWhitespace()
            guard !trimmed.isEmpty else { continue }
            assembler.line = number + 1
            do {
                try assembler.statement(trimmed)
            } catch {
                throw AssemblyError(line: number + 1, statement: trimmed, message: error.message)
            }
        }
    }
    do {
        return try assembler.finish()
    } catch {
        throw AssemblyError(line: error.line ?? 1, statement: error.statement ?? "", message: error.message)
    }
}

private struct StatementProblem: Error {
    var message: String
    var line: Int? = nil
    var statement: String? = nil
}

private func removingBlockComments(_ text: String) -> String {
    var result = ""
    var inComment = false
    var previous: Character = " "
    for c in text {
        if inComment {
            // Keep the newlines, so that line numbers stay right.
            if c == "\n" { result.append(c) }
            if previous == "*" && c == "/" {
                inComment = false
                result.append(" ")
                previous = " "
                continue
            }
        } else if previous == "/" && c == "*" {
            result.removeLast()
            inComment = true
            previous = " "
            continue
        } else {
            result.append(c)
        }
        previous = c
    }
    return result
}

private func removingLineComment(_ line: Substring) -> Substring {
    var previous: Character = " "
    for index in line.indices {
        let c = line[index]
        if c == "/" && line[line.index(after: index)...].hasPrefix("/") { return line[..<index] }
        if c == "#" && !isNameCharacter(previous) { return line[..<index] }
        previous = c
    }
    return line
}

private func isNameCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "." }

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

// MARK: - Tokens

private enum Token: Equatable, CustomStringConvertible {
    case word(String)
    case number(UInt64)
    /// `1b` (backwards) or `1f` (forwards).
    case localLabel(UInt64, forward: Bool)
    case punctuation(String)

    var description: String {
        switch self {
        case .word(let w): return w
        case .number(let n): return String(n)
        case .localLabel(let n, let forward): return "\(n)\(forward ? "f" : "b")"
        case .punctuation(let p): return p
        }
    }
}

private let punctuation = ["<<=", ">>=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "==", "!=", ">=", "<=",
                           "<", ">", "=", "(", ")", "*", "+", "-", ",", "&", "[", "]", ":", "#"]

private func tokenize(_ text: String) throws(StatementProblem) -> [Token] {
    var tokens: [Token] = []
    let characters = Array(text)
    var i = 0
    while i < characters.count {
        let c = characters[i]
        if c.isWhitespace {
            i += 1
        } else if c.isNumber {
            var j = i
            while j < characters.count && (characters[j].isLetter || characters[j].isNumber || characters[j] == "_") { j += 1 }
            let spelling = String(characters[i..<j])
            if let last = spelling.last, last == "b" || last == "f", let n = UInt64(spelling.dropLast()) {
                tokens.append(.localLabel(n, forward: last == "f"))
            } else if let n = parseNumber(spelling) {
                tokens.append(.number(n))
            } else {
                throw StatementProblem(message: "bad number '\(spelling)'")
            }
            i = j
        } else if isNameCharacter(c) {
            var j = i
            while j < characters.count && isNameCharacter(characters[j]) { j += 1 }
            tokens.append(.word(String(characters[i..<j])))
            i = j
        } else if let p = punctuation.first(where: { characters[i...].starts(with: $0) }) {
            tokens.append(.punctuation(p))
            i += p.count
        } else {
            throw StatementProblem(message: "unexpected character '\(c)'")
        }
    }
    return tokens
}

private func parseNumber(_ spelling: String) -> UInt64? {
    let lower = spelling.lowercased()
    if lower.hasPrefix("0x") { return UInt64(lower.dropFirst(2), radix: 16) }
    if lower.hasPrefix("0b") { return UInt64(lower.dropFirst(2), radix: 2) }
    if lower.count > 1 && lower.hasPrefix("0") { return UInt64(lower.dropFirst(), radix: 8) }
    return UInt64(lower)
}

// MARK: - Statements

/// A jump whose target is a label, aimed once every label is known.
private struct Fixup {
    /// Byte offset of the jump.
    var position: Int
    var label: String
    /// `gotol` keeps its offset in `imm`.
    var inImmediate: Bool
    var line: Int
    var statement: String
}

private struct Assembler {
    let externalLabels: Set<String>
    var bytes: [UInt8] = []
    var labels: [String: Int] = [:]
    /// How many times each numeric label has been defined so far.
    var localDefinitions: [UInt64: Int] = [:]
    var fixups: [Fixup] = []
    /// Relative jumps, checked against the end once it is known.
    var relativeJumps: [(target: Int, line: Int, statement: String)] = []
    /// The line of the statement being assembled.
    var line = 0
    /// `.ifc` nesting: whether each level's statements are kept.
    var conditions: [(active: Bool, taken: Bool)] = []
    var active: Bool { conditions.allSatisfy(\.active) }

    init(externalLabels: Set<String>) {
        self.externalLabels = externalLabels
    }

    mutating func statement(_ text: String) throws(StatementProblem) {
        let word = text.prefix { !$0.isWhitespace }
        switch word {
        case ".ifc", ".ifnc":
            let arguments = text.dropFirst(word.count)
            guard let comma = arguments.firstIndex(of: ",") else {
                throw StatementProblem(message: "\(word) takes two strings separated by a comma")
            }
            let equal = arguments[..<comma].trimmingWhitespace() == arguments[arguments.index(after: comma)...].trimmingWhitespace()
            let holds = word == ".ifc" ? equal : !equal
            conditions.append((active: holds, taken: holds))
            return
        case ".else":
            guard let last = conditions.popLast() else { throw StatementProblem(message: ".else without .ifc") }
            conditions.append((active: !last.taken, taken: true))
            return
        case ".endif":
            guard conditions.popLast() != nil else { throw StatementProblem(message: ".endif without .ifc") }
            return
        default:
            break
        }
        guard active else { return }
        var tokens = try tokenize(text)
        // Labels in front of the statement.
        while tokens.count >= 2, tokens[1] == .punctuation(":") {
            switch tokens[0] {
            case .word(let name):
                guard labels[name] == nil else { throw StatementProblem(message: "label '\(name)' defined twice") }
                labels[name] = bytes.count
            case .number(let n):
                let k = localDefinitions[n, default: 0]
                labels["\(n)@\(k)"] = bytes.count
                localDefinitions[n] = k + 1
            default:
                throw StatementProblem(message: "'\(tokens[0])' cannot be a label")
            }
            tokens.removeFirst(2)
        }
        guard !tokens.isEmpty else { return }
        var parser = Parser(tokens: tokens)
        if case .word(let directive) = tokens[0], directive.hasPrefix(".") {
            parser.index = 1
            try data(directive, &parser)
            return
        }
        let parsed = try parser.instruction()
        try parser.end()
        switch parsed.target {
        case .relative(let n)?:
            relativeJumps.append((bytes.count / 8 + 1 + n, line, text))
        case .label(let name, let inImmediate)?:
            fixups.append(Fixup(position: bytes.count, label: resolve(name), inImmediate: inImmediate, line: line,
                                statement: text))
        case nil:
            break
        }
        bytes += encode(parsed.instructions)
    }

    /// A numeric label reference as the name it was defined under.
    func resolve(_ label: LabelReference) -> String {
        switch label {
        case .named(let name): return name
        case .local(let n, let forward):
            let k = localDefinitions[n, default: 0]
            return "\(n)@\(forward ? k : k - 1)"
        }
    }

    mutating func data(_ directive: String, _ parser: inout Parser) throws(StatementProblem) {
        let size: Int
        switch directive {
        case ".byte": size = 1
        case ".short", ".half", ".hword", ".2byte": size = 2
        case ".long", ".int", ".word", ".4byte": size = 4
        case ".quad", ".dword", ".8byte": size = 8
        default: throw StatementProblem(message: "unsupported directive '\(directive)'")
        }
        while true {
            let value = try parser.signedNumber()
            let limit: Int64 = size == 8 ? Int64.max : 1 << (8 * size)
            if size < 8 && (value >= limit || value < -(limit / 2)) {
                throw StatementProblem(message: "\(value) does not fit \(directive)")
            }
            let bits = UInt64(bitPattern: value)
            bytes += (0..<size).map { UInt8(truncatingIfNeeded: bits >> (8 * UInt64($0))) }
            if parser.atEnd { return }
            try parser.expect(",")
        }
    }

    func finish() throws(StatementProblem) -> AssembledCode {
        if !conditions.isEmpty { throw StatementProblem(message: ".ifc without .endif") }
        guard bytes.count % 8 == 0 else {
            throw StatementProblem(message: "the data adds up to \(bytes.count) bytes, not whole 8-byte instructions")
        }
        guard var instructions = decode(bytes) else {
            throw StatementProblem(message: "the data does not decode as instructions: a register number is above 10")
        }
        let outside = relativeJumps.filter { $0.target < 0 || $0.target > instructions.count }.map { jump in
            let place = jump.target < 0 ? "\(-jump.target) instructions before its start"
                : "\(jump.target - instructions.count) instructions past its end"
            return AssemblyError(line: jump.line, statement: jump.statement,
                                 message: "the jump leaves the assembly: it lands \(place)")
        }
        var external: [ExternalJump] = []
        for fixup in fixups {
            let slot = fixup.position / 8
            if let target = labels[fixup.label] {
                guard target % 8 == 0 else {
                    throw StatementProblem(message: "label '\(fixup.label)' is not at an instruction boundary",
                                           line: fixup.line, statement: fixup.statement)
                }
                let distance = target / 8 - (slot + 1)
                if fixup.inImmediate {
                    instructions[slot].imm = Int32(distance)
                } else {
                    guard let offset = Int16(exactly: distance) else {
                        throw StatementProblem(message: "jump too far", line: fixup.line, statement: fixup.statement)
                    }
                    instructions[slot].offset = offset
                }
            } else if externalLabels.contains(fixup.label) && !fixup.inImmediate {
                external.append(ExternalJump(index: slot, label: fixup.label))
            } else {
                let shown = fixup.label.split(separator: "@").first.map(String.init) ?? fixup.label
                throw StatementProblem(message: "undefined label '\(shown)'", line: fixup.line, statement: fixup.statement)
            }
        }
        return AssembledCode(instructions: instructions, externalJumps: external, jumpsOutside: outside)
    }
}

private enum LabelReference {
    case named(String)
    case local(UInt64, forward: Bool)
}

private enum JumpTarget {
    /// Instructions from the next one.
    case relative(Int)
    case label(LabelReference, inImmediate: Bool)
}

private struct ParsedInstruction {
    var instructions: [Instruction]
    var target: JumpTarget?

    init(_ instruction: Instruction, target: JumpTarget? = nil) {
        instructions = [instruction]
        self.target = target
    }
}

// MARK: - Instructions

private struct Parser {
    var tokens: [Token]
    var index = 0

    var atEnd: Bool { index >= tokens.count }
    var peek: Token? { atEnd ? nil : tokens[index] }

    mutating func next() throws(StatementProblem) -> Token {
        guard let token = peek else { throw StatementProblem(message: "the statement ends too early") }
        index += 1
        return token
    }

    mutating func accept(_ p: String) -> Bool {
        guard peek == .punctuation(p) || peek == .word(p) else { return false }
        index += 1
        return true
    }

    mutating func expect(_ p: String) throws(StatementProblem) {
        guard accept(p) else { throw StatementProblem(message: "expected '\(p)' \(atEnd ? "at the end" : "before '\(tokens[index])'")") }
    }

    func end() throws(StatementProblem) {
        if !atEnd { throw StatementProblem(message: "unexpected '\(tokens[index])'") }
    }

    func isRegister(_ token: Token?) -> Bool {
        guard case .word(let w)? = token else { return false }
        return parseRegister(w) != nil
    }

    mutating func register() throws(StatementProblem) -> (register: Register, is32: Bool) {
        let token = try next()
        guard case .word(let w) = token, let r = parseRegister(w) else {
            throw StatementProblem(message: "expected a register, not '\(token)'")
        }
        return r
    }

    /// A number with an optional sign; up to 64 bits either way.
    mutating func signedNumber() throws(StatementProblem) -> Int64 {
        let negative = accept("-")
        if !negative { _ = accept("+") }
        let token = try next()
        guard case .number(let magnitude) = token else {
            throw StatementProblem(message: "expected a number, not '\(token)'")
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw StatementProblem(message: "-\(magnitude) is too small") }
            return Int64(truncatingIfNeeded: 0 &- magnitude)
        }
        return Int64(bitPattern: magnitude)
    }

    /// A 32-bit immediate: -2^31 up to 2^32 - 1, as LLVM takes it (0xffffffff is -1).
    mutating func immediate() throws(StatementProblem) -> Int32 {
        let negative = peek == .punctuation("-")
        let value = try signedNumber()
        if !negative, case .number(let magnitude) = tokens[index - 1], magnitude > UInt64(UInt32.max) {
            throw StatementProblem(message: "\(magnitude) does not fit a 32-bit immediate")
        }
        if negative && value < Int64(Int32.min) { throw StatementProblem(message: "\(value) does not fit a 32-bit immediate") }
        return Int32(truncatingIfNeeded: value)
    }

    mutating func offset() throws(StatementProblem) -> Int16 {
        let value = try signedNumber()
        guard let offset = Int16(exactly: value) else { throw StatementProblem(message: "offset \(value) does not fit 16 bits") }
        return offset
    }

    /// `+N`, `-N`, `pc+N`, a label or `1f`/`1b`.
    mutating func jumpTarget(inImmediate: Bool = false) throws(StatementProblem) -> JumpTarget {
        switch peek {
        case .word("pc")?:
            index += 1
            return .relative(Int(try signedNumber()))
        case .word(let name)?:
            index += 1
            return .label(.named(name), inImmediate: inImmediate)
        case .localLabel(let n, let forward)?:
            index += 1
            return .label(.local(n, forward: forward), inImmediate: inImmediate)
        default:
            let distance = try signedNumber()
            guard distance >= Int64(Int32.min), distance <= Int64(Int32.max) else {
                throw StatementProblem(message: "jump offset \(distance) is out of range")
            }
            return .relative(Int(distance))
        }
    }

    /// `(u32 *)`: the access size, and whether it sign-extends (`s8`, `s16`, `s32`).
    mutating func pointerType() throws(StatementProblem) -> (size: UInt8, signed: Bool) {
        try expect("(")
        let token = try next()
        guard case .word(let type) = token, let size = sizeCode(type) else {
            throw StatementProblem(message: "expected u8, u16, u32, u64, s8, s16 or s32, not '\(token)'")
        }
        try expect("*")
        try expect(")")
        return (size, type.hasPrefix("s"))
    }

    /// `(r1 + 8)`, `(r10 -4)`, `(r1)`, without the surrounding parentheses when `parenthesized` is false.
    mutating func base(parenthesized: Bool = true) throws(StatementProblem) -> (Register, Int16) {
        if parenthesized { try expect("(") }
        let (base, _) = try register()
        var offset: Int16 = 0
        if peek == .punctuation("+") || peek == .punctuation("-") { offset = try self.offset() }
        if parenthesized { try expect(")") }
        return (base, offset)
    }

    mutating func instruction() throws(StatementProblem) -> ParsedInstruction {
        let first = try next()
        switch first {
        case .word("exit"):
            return ParsedInstruction(Instruction(opcode: Opcode.classJMP | Opcode.exit))
        case .word("call"):
            return try call()
        case .word("callx"):
            let (r, _) = try register()
            return ParsedInstruction(Instruction(opcode: Opcode.classJMP | Opcode.call | Opcode.sourceX, dst: r))
        case .word("goto"):
            return jump(Instruction(opcode: Opcode.classJMP | Opcode.ja), try jumpTarget())
        case .word("gotol"):
            let target = try jumpTarget(inImmediate: true)
            var instruction = Instruction(opcode: Opcode.classJMP32 | Opcode.ja)
            if case .relative(let n) = target { instruction.imm = Int32(n) }
            return ParsedInstruction(instruction, target: target)
        case .word("may_goto"):
            return jump(Instruction(opcode: Opcode.classJMP | Opcode.jcond), try jumpTarget())
        case .word("if"):
            return try conditionalJump()
        case .word("lock"):
            try expect("*")
            let (size, signed) = try pointerType()
            let (base, offset) = try self.base()
            guard !signed, size == Opcode.sizeW || size == Opcode.sizeDW else {
                throw StatementProblem(message: "atomic operations work on u32 and u64")
            }
            let operation = try next()
            let ops: [String: UInt8] = ["+=": Opcode.add, "|=": Opcode.or, "&=": Opcode.and, "^=": Opcode.xor]
            guard case .punctuation(let p) = operation, let op = ops[p] else {
                throw StatementProblem(message: "lock takes +=, |=, &= or ^=, not '\(operation)'")
            }
            let (source, _) = try register()
            return ParsedInstruction(Instruction(opcode: Opcode.classSTX | Opcode.modeATOMIC | size, dst: base,
                                                 src: source, offset: offset, imm: Int32(op)))
        case .word("store_release"):
            try expect("(")
            let (size, _) = try pointerType()
            let (base, offset) = try self.base()
            try expect(",")
            let (source, _) = try register()
            try expect(")")
            return ParsedInstruction(Instruction(opcode: Opcode.classSTX | Opcode.modeATOMIC | size, dst: base,
                                                 src: source, offset: offset, imm: 0x110))
        case .punctuation("*"):
            let (size, signed) = try pointerType()
            guard !signed else { throw StatementProblem(message: "a store takes u8, u16, u32 or u64") }
            let (base, offset) = try self.base()
            try expect("=")
            if isRegister(peek) {
                let (source, _) = try register()
                return ParsedInstruction(Instruction(opcode: Opcode.classSTX | Opcode.modeMEM | size, dst: base,
                                                     src: source, offset: offset))
            }
            return ParsedInstruction(Instruction(opcode: Opcode.classST | Opcode.modeMEM | size, dst: base,
                                                 offset: offset, imm: try immediate()))
        case .word(let w) where parseRegister(w) != nil:
            index -= 1
            return try registerStatement()
        default:
            throw StatementProblem(message: "unknown instruction '\(first)'")
        }
    }

    func jump(_ instruction: Instruction, _ target: JumpTarget) -> ParsedInstruction {
        var instruction = instruction
        if case .relative(let n) = target { instruction.offset = Int16(truncatingIfNeeded: n) }
        return ParsedInstruction(instruction, target: target)
    }

    mutating func call() throws(StatementProblem) -> ParsedInstruction {
        let opcode = Opcode.classJMP | Opcode.call
        if case .word("pc") = peek {
            index += 1
            return ParsedInstruction(Instruction(opcode: opcode, src: Register(rawValue: Opcode.pseudoCall),
                                                 imm: Int32(truncatingIfNeeded: try signedNumber())))
        }
        if case .number = peek {
            return ParsedInstruction(Instruction(opcode: opcode, imm: try immediate()))
        }
        // The kernel's `bpf_map_lookup_elem#1` and `kernel-function#N`.
        var name = ""
        while let token = peek, token != .punctuation("#") {
            name += token.description
            index += 1
        }
        guard accept("#") else {
            throw StatementProblem(message: "call takes a helper number (call N): a call by name needs a relocation")
        }
        let kfunc = name == "kernel-function"
        return ParsedInstruction(Instruction(opcode: opcode, src: Register(rawValue: kfunc ? Opcode.pseudoKfuncCall : 0),
                                             imm: try immediate()))
    }

    mutating func conditionalJump() throws(StatementProblem) -> ParsedInstruction {
        let (dst, is32) = try register()
        var comparison = try next()
        if comparison == .word("s") {
            let rest = try next()
            comparison = .punctuation("s" + rest.description)
        }
        let operators: [String: UInt8] = [
            "==": Opcode.jeq, "!=": Opcode.jne, ">": Opcode.jgt, ">=": Opcode.jge, "<": Opcode.jlt, "<=": Opcode.jle,
            "s>": Opcode.jsgt, "s>=": Opcode.jsge, "s<": Opcode.jslt, "s<=": Opcode.jsle, "&": Opcode.jset,
        ]
        guard case .punctuation(let p) = comparison, let op = operators[p] else {
            throw StatementProblem(message: "unknown comparison '\(comparison)'")
        }
        let jumpClass = is32 ? Opcode.classJMP32 : Opcode.classJMP
        var instruction: Instruction
        if isRegister(peek) {
            let (src, srcIs32) = try register()
            guard srcIs32 == is32 else { throw StatementProblem(message: "both registers must be rN or both wN") }
            instruction = Instruction(opcode: jumpClass | op | Opcode.sourceX, dst: dst, src: src)
        } else {
            instruction = Instruction(opcode: jumpClass | op | Opcode.sourceK, dst: dst, imm: try immediate())
        }
        try expect("goto")
        return jump(instruction, try jumpTarget())
    }

    /// A statement that starts with a register: `dst = ...` or `dst op= ...`.
    mutating func registerStatement() throws(StatementProblem) -> ParsedInstruction {
        let (dst, is32) = try register()
        let aluClass = is32 ? Opcode.classALU : Opcode.classALU64
        var operation = try next()
        var signed = false
        if operation == .word("s") {
            signed = true
            operation = try next()
        }
        guard case .punctuation(let p) = operation else {
            throw StatementProblem(message: "expected an assignment after '\(is32 ? "w" : "r")\(dst.rawValue)', not '\(operation)'")
        }
        if p == "=" && !signed { return try assignment(dst, is32: is32) }
        let operators: [String: UInt8] = [
            "+=": Opcode.add, "-=": Opcode.sub, "*=": Opcode.mul, "/=": Opcode.div, "%=": Opcode.mod,
            "&=": Opcode.and, "|=": Opcode.or, "^=": Opcode.xor, "<<=": Opcode.lsh, ">>=": Opcode.rsh,
        ]
        guard var op = operators[p] else { throw StatementProblem(message: "unknown operator '\(signed ? "s" : "")\(p)'") }
        var offset: Int16 = 0
        if signed {
            switch op {
            case Opcode.div, Opcode.mod: offset = 1
            case Opcode.rsh: op = Opcode.arsh
            default: throw StatementProblem(message: "unknown operator 's\(p)'")
            }
        }
        if isRegister(peek) {
            let (src, srcIs32) = try register()
            guard srcIs32 == is32 else { throw StatementProblem(message: "both registers must be rN or both wN") }
            return ParsedInstruction(Instruction(opcode: aluClass | op | Opcode.sourceX, dst: dst, src: src, offset: offset))
        }
        return ParsedInstruction(Instruction(opcode: aluClass | op | Opcode.sourceK, dst: dst, offset: offset,
                                             imm: try immediate()))
    }

    mutating func assignment(_ dst: Register, is32: Bool) throws(StatementProblem) -> ParsedInstruction {
        let aluClass = is32 ? Opcode.classALU : Opcode.classALU64
        let name = "\(is32 ? "w" : "r")\(dst.rawValue)"
        switch peek {
        case .word(let w)? where parseRegister(w) != nil:
            let (src, srcIs32) = try register()
            guard srcIs32 == is32 else { throw StatementProblem(message: "both registers must be rN or both wN") }
            return ParsedInstruction(Instruction(opcode: aluClass | Opcode.mov | Opcode.sourceX, dst: dst, src: src))
        case .punctuation("-")? where isRegister(tokens.count > index + 1 ? tokens[index + 1] : nil):
            index += 1
            let (src, srcIs32) = try register()
            guard src == dst, srcIs32 == is32 else { throw StatementProblem(message: "negation is '\(name) = -\(name)'") }
            return ParsedInstruction(Instruction(opcode: aluClass | Opcode.neg, dst: dst))
        case .punctuation("(")?:
            // `(s8)r2`: a sign-extending move.
            index += 1
            let token = try next()
            let widths: [String: Int16] = ["s8": 8, "s16": 16, "s32": 32]
            guard case .word(let type) = token, let bits = widths[type] else {
                throw StatementProblem(message: "expected s8, s16 or s32, not '\(token)'")
            }
            try expect(")")
            let (src, srcIs32) = try register()
            guard srcIs32 == is32 else { throw StatementProblem(message: "both registers must be rN or both wN") }
            return ParsedInstruction(Instruction(opcode: aluClass | Opcode.mov | Opcode.sourceX, dst: dst, src: src,
                                                 offset: bits))
        case .punctuation("*")?:
            index += 1
            let (size, signed) = try pointerType()
            if accept("skb") {
                // Legacy packet access: `r0 = *(u8 *)skb[4]`, `skb[r1]` or `skb[r1 + 4]`.
                try expect("[")
                if isRegister(peek) {
                    let (src, _) = try register()
                    let imm = peek == .punctuation("]") ? 0 : try immediate()
                    try expect("]")
                    return ParsedInstruction(Instruction(opcode: Opcode.classLD | 0x40 | size, src: src, imm: imm))
                }
                let imm = try immediate()
                try expect("]")
                return ParsedInstruction(Instruction(opcode: Opcode.classLD | 0x20 | size, imm: imm))
            }
            let (base, offset) = try self.base()
            if signed && size == Opcode.sizeDW { throw StatementProblem(message: "a load takes s8, s16 or s32 to sign-extend") }
            return ParsedInstruction(Instruction(opcode: Opcode.classLDX | (signed ? Opcode.modeMEMSX : Opcode.modeMEM) | size,
                                                 dst: dst, src: base, offset: offset))
        case .word(let w)?:
            index += 1
            if let (swap, bits) = byteSwap(w) {
                let (src, _) = try register()
                guard src == dst else { throw StatementProblem(message: "'\(w)' swaps a register in place: \(name) = \(w) \(name)") }
                let opcode: UInt8 = switch swap {
                case "le": Opcode.classALU | Opcode.end | Opcode.sourceK
                case "be": Opcode.classALU | Opcode.end | Opcode.sourceX
                default: Opcode.classALU64 | Opcode.end
                }
                return ParsedInstruction(Instruction(opcode: opcode, dst: dst, imm: bits))
            }
            return try namedOperation(w, dst)
        default:
            let start = index
            let value = try signedNumber()
            if accept("ll") {
                guard !is32 else { throw StatementProblem(message: "a 64-bit constant needs an rN register") }
                return ParsedInstruction(loadImm64: dst, value)
            }
            index = start
            return ParsedInstruction(Instruction(opcode: aluClass | Opcode.mov | Opcode.sourceK, dst: dst,
                                                 imm: try immediate()))
        }
    }

    /// `addr_space_cast(...)`, the atomics written as functions, `load_acquire(...)`.
    mutating func namedOperation(_ name: String, _ dst: Register) throws(StatementProblem) -> ParsedInstruction {
        if name == "addr_space_cast" {
            try expect("(")
            let (src, _) = try register()
            try expect(",")
            let to = try signedNumber()
            try expect(",")
            let from = try signedNumber()
            try expect(")")
            guard (0...0xffff).contains(to), (0...0xffff).contains(from) else {
                throw StatementProblem(message: "address spaces are 0 to 65535")
            }
            return ParsedInstruction(Instruction(opcode: Opcode.classALU64 | Opcode.mov | Opcode.sourceX, dst: dst, src: src,
                                                 offset: Opcode.addrSpaceCastOffset, imm: Int32(to << 16 | from)))
        }
        if name == "load_acquire" {
            try expect("(")
            let (size, _) = try pointerType()
            let (base, offset) = try self.base()
            try expect(")")
            // The loaded register is dst, the address src: the other way round from store_release.
            return ParsedInstruction(Instruction(opcode: Opcode.classSTX | Opcode.modeATOMIC | size, dst: dst, src: base,
                                                 offset: offset, imm: 0x100))
        }
        // LLVM's `xchg_64(r1 + 0, r2)`, `cmpxchg32_32(r1 + 0, w0, w2)`: the size in the name.
        let sized: [String: (imm: Int32, size: UInt8)] = [
            "xchg_64": (0xe1, Opcode.sizeDW), "xchg32_32": (0xe1, Opcode.sizeW),
            "cmpxchg_64": (0xf1, Opcode.sizeDW), "cmpxchg32_32": (0xf1, Opcode.sizeW),
        ]
        // LLVM's `atomic_fetch_add((u64 *)(r1 + 0), r2)`, the kernel's `atomic64_xchg((u64 *)(r1 +0), r2)`:
        // the size in the pointer type.
        let typed: [String: Int32] = [
            "fetch_add": 0x01, "fetch_or": 0x41, "fetch_and": 0x51, "fetch_xor": 0xa1, "xchg": 0xe1, "cmpxchg": 0xf1,
        ]
        let operation: Int32
        let size: UInt8
        let base: Register
        let offset: Int16
        try expect("(")
        if let known = sized[name] {
            (operation, size) = known
            (base, offset) = try self.base(parenthesized: false)
        } else if let suffix = ["atomic64_", "atomic_"].first(where: name.hasPrefix).map({ name.dropFirst($0.count) }),
                  let known = typed[String(suffix)] {
            operation = known
            let type = try pointerType()
            guard !type.signed, type.size == Opcode.sizeW || type.size == Opcode.sizeDW else {
                throw StatementProblem(message: "atomic operations work on u32 and u64")
            }
            size = type.size
            (base, offset) = try self.base()
        } else {
            throw StatementProblem(message: "unknown operation '\(name)'")
        }
        try expect(",")
        var (src, _) = try register()
        if operation == 0xf1 {
            // cmpxchg compares with r0 and returns the old value there.
            guard src == .r0, dst == .r0 else { throw StatementProblem(message: "cmpxchg compares with r0 and returns in r0") }
            try expect(",")
            (src, _) = try register()
        } else if src != dst {
            throw StatementProblem(message: "'\(name)' returns the old value in its source register")
        }
        try expect(")")
        return ParsedInstruction(Instruction(opcode: Opcode.classSTX | Opcode.modeATOMIC | size, dst: base, src: src,
                                             offset: offset, imm: operation))
    }
}

extension ParsedInstruction {
    init(loadImm64 dst: Register, _ value: Int64) {
        instructions = [
            Instruction(opcode: Opcode.ldImm64, dst: dst, imm: Int32(truncatingIfNeeded: value)),
            Instruction(opcode: 0, imm: Int32(truncatingIfNeeded: value >> 32)),
        ]
        target = nil
    }
}

private func parseRegister(_ word: String) -> (register: Register, is32: Bool)? {
    guard let first = word.first, first == "r" || first == "w", let n = UInt8(word.dropFirst()), n <= 10,
          word.count <= 3 else { return nil }
    return (Register(rawValue: n), first == "w")
}

private func sizeCode(_ type: String) -> UInt8? {
    switch type {
    case "u8", "s8": Opcode.sizeB
    case "u16", "s16": Opcode.sizeH
    case "u32", "s32": Opcode.sizeW
    case "u64": Opcode.sizeDW
    default: nil
    }
}

/// `be16` → ("be", 16), `bswap64` → ("bswap", 64).
private func byteSwap(_ word: String) -> (String, Int32)? {
    for prefix in ["bswap", "be", "le"] where word.hasPrefix(prefix) {
        if let bits = Int32(word.dropFirst(prefix.count)), [16, 32, 64].contains(bits) { return (prefix, bits) }
    }
    return nil
}
