import Foundation
import BPFDiagnostics
import BPFIR
import CClang

// Statements: control flow becomes blocks and branches. Errors inside one statement are recorded
// and lowering goes on with the next, so one compile reports every unsupported construct.

extension FunctionLowering {
    mutating func lowerStatement(_ s: CXCursor) throws(DiagnosticList) {
        builder.location = s.location
        switch s.kind {
        case CXCursor_CompoundStmt:
            scopes.append(s)
            defer { scopes.removeLast() }
            for child in s.children {
                do {
                    try lowerStatement(child)
                } catch {
                    diagnostics.append(contentsOf: error.diagnostics)
                }
            }
            try endScope(s)
        case CXCursor_DeclStmt:
            for declaration in s.children where declaration.kind == CXCursor_VarDecl {
                try declareLocal(declaration)
            }
        case CXCursor_IfStmt:
            try ifStatement(s)
        case CXCursor_WhileStmt:
            let kids = s.children
            guard kids.count == 2 else { throw failure("malformed while statement", at: s) }
            try loop(condition: kids[0], body: kids[1], step: nil, testFirst: true)
        case CXCursor_DoStmt:
            let kids = s.children
            guard kids.count == 2 else { throw failure("malformed do statement", at: s) }
            try loop(condition: kids[1], body: kids[0], step: nil, testFirst: false)
        case CXCursor_ForStmt:
            try forStatement(s)
        case CXCursor_SwitchStmt:
            try switchStatement(s)
        case CXCursor_CaseStmt, CXCursor_DefaultStmt:
            guard let block = caseBlocks.last?[CursorKey(s)] else {
                throw failure("case label outside a switch", at: s)
            }
            builder.fallThrough(to: block)
            if let body = s.children.last, s.kind == CXCursor_DefaultStmt || s.children.count >= 2 {
                try lowerStatement(body)
            }
        case CXCursor_BreakStmt:
            guard let target = breakTargets.last else { throw failure("break outside a loop or switch", at: s) }
            try runCleanups(downTo: target.cleanupDepth)
            builder.terminate(.jump(target.block))
        case CXCursor_ContinueStmt:
            guard let target = continueTargets.last else { throw failure("continue outside a loop", at: s) }
            try runCleanups(downTo: target.cleanupDepth)
            builder.terminate(.jump(target.block))
        case CXCursor_ReturnStmt:
            // The value is computed before the cleanups run.
            var returned: Value?
            if let value = s.children.first(where: { $0.isExpression }) {
                if let returnSlot, case .aggregate(let size, let alignment) = module.types.classify(value.type) {
                    let source = try aggregateAddress(value)
                    builder.location = s.location
                    builder.emit(.copyMemory(destination: .temp(returnSlot, offset: 0), source: source.address, size: size,
                                             alignment: min(alignment, 8), destinationSpace: 0, sourceSpace: source.space))
                } else if let returnSlot, isWide(value.type) {
                    let returned = try wideRvalue(value)
                    builder.location = s.location
                    try wideStore(returned, to: .memory(.temp(returnSlot, offset: 0), addressSpace: 0), flags: AccessFlags(),
                                  at: value)
                } else if returnsValue {
                    returned = try rvalue(value)
                } else {
                    try discard(value)
                }
            } else if returnsValue {
                returned = .constant(0)
            }
            try runCleanups(downTo: 0)
            builder.location = s.location
            builder.terminate(.return(returned))
        case CXCursor_LabelStmt:
            let block = labelBlock(s)
            builder.fallThrough(to: block)
            if let body = s.children.last { try lowerStatement(body) }
        case CXCursor_GotoStmt:
            let label = s.referenced
            try runCleanups(downTo: cleanups.firstIndex { !encloses($0.scope, label) } ?? cleanups.count)
            builder.terminate(.jump(labelBlock(label)))
        case CXCursor_NullStmt:
            break
        case CXCursor_GCCAsmStmt, CXCursor_AsmStmt:
            try inlineAssembly(s)
        case CXCursor_IndirectGotoStmt:
            throw failure("computed goto: BPF has no indirect jumps", at: s)
        case CXCursor_UnexposedStmt:
            // A statement with attributes (`__attribute__((fallthrough));`, `[[clang::musttail]]`
            // return ...): libclang shows only the statement, which keeps its meaning without them.
            for child in s.children where !child.isAttribute { try lowerStatement(child) }
        default:
            if s.isExpression {
                try discard(s)
            } else {
                throw failure("unsupported statement '\(sourceText(s))'", at: s)
            }
        }
    }

