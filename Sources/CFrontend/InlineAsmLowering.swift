import BPFDiagnostics
import BPFInstructions
import Foundation
import BPFIR
import CClang

// Inline assembly: GCC's `asm [volatile] [goto] ("template" : outputs : inputs : clobbers : labels)`
// in BPF's pseudo-C assembly.
//
// libclang shows only the operand expressions (outputs, then inputs); the template, constraints,
// `[name]`s, clobbers and labels are read from the statement as clang prints the function
// (libclang-c-subset.md §5). Printed from the AST, the text has every macro expanded and each
// string made one literal, so a template joined from a macro's arguments (`"if %[lhs] " OP
// " %[rhs] goto %l[l_true]"` with `OP` a stringified operator, as in bpf_experimental.h's
// bpf_cmp_likely) reads as the compiler sees it.
// Constraints: `=r`, `=&r`, `+r` outputs; `r`, `i`/`n`, `ri` and tied (`"0"`) inputs; LLVM's `w`
// in place of `r` writes the register as its 32-bit half (`w3`), as `%w0` does. A `+r`
// operand, and an output with an input tied to it, become one read-write register. The template
// keeps its operand references for code generation to fill in with registers; here it is
// assembled once with stand-in registers, so that bad assembly is reported at the statement even
// with -emit-ir.

/// The parts of an asm statement that libclang keeps in its tokens.
private struct AsmSyntax {
    struct Operand {
        var name: String?
        var constraint: String
    }

    var isGoto = false
    var template = ""
    var outputs: [Operand] = []
    var inputs: [Operand] = []
    var clobbers: [String] = []
    var labels: [String] = []
}

private struct AsmSyntaxError: Error {
    var message: String
}

/// A token of an asm statement's printed text, with the open parentheses before it in the
/// statement, counting itself when it is `(`.
struct AsmToken {
    var text: String
    var depth: Int
}