    // MARK: - Cleanups

    /// Runs the cleanups above `depth`, innermost first, as leaving their scopes does.
    private mutating func runCleanups(downTo depth: Int) throws(DiagnosticList) {
        for cleanup in cleanups[depth...].reversed() {
            guard case .memory(let address, _) = locals[CursorKey(cleanup.variable)] else {
                throw failure("cleanup of a local in a register", at: cleanup.variable)
            }
            builder.location = cleanup.variable.location
            let target = try callee(cleanup.function, at: cleanup.variable)
            let pointer = addressValue(address)
            builder.emit(.call(nil, target, [pointer]))
        }
    }

    /// Ends `scope`: its cleanups run unless control left it already (they ran then), and stop
    /// being active.
    private mutating func endScope(_ scope: CXCursor) throws(DiagnosticList) {
        let depth = cleanups.firstIndex { $0.scope.equals(scope) } ?? cleanups.count
        if !builder.isTerminated { try runCleanups(downTo: depth) }
        cleanups.removeSubrange(depth...)
    }

    /// Whether the source of `outer` contains `inner`.
    private func encloses(_ outer: CXCursor, _ inner: CXCursor) -> Bool {
        let range = clang_getCursorExtent(outer)
        let start = clang_getRangeStart(range).expansion, end = clang_getRangeEnd(range).expansion
        let point = inner.location
        return point.file == start.file && (start.line, start.column) <= (point.line, point.column)
            && (point.line, point.column) <= (end.line, end.column)
    }

    mutating func labelBlock(_ label: CXCursor) -> BlockID {
        if let block = labels[CursorKey(label)] { return block }
        let block = builder.makeBlock()
        labels[CursorKey(label)] = block
        return block
    }

    // MARK: - Conditions

    /// Branches to `then` when `e` is non-zero, with `&&`, `||`, `!` and comparisons as jumps.
    mutating func branch(on e: CXCursor, then: BlockID, else otherwise: BlockID) throws(DiagnosticList) {
        builder.location = e.location
        if let constant = foldedConstant(e) {
            builder.terminate(.jump(constant != 0 ? then : otherwise))
            return
        }
        switch e.kind {
        case CXCursor_ParenExpr:
            try branch(on: onlyChild(e), then: then, else: otherwise)
            return
        case CXCursor_UnaryOperator where e.unaryOperator == CXUnaryOperator_LNot:
            try branch(on: onlyChild(e), then: otherwise, else: then)
            return
        case CXCursor_BinaryOperator:
            switch e.binaryOperator {
            case CXBinaryOperator_LAnd:
                let kids = e.children.filter { $0.isExpression }
                let middle = builder.makeBlock()
                try branch(on: kids[0], then: middle, else: otherwise)
                builder.position(at: middle)
                try branch(on: kids[1], then: then, else: otherwise)
                return
            case CXBinaryOperator_LOr:
                let kids = e.children.filter { $0.isExpression }
                let middle = builder.makeBlock()
                try branch(on: kids[0], then: then, else: middle)
                builder.position(at: middle)
                try branch(on: kids[1], then: then, else: otherwise)
                return
            case CXBinaryOperator_LT, CXBinaryOperator_GT, CXBinaryOperator_LE, CXBinaryOperator_GE,
                 CXBinaryOperator_EQ, CXBinaryOperator_NE:
                if let left = e.children.first(where: { $0.isExpression }), isWide(left.type) {
                    try wideBranch(e, then: then, else: otherwise)
                    return
                }
                let (condition, width, a, b) = try comparison(e)
                builder.terminate(.branch(condition, width, a, b, then: then, else: otherwise))
                return
            default:
                break
            }
        default:
            break
        }
        let value = try truthValue(e)
        builder.location = e.location
        builder.terminate(.branch(.ne, .bits64, value, .constant(0), then: then, else: otherwise))
    }

    // MARK: - Control flow

    private mutating func ifStatement(_ s: CXCursor) throws(DiagnosticList) {
        let kids = s.children
        guard kids.count >= 2 else { throw failure("malformed if statement", at: s) }
        if let constant = foldedConstant(kids[0]) {
            // The arm not taken is left out, as clang leaves it out, unless a jump from elsewhere
            // may enter it: bpf_cmp_likely ends in an arm whose asm is no instruction at all.
            let taken: CXCursor? = constant != 0 ? kids[1] : (kids.count == 3 ? kids[2] : nil)
            let skipped: CXCursor? = constant != 0 ? (kids.count == 3 ? kids[2] : nil) : kids[1]
            if !(skipped.map { mayBeEntered($0, switchesOutside: true) } ?? false) {
                if let taken { try lowerStatement(taken) }
                return
            }
        }
        let thenBlock = builder.makeBlock(), done = builder.makeBlock()
        let elseBlock = kids.count == 3 ? builder.makeBlock() : done
        try branch(on: kids[0], then: thenBlock, else: elseBlock)
        builder.position(at: thenBlock)
        try lowerStatement(kids[1])
        if kids.count == 3 {
            if !builder.isTerminated { builder.terminate(.jump(done)) }
            builder.position(at: elseBlock)
            try lowerStatement(kids[2])
        }
        builder.fallThrough(to: done)
    }

    /// Whether a jump from outside `s` may land inside it: at a label, unless a `__label__`
    /// inside `s` declares it (its scope is the block that declares it, as in the statement
    /// expressions of bpf_experimental.h's bpf_cmp_*), or at a `case` or `default` of a switch
    /// around `s` (`switchesOutside`; those of a switch inside `s` only take jumps from there).
    /// `blocks` are the compound statements inside `s` that enclose the cursor.
    private func mayBeEntered(_ s: CXCursor, switchesOutside: Bool, blocks: [CXCursor] = []) -> Bool {
        switch s.kind {
        case CXCursor_LabelStmt:
            if !blocks.contains(where: { declaresLocalLabel($0, s.spelling) }) { return true }
        case CXCursor_CaseStmt, CXCursor_DefaultStmt:
            if switchesOutside { return true }
        default:
            break
        }
        let inner = switchesOutside && s.kind != CXCursor_SwitchStmt
        let innerBlocks = s.kind == CXCursor_CompoundStmt ? blocks + [s] : blocks
        return s.children.contains { mayBeEntered($0, switchesOutside: inner, blocks: innerBlocks) }
    }

    /// Whether the compound statement `scope` declares `name` with `__label__`.
    func declaresLocalLabel(_ scope: CXCursor, _ name: String) -> Bool {
        scope.children.contains { statement in
            statement.kind == CXCursor_DeclStmt
                && statement.children.contains { $0.kind == CXCursor_UnexposedDecl && $0.spelling == name }
        }
    }

    /// `while`, `do`/`while` and the loop part of `for`.
    private mutating func loop(condition: CXCursor?, body: CXCursor, step: CXCursor?, testFirst: Bool) throws(DiagnosticList) {
        let test = builder.makeBlock(), bodyBlock = builder.makeBlock(), done = builder.makeBlock()
        let next = step == nil ? test : builder.makeBlock()
        builder.fallThrough(to: testFirst ? test : bodyBlock)
        if testFirst {
            try loopTest(condition, then: bodyBlock, else: done)
            builder.position(at: bodyBlock)
        }
        breakTargets.append(JumpTarget(block: done, cleanupDepth: cleanups.count))
        continueTargets.append(JumpTarget(block: next, cleanupDepth: cleanups.count))
        defer {
            breakTargets.removeLast()
            continueTargets.removeLast()
        }
        try lowerStatement(body)
        if let step {
            builder.fallThrough(to: next)
            try discard(step)
        }
        builder.fallThrough(to: test)
        if !testFirst {
            try loopTest(condition, then: bodyBlock, else: done)
        }
        builder.position(at: done)
    }

    /// A loop test; a missing condition (`for (;;)`) always continues.
    private mutating func loopTest(_ condition: CXCursor?, then: BlockID, else done: BlockID) throws(DiagnosticList) {
        if let condition {
            try branch(on: condition, then: then, else: done)
        } else {
            builder.terminate(.jump(then))
        }
    }