extension FunctionLowering {
    mutating func inlineAssembly(_ s: CXCursor) throws(DiagnosticList) {
        let syntax: AsmSyntax
        do {
            syntax = try parseAsmStatement(printedAsmStatement(s))
        } catch {
            throw failure("inline assembly: \(error.message)", at: s)
        }
        if isAddrSpaceCastTemplate(syntax.template.trimmingCharacters(in: .whitespacesAndNewlines)) && syntax.outputs.count + syntax.inputs.count == 1 {
            // `rX = addr_space_cast(rX, 0, 1)` or `(rX, 1, 0)` on one pointer (cast_kern/cast_user
            // written by hand): arena pointers stay in user form here and every arena access is
            // cast already, so there is nothing to emit.
            return
        }
        let expressions = s.children.filter(\.isExpression)
        guard expressions.count == syntax.outputs.count + syntax.inputs.count else {
            throw failure("inline assembly: \(syntax.outputs.count + syntax.inputs.count) operands spelled, "
                          + "\(expressions.count) expressions seen", at: s)
        }
        if syntax.isGoto && !syntax.outputs.isEmpty {
            throw failure("asm goto with outputs is not supported: pass values in and out through inputs and memory",
                          at: s)
        }
        var clobbers: [Int] = []
        for name in syntax.clobbers where name != "memory" && name != "cc" {
            guard let first = name.first, first == "r" || first == "w", let n = Int(name.dropFirst()), (0...9).contains(n)
            else {
                throw failure("inline assembly clobbers '\(name)': BPF asm clobbers registers r0-r9, \"memory\" or \"cc\"",
                              at: s)
            }
            clobbers.append(n)
        }

        // Outputs: where each goes, and the Temp the asm writes it in.
        var operands: [AsmOperand] = []
        /// Operands with LLVM's `w` constraint: a register written as its 32-bit half, `wN`.
        var halfWordOperands: Set<Int> = []
        var places: [(temp: Temp, place: LValue, scalar: Scalar)] = []
        for (k, output) in syntax.outputs.enumerated() {
            var constraint = Substring(output.constraint)
            let readWrite = constraint.first == "+"
            guard readWrite || constraint.first == "=" else {
                throw failure("inline assembly output \(k) has constraint '\(output.constraint)': an output starts with '=' or '+'",
                              at: s)
            }
            constraint = constraint.dropFirst()
            let early = constraint.first == "&"
            if early { constraint = constraint.dropFirst() }
            guard constraint == "r" || constraint == "w" else { throw unsupportedConstraint(output.constraint, at: s) }
            if constraint == "w" { halfWordOperands.insert(k) }
            let e = expressions[k]
            let scalar = try self.scalar(e.type, at: e)
            let place = try lvalue(e)
            let t = temp()
            if readWrite { builder.emit(.copy(t, load(place, scalar: scalar))) }
            operands.append(readWrite ? .inputOutput(t, earlyClobber: early) : .output(t, earlyClobber: early))
            places.append((t, place, scalar))
        }
        for (k, input) in syntax.inputs.enumerated() {
            let e = expressions[syntax.outputs.count + k]
            let constraint = input.constraint
            if let tied = Int(constraint) {
                guard tied < syntax.outputs.count, case .output(let t, let early) = operands[tied] else {
                    throw failure("inline assembly input \(constraint) must name an output not already tied or read-write",
                                  at: s)
                }
                builder.emit(.copy(t, try rvalue(e)))
                operands[tied] = .inputOutput(t, earlyClobber: early)
                operands.append(.tied(tied))
                continue
            }
            guard !constraint.isEmpty, constraint.allSatisfy({ "rwin".contains($0) }) else {
                throw unsupportedConstraint(constraint, at: s)
            }
            if constraint.contains("w") { halfWordOperands.insert(operands.count) }
            let register = constraint.contains("r") || constraint.contains("w")
            let immediate = constraint.contains("i") || constraint.contains("n")
            if immediate && !register, let constant = foldedConstant(e) {
                operands.append(.immediate(constant))
            } else if register {
                _ = try self.scalar(e.type, at: e)
                let value = try rvalue(widestValue(e))
                operands.append(immediate ? .registerOrImmediate(value) : .input(value))
            } else {
                throw failure("inline assembly input '\(constraint)' needs an integer constant expression", at: e)
            }
        }

        let template: [AsmTemplatePiece]
        do {
            template = try asmTemplate(syntax, offset: clang_getCursorExtent(s).hashValueForUniqueNumber)
        } catch {
            throw failure("inline assembly: \(error.message)", at: s)
        }
        let asm = InlineAsm(template: template.map { piece in
            guard case .operand(let n, _) = piece, halfWordOperands.contains(n) else { return piece }
            return .operand(n, halfWord: true)
        }, operands: operands, clobbers: clobbers)
        var labelBlocks: [BlockID] = []
        for name in syntax.labels {
            guard let label = findLabel(named: name) else { throw failure("inline assembly: cannot find label '\(name)'", at: s) }
            labelBlocks.append(labelBlock(label))
        }
        let code = try checkAssembly(asm, template: syntax.template, labelCount: labelBlocks.count, at: s)
        builder.location = s.location
        if !syntax.isGoto {
            builder.emit(.inlineAsm(asm))
            for (t, place, scalar) in places { store(fit(.temp(t), to: scalar), to: place, scalar: scalar) }
            return
        }
        let next = builder.makeBlock()
        if let bail = labelBlocks.first, labelBlocks.count == 1, operands.isEmpty, code.instructions.count == 1,
           code.instructions[0].opcode == Opcode.classJMP | Opcode.jcond, code.externalJumps.count == 1 {
            // `may_goto %l[l_break]` alone (can_loop, cond_break): the IR's own may_goto.
            builder.terminate(.mayGoto(bail: bail, next: next))
        } else {
            builder.terminate(.inlineAsmGoto(asm, labels: labelBlocks, next: next))
        }
        builder.position(at: next)
    }

    /// The statement's tokens from `asm` through its closing `)`, as clang prints them. The
    /// function is printed once; its k-th asm statement in the printed body is the k-th
    /// GCCAsmStmt of its cursor tree, both being in the AST's order.
    private mutating func printedAsmStatement(_ s: CXCursor) throws(AsmSyntaxError) -> [AsmToken] {
        if printedAsmStatements == nil {
            var cursors: [CXCursor] = []
            func collect(_ cursor: CXCursor) {
                for child in cursor.children {
                    if child.kind == CXCursor_GCCAsmStmt { cursors.append(child) }
                    collect(child)
                }
            }
            collect(declaration)
            let printed = asmStatements(inPrintedFunction: declaration.printedDefinition)
            guard printed.count == cursors.count else {
                throw AsmSyntaxError(message: "cannot match the asm statements of '\(declaration.spelling)' to its "
                                     + "printed text (\(cursors.count) statements, \(printed.count) printed)")
            }
            printedAsmStatements = Dictionary(uniqueKeysWithValues: zip(cursors.map(CursorKey.init), printed))
        }
        guard let tokens = printedAsmStatements?[CursorKey(s)] else {
            throw AsmSyntaxError(message: "cannot find the statement in '\(declaration.spelling)'")
        }
        return tokens
    }

    /// A register input narrower than the register has unspecified upper bits (LLVM extends it
    /// with whatever the register holds), so the value is taken from before its narrowing
    /// conversions and needs no extension: bpf_cmp_likely's `"r"((short)LHS)` compares all of
    /// LHS, as clang-19's code does.
    private func widestValue(_ e: CXCursor) -> CXCursor {
        guard e.kind == CXCursor_ParenExpr || e.kind == CXCursor_CStyleCastExpr || e.kind == CXCursor_UnexposedExpr,
              let operand = e.children.last(where: \.isExpression) else { return e }
        if e.kind == CXCursor_ParenExpr { return widestValue(operand) }
        guard case .scalar(.integer(let size, _)) = module.types.classify(e.type),
              case .scalar(.integer(let operandSize, _)) = module.types.classify(operand.type),
              operandSize > size else { return e }
        return widestValue(operand)
    }

    private func unsupportedConstraint(_ constraint: String, at s: CXCursor) -> DiagnosticList {
        failure("inline assembly constraint '\(constraint)' is not supported: BPF asm operands are registers "
                + "(\"r\", \"=r\", \"+r\", or \"w\" for 32 bits), immediates (\"i\", \"n\") or inputs tied to an output (\"0\")", at: s)
    }

    /// Assembles the template with stand-in registers, to report bad assembly where it is written:
    /// the message quotes the template's line as written, operand references and all.
    private func checkAssembly(_ asm: InlineAsm, template: String, labelCount: Int, at s: CXCursor)
        throws(DiagnosticList) -> AssembledCode
    {
        var spelled: [String] = []
        for (i, operand) in asm.operands.enumerated() {
            switch operand {
            case .input, .output, .inputOutput: spelled.append("r\(i % 10)")
            case .tied(let n): spelled.append(spelled[n])
            case .immediate, .registerOrImmediate: spelled.append(operand.immediate.map { String($0) } ?? "r\(i % 10)")
            }
        }
        let lines = template.split(separator: "\n", omittingEmptySubsequences: false)
        func report(_ error: AssemblyError) -> DiagnosticList {
            let line = error.line <= lines.count ? lines[error.line - 1].trimmingCharacters(in: .whitespaces) : error.statement
            return failure("inline assembly, line \(error.line) '\(line)': \(error.message)", at: s)
        }
        let code: AssembledCode
        do {
            code = try assemble(asm.text { spelled[$0] }, externalLabels: Set((0..<labelCount).map(InlineAsm.labelName)))
        } catch {
            throw report(error)
        }
        if let problem = code.jumpsOutside.first { throw report(problem) }
        return code
    }

    /// `%[p] = addr_space_cast(%[p], 0, 1)` and the like: one operand, cast to or from the arena.
    private func isAddrSpaceCastTemplate(_ text: String) -> Bool {
        let compact = text.filter { !$0.isWhitespace }
        guard let equals = compact.firstIndex(of: "=") else { return false }
        let target = compact[..<equals]
        let rest = compact[compact.index(after: equals)...]
        return rest == "addr_space_cast(\(target),0,1)" || rest == "addr_space_cast(\(target),1,0)"
    }

    /// A label named in asm goto: a `__label__` of the innermost enclosing scope that declares it,
    /// otherwise the function's own label.
    private func findLabel(named name: String) -> CXCursor? {
        for scope in scopes.reversed() where declaresLocalLabel(scope, name) {
            if let label = labelStatement(named: name, in: scope) { return label }
        }
        guard let body = declaration.children.last(where: { $0.kind == CXCursor_CompoundStmt }) else { return nil }
        return labelStatement(named: name, in: body)
    }

    private func labelStatement(named name: String, in cursor: CXCursor) -> CXCursor? {
        for child in cursor.children {
            if child.kind == CXCursor_LabelStmt && child.spelling == name { return child }
            if let found = labelStatement(named: name, in: child) { return found }
        }
        return nil
    }
}