    /// libclang leaves out the missing parts of `for (init; cond; step)`. Three parts, or none,
    /// need no guessing; otherwise the two `;` inside the parentheses tell which part is which.
    private mutating func forStatement(_ s: CXCursor) throws(DiagnosticList) {
        let kids = s.children
        guard let body = kids.last else { throw failure("malformed for statement", at: s) }
        var parts = Array(kids.dropLast())
        var initializer: CXCursor?, condition: CXCursor?, step: CXCursor?
        if let first = parts.first, !first.isExpression {
            initializer = first
            parts.removeFirst()
        }
        if parts.count == 3 {
            (initializer, condition, step) = (parts[0], parts[1], parts[2])
        } else if !parts.isEmpty {
            let head = spelledHead(s)
            let semicolons = head.filter { $0.depth == 1 && $0.text == ";" }.map(\.offset)
            guard semicolons.count == 2 else { throw failure("cannot read this for statement's header", at: s) }
            for part in parts {
                guard let offset = spelledOffset(of: part, within: head, of: s) else {
                    throw failure("cannot tell the parts of this for statement's header apart", at: s)
                }
                if offset < semicolons[0] {
                    initializer = part
                } else if offset < semicolons[1] {
                    condition = part
                } else {
                    step = part
                }
            }
        }
        // Locals declared in the header live until the loop ends.
        scopes.append(s)
        defer { scopes.removeLast() }
        if let initializer { try lowerStatement(initializer) }
        try loop(condition: condition, body: body, step: step, testFirst: true)
        try endScope(s)
    }

    private mutating func switchStatement(_ s: CXCursor) throws(DiagnosticList) {
        let kids = s.children
        guard let body = kids.last, let condition = kids.dropLast().last(where: { $0.isExpression }) else {
            throw failure("malformed switch statement", at: s)
        }
        if let declaration = kids.first(where: { $0.kind == CXCursor_VarDecl }) { try declareLocal(declaration) }
        let value = try rvalue(condition)
        let signed = try scalar(condition.type, at: condition).isSigned
        var blocks: [CursorKey: BlockID] = [:]
        var labels: [CXCursor] = []
        collectCases(body, into: &labels)
        let done = builder.makeBlock()
        var defaultBlock = done
        for label in labels {
            let block = builder.makeBlock()
            blocks[CursorKey(label)] = block
            if label.kind == CXCursor_DefaultStmt { defaultBlock = block }
        }
        for label in labels where label.kind == CXCursor_CaseStmt {
            let parts = label.children
            guard let target = blocks[CursorKey(label)], let low = parts.first?.integerConstant else {
                throw failure("case value is not a constant", at: label)
            }
            let next = builder.makeBlock()
            builder.location = label.location
            if parts.count == 3, let high = parts[1].integerConstant {
                let inRange = builder.makeBlock()
                builder.terminate(.branch(signed ? .sge : .uge, .bits64, value, .constant(low), then: inRange, else: next))
                builder.position(at: inRange)
                builder.terminate(.branch(signed ? .sle : .ule, .bits64, value, .constant(high), then: target, else: next))
            } else {
                builder.terminate(.branch(.eq, .bits64, value, .constant(low), then: target, else: next))
            }
            builder.position(at: next)
        }
        builder.terminate(.jump(defaultBlock))
        caseBlocks.append(blocks)
        breakTargets.append(JumpTarget(block: done, cleanupDepth: cleanups.count))
        defer {
            caseBlocks.removeLast()
            breakTargets.removeLast()
        }
        builder.position(at: builder.makeBlock())  // code before the first label is unreachable
        try lowerStatement(body)
        builder.fallThrough(to: done)
    }

    /// Case and default labels of one switch body, not of switches nested in it. The body may be
    /// a label itself: `switch (x) case 0: y = 1;`.
    private func collectCases(_ s: CXCursor, into labels: inout [CXCursor]) {
        if s.kind == CXCursor_CaseStmt || s.kind == CXCursor_DefaultStmt { labels.append(s) }
        for child in s.children where child.kind != CXCursor_SwitchStmt && !child.isExpression {
            collectCases(child, into: &labels)
        }
    }