extension CXSourceRange {
    /// A number for `%=`, which only needs to differ between asm statements.
    var hashValueForUniqueNumber: Int {
        var offset: UInt32 = 0
        clang_getSpellingLocation(clang_getRangeStart(self), nil, nil, nil, &offset)
        return Int(offset)
    }
}

/// The asm statements of a function's printed text, in order: `asm`, its qualifiers, and its
/// parenthesized part. Clang prints each statement on a line of its own, so an asm statement
/// starts a line; an asm label (`extern int y asm("z");`, `int f(void) asm("g")`) follows its
/// declarator on the declaration's line.
private func asmStatements(inPrintedFunction text: String) -> [[AsmToken]] {
    let tokens = printedTokens(text)
    var statements: [[AsmToken]] = []
    var i = 0
    while i < tokens.endIndex {
        defer { i += 1 }
        guard tokens[i].text == "asm", tokens[i].startsLine else { continue }
        var statement = [AsmToken(text: "asm", depth: 0)]
        var j = i + 1
        while j < tokens.endIndex, ["volatile", "inline", "goto"].contains(tokens[j].text) {
            statement.append(AsmToken(text: tokens[j].text, depth: 0))
            j += 1
        }
        guard j < tokens.endIndex, tokens[j].text == "(" else { continue }
        var depth = 0
        while j < tokens.endIndex {
            if tokens[j].text == "(" { depth += 1 }
            statement.append(AsmToken(text: tokens[j].text, depth: depth))
            if tokens[j].text == ")" {
                depth -= 1
                if depth == 0 { break }
            }
            j += 1
        }
        statements.append(statement)
        i = j
    }
    return statements
}

/// C text as clang prints it, in tokens: string and character literals whole, identifiers and
/// numbers whole, every other character a token of its own (`::` is two `:`, which is how the
/// asm statement's sections are counted). `startsLine`: no token before it on its line.
private func printedTokens(_ text: String) -> [(text: String, startsLine: Bool)] {
    let characters = Array(text.unicodeScalars)
    var tokens: [(text: String, startsLine: Bool)] = []
    var lineStart = true
    var i = 0
    func isWord(_ c: Unicode.Scalar) -> Bool { c == "_" || c == "." || c.properties.isAlphabetic || ("0"..."9").contains(c) }
    while i < characters.count {
        let c = characters[i]
        let start = i
        i += 1
        if c == "\"" || c == "'" {
            while i < characters.count && characters[i] != c {
                i += characters[i] == "\\" ? 2 : 1
            }
            i = min(i + 1, characters.count)
        } else if isWord(c) {
            while i < characters.count && isWord(characters[i]) { i += 1 }
        } else if c.properties.isWhitespace {
            if c == "\n" { lineStart = true }
            continue
        }
        var token = String.UnicodeScalarView()
        token.append(contentsOf: characters[start..<i])
        tokens.append((String(token), lineStart))
        lineStart = false
    }
    return tokens
}

/// Reads `asm volatile goto ("..." : [name] "=r" (x), ... : ... : "r0", "memory" : label)` from
/// the statement's tokens.
private func parseAsmStatement(_ tokens: [AsmToken]) throws(AsmSyntaxError) -> AsmSyntax {
    var syntax = AsmSyntax()
    guard let open = tokens.firstIndex(where: { $0.text == "(" }) else {
        throw AsmSyntaxError(message: "cannot read the statement")
    }
    syntax.isGoto = tokens[..<open].contains { $0.text == "goto" }
    // The parts between the parentheses at the statement's own depth, split at its colons.
    var sections: [[AsmToken]] = [[]]
    for token in tokens[(open + 1)...].dropLast() {
        if token.depth == 1 && token.text == ":" {
            sections.append([])
        } else if token.depth == 1 && token.text == "::" {
            sections += [[], []]
        } else {
            sections[sections.count - 1].append(token)
        }
    }
    guard sections[0].allSatisfy({ $0.text.hasSuffix("\"") }), !sections[0].isEmpty else {
        throw AsmSyntaxError(message: "cannot read the template '\(sections[0].map(\.text).joined(separator: " "))'")
    }
    syntax.template = sections[0].map(decodedString).joined()
    func items(_ section: Int) -> [[AsmToken]] {
        guard section < sections.count, !sections[section].isEmpty else { return [] }
        var result: [[AsmToken]] = [[]]
        for token in sections[section] {
            if token.depth == 1 && token.text == "," { result.append([]) } else { result[result.count - 1].append(token) }
        }
        return result
    }
    func operand(_ tokens: [AsmToken]) throws(AsmSyntaxError) -> AsmSyntax.Operand {
        var rest = tokens[...]
        var name: String?
        if rest.first?.text == "[" {
            guard rest.count >= 3, rest[rest.startIndex + 2].text == "]" else {
                throw AsmSyntaxError(message: "cannot read the operand '\(tokens.map(\.text).joined(separator: " "))'")
            }
            name = rest[rest.startIndex + 1].text
            rest = rest.dropFirst(3)
        }
        let strings = rest.prefix { $0.text.hasSuffix("\"") }
        guard !strings.isEmpty, rest.dropFirst(strings.count).first?.text == "(" else {
            throw AsmSyntaxError(message: "cannot read the operand '\(tokens.map(\.text).joined(separator: " "))': "
                                 + "its constraint must be a string literal")
        }
        return AsmSyntax.Operand(name: name, constraint: strings.map(decodedString).joined())
    }
    syntax.outputs = try items(1).map(operand)
    syntax.inputs = try items(2).map(operand)
    syntax.clobbers = items(3).map { $0.map(decodedString).joined() }
    syntax.labels = items(4).compactMap { $0.first?.text }
    if sections.count > 5 { throw AsmSyntaxError(message: "too many ':' sections") }
    return syntax
}

/// The text of one string literal token.
private func decodedString(_ token: AsmToken) -> String {
    String(decoding: stringLiteralBytes(spelling: token.text, width: 1), as: UTF8.self)
}

/// The template with C's `%` escapes read: `%%`, `%=`, `%N`, `%[name]`, `%wN`, `%lN`, `%l[name]`.
private func asmTemplate(_ syntax: AsmSyntax, offset: Int) throws(AsmSyntaxError) -> [AsmTemplatePiece] {
    let operandNames = (syntax.outputs + syntax.inputs).map(\.name)
    let operandCount = operandNames.count
    var pieces: [AsmTemplatePiece] = []
    var text = ""
    let characters = Array(syntax.template)
    var i = 0
    func flush() {
        if !text.isEmpty { pieces.append(.text(text)) }
        text = ""
    }
    /// `N` or `[name]` at i: an operand number (labels numbered after the operands).
    func reference(labels: Bool) throws(AsmSyntaxError) -> Int {
        if i < characters.count, characters[i] == "[" {
            guard let close = characters[i...].firstIndex(of: "]") else {
                throw AsmSyntaxError(message: "'%[' without ']' in the template")
            }
            let name = String(characters[(i + 1)..<close])
            i = close + 1
            if labels, let label = syntax.labels.firstIndex(of: name) { return operandCount + label }
            guard let n = operandNames.firstIndex(of: name) else {
                throw AsmSyntaxError(message: "the template names '%[\(name)]', which is no \(labels ? "label" : "operand")")
            }
            return n
        }
        let digits = characters[i...].prefix { $0.isNumber }
        guard let n = Int(String(digits)) else {
            throw AsmSyntaxError(message: "'%' in the template must be followed by an operand number or [name]")
        }
        i += digits.count
        return n
    }
    while i < characters.count {
        let c = characters[i]
        i += 1
        guard c == "%" else {
            text.append(c)
            continue
        }
        guard i < characters.count else { throw AsmSyntaxError(message: "the template ends with '%'") }
        switch characters[i] {
        case "%":
            text.append("%")
            i += 1
        case "=":
            text += String(offset)
            i += 1
        case "l":
            i += 1
            let n = try reference(labels: true)
            guard n >= operandCount, n < operandCount + syntax.labels.count else {
                throw AsmSyntaxError(message: "'%l\(n)' is no asm goto label: labels are numbered from \(operandCount)")
            }
            flush()
            pieces.append(.label(n - operandCount))
        case "w":
            i += 1
            flush()
            let n = try reference(labels: false)
            guard n < operandCount else { throw AsmSyntaxError(message: "'%w\(n)' is no operand") }
            pieces.append(.operand(n, halfWord: true))
        case "[", "0"..."9":
            flush()
            let n = try reference(labels: false)
            guard n < operandCount else { throw AsmSyntaxError(message: "'%\(n)' is no operand: there are \(operandCount)") }
            pieces.append(.operand(n, halfWord: false))
        default:
            throw AsmSyntaxError(message: "the operand modifier '%\(characters[i])' is not supported (BPF knows %w)")
        }
    }
    flush()
    return pieces
}