    // MARK: - Declarations

    private mutating func declareLocal(_ declaration: CXCursor) throws(DiagnosticList) {
        if clang_Cursor_hasVarDeclGlobalStorage(declaration) != 0 {
            // A static local is a global named after its function; `extern` declarations need nothing.
            if clang_Cursor_getStorageClass(declaration) != CX_SC_Extern {
                _ = module.globalSymbol(for: declaration)
            }
            return
        }
        let cleanupFunction = try cleanupFunction(of: declaration)
        if cleanupFunction != nil { addressTaken.insert(CursorKey(declaration)) }
        let storage = try allocateLocal(declaration)
        locals[CursorKey(declaration)] = storage
        let initializer = clang_Cursor_getVarDeclInitializer(declaration)
        if !initializer.isNull {
            try initialize(storage, type: declaration.type, with: initializer)
        }
        if let cleanupFunction, let scope = scopes.last {
            cleanups.append(Cleanup(variable: declaration, function: cleanupFunction, scope: scope))
        }
    }

    /// The function `__attribute__((cleanup(f)))` names for a local, if it has one.
    private func cleanupFunction(of declaration: CXCursor) throws(DiagnosticList) -> CXCursor? {
        guard let name = Attributes.identifierArgument(of: "cleanup", in: declaration) else { return nil }
        guard let function = module.function(named: name) else {
            throw failure("cannot find cleanup function '\(name)'", at: declaration)
        }
        return function
    }

    /// Stores an initializer into a fresh local: scalars directly, aggregates zero-filled first.
    mutating func initialize(_ storage: LValue, type: CXType, with e: CXCursor) throws(DiagnosticList) {
        switch module.types.classify(type) {
        case .scalar(let s):
            let value = try rvalue(e)
            store(value, to: storage, scalar: s)
        case .wide:
            try wideStore(try wideRvalue(e), to: storage, flags: AccessFlags(), at: e)
        case .aggregate(let size, let alignment):
            guard case .memory(let address, let space) = storage else { throw failure("aggregate in a register", at: e) }
            if e.kind == CXCursor_InitListExpr || e.kind == CXCursor_StringLiteral {
                builder.location = e.location
                if size <= FunctionLowering.immediateInitializerBytes,
                   let image = constantImage(of: e, type: type, size: size) {
                    storeImage(image, at: address, alignment: alignment, space: space)
                } else {
                    builder.emit(.setMemory(address, byte: 0, size: size, alignment: min(alignment, 8), addressSpace: space))
                    try fill(address, space: space, type: type, with: e)
                }
            } else {
                let source = try aggregateAddress(e)
                builder.location = e.location
                builder.emit(.copyMemory(destination: address, source: source.address, size: size,
                                         alignment: min(alignment, 8), destinationSpace: space, sourceSpace: source.space))
            }
        default:
            throw failure("cannot initialize a value of type '\(type.spelling)'", at: e)
        }
    }

    /// The largest constant initializer stored as immediates: 128 stores of 8 bytes, the most
    /// LLVM's BPF target expands a memcpy into. A larger one is a fill and the non-zero parts, as
    /// the fill's size check needs.
    static let immediateInitializerBytes = 128 * 8

    /// The bytes of an initializer made only of constants (a string, a table), as a global's
    /// would be; nil when some element is computed at run time.
    private func constantImage(of e: CXCursor, type: CXType, size: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: size)
        // An address (`&g`) is no constant on the stack: it is computed when the function runs.
        var writer = InitializerWriter(module: module)
        guard (try? writer.write(e, type: type, into: &bytes, at: 0)) != nil, writer.addresses.isEmpty,
              bytes.count == size else { return nil }
        return bytes
    }

    /// Stores a constant image as immediates, 8 bytes at a time where the alignment allows: a
    /// local array of 8 bytes or more gets an 8-byte alignment for it, as LLVM aligns the stack
    /// object a constant is copied into. So `char fmt[] = "..."` (bpf_printk without global
    /// data) costs a store per 8 bytes, not a store per byte after a fill.
    private mutating func storeImage(_ image: [UInt8], at address: Address, alignment: Int, space: Int) {
        var alignment = alignment
        if case .slot(let slot, 0) = address, builder.slots[slot.index].size == image.count, image.count >= 8 {
            builder.raiseAlignment(of: slot, to: 8)
            alignment = max(alignment, 8)
        }
        for (offset, piece) in pieces(size: image.count, alignment: min(alignment, 8)) {
            let value = image[offset..<offset + piece.rawValue].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            builder.emit(.store(address.advanced(by: offset), .constant(Int64(bitPattern: value)), piece,
                                addressSpace: space))
        }
    }

    /// Stores the non-zero parts of an initializer into zero-filled memory.
    private mutating func fill(_ address: Address, space: Int, type: CXType, with e: CXCursor) throws(DiagnosticList) {
        if e.kind == CXCursor_StringLiteral {
            let bytes = stringLiteralBytes(e).prefix(type.size ?? 0)
            for (i, byte) in bytes.enumerated() where byte != 0 {
                builder.emit(.store(address.advanced(by: i), .constant(Int64(byte)), .byte, addressSpace: space))
            }
            return
        }
        guard e.kind == CXCursor_InitListExpr else {
            if isAggregate(type) {
                let source = try aggregateAddress(e)
                builder.emit(.copyMemory(destination: address, source: source.address, size: type.size ?? 0,
                                         alignment: min(type.alignment ?? 1, 8), destinationSpace: space,
                                         sourceSpace: source.space))
            } else if isWide(type) {
                let value = try wideRvalue(e)
                if value.low != .constant(0) || value.high != .constant(0) {
                    try wideStore(value, to: .memory(address, addressSpace: space), flags: AccessFlags(), at: e)
                }
            } else {
                let s = try scalar(type, at: e)
                let value = try rvalue(e)
                if value != .constant(0) { store(value, to: .memory(address, addressSpace: space), scalar: s) }
            }
            return
        }
        // Element offsets are relative to `address`.
        for (value, target) in try initializerElements(e, type: type, at: 0) {
            let place = address.advanced(by: target.offset)
            if let (field, bitOffset) = target.bitfield {
                let s = try scalar(field.type, at: value)
                guard let bitfield = Bitfield(field: field, recordBitOffset: bitOffset, base: place, addressSpace: space,
                                              isSigned: s.isSigned) else {
                    throw failure("bitfield '\(field.spelling)' straddles its storage unit: not supported", at: value)
                }
                store(try rvalue(value), to: .bitfield(bitfield), scalar: s)
            } else {
                try fill(place, space: space, type: target.type, with: value)
            }
        }
    }

    // MARK: - GNU extensions

    /// `({ ...; value; })`: the statements, then the value of the last expression statement.
    mutating func statementExpression(_ e: CXCursor) throws(DiagnosticList) -> Value {
        try withStatementExpression(e) { this, last throws(DiagnosticList) in
            guard let last else { return .constant(0) }
            if last.isExpression && e.type.canonical.kind != CXType_Void && !this.isAggregate(e.type) {
                return try this.rvalue(last)
            }
            try this.lowerStatement(last)
            return .constant(0)
        }
    }

    /// Lowers the statements of a statement expression but the last, then hands the last to
    /// `value`, inside the expression's scope. C gives the value of the last expression
    /// statement, labels included (`({ ...; goto ok; out: more = 0; ok: more; })` in can_loop-style
    /// macros), so labels in front of it are lowered here.
    mutating func withStatementExpression<T>(
        _ e: CXCursor, _ value: (inout Self, CXCursor?) throws(DiagnosticList) -> T
    ) throws(DiagnosticList) -> T {
        guard let compound = e.children.first(where: { $0.kind == CXCursor_CompoundStmt }) else {
            throw failure("malformed statement expression", at: e)
        }
        scopes.append(compound)
        defer { scopes.removeLast() }
        let statements = compound.children
        for statement in statements.dropLast() { try lowerStatement(statement) }
        guard var last = statements.last else { return try value(&self, nil) }
        while last.kind == CXCursor_LabelStmt, let body = last.children.last {
            builder.fallThrough(to: labelBlock(last))
            last = body
        }
        let result = try value(&self, last)
        try endScope(compound)
        return result
    }
}
