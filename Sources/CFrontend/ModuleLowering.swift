import BPFDiagnostics
import BPFIR
import CClang
import Foundation

/// A C file lowered to IR, with what else its parse tells the driver.
public struct LoweredUnit {
    public var module: Module
    /// clang's warnings, which do not stop compilation.
    public var warnings: [Diagnostic]
    /// The files read, the main file first (for dependency files and the prefix cache).
    public var files: [IncludedFile]
    /// The clang command line the file was parsed with (what `-v` shows).
    public var clangArguments: [String]
}

/// Lowers a C file to an IR `Module`: the entry point of the frontend.
///
/// Top-level declarations are read in source order. Functions with a body become IR functions;
/// global variables become `GlobalVariable`s with their initial bytes; kernel functions and
/// variables (`__ksym`) and kernel configuration (`__kconfig`) become externs when used. Static functions and variables nobody references are
/// dropped, as clang drops them; helper pointers from `bpf_helper_defs.h` are never data.
/// With `prefix` (and the main file's text with that prefix blanked), the file is parsed against
/// the precompiled header, or without it when it cannot stand in for the prefix.
public func lowerTranslationUnit(path: String, options: FrontendOptions,
                                 prefix: (header: PrecompiledPrefix, contents: [UInt8])? = nil)
    throws(DiagnosticList) -> LoweredUnit
{
    let precompiled = prefix.flatMap {
        ParsedUnit.parse(path: path, options: options, prefix: $0.header, contents: $0.contents)
    }
    let parsed: ParsedUnit
    if let precompiled {
        parsed = precompiled
    } else {
        parsed = try ParsedUnit.parse(path: path, options: options)
    }
    let lowering = ModuleLowering(parsed: parsed, strictAliasing: options.strictAliasing)
    return LoweredUnit(module: try lowering.run(), warnings: parsed.diagnostics.filter { $0.severity == .warning },
                       files: parsed.includedFiles(), clangArguments: parsed.arguments)
}

/// A declaration's attributes as written, recovered from its pretty-printed text because libclang
/// exposes `section`, `weak` and `btf_decl_tag` only as unexposed attributes.
///
/// As in clang, what any declaration of a function or variable says applies to all of them:
/// libbpf's `BPF_PROG` puts `SEC()` on a prototype and defines the function after it.
struct Attributes {
    var section: String?
    var isWeak = false
    var isHidden = false
    /// `used`: kept even when nothing refers to it.
    var isUsed = false
    var declTags: [String] = []
    var inlineHint = InlineHint.none

    init(_ declaration: CXCursor) {
        guard clang_Cursor_hasAttrs(declaration) != 0 else { return }
        let text = declaration.prettyPrinted
        section = Attributes.arguments(of: "section", in: text).first
        isWeak = text.contains("__attribute__((weak))")
        isHidden = Attributes.arguments(of: "visibility", in: text).last == "hidden"
        isUsed = text.contains("__attribute__((used))")
        inlineHint = text.contains("__attribute__((noinline))") ? .never
            : text.contains("__attribute__((always_inline))") ? .always : .none
        declTags = Attributes.arguments(of: "btf_decl_tag", in: text)
    }

    var symbolAttributes: SymbolAttributes { SymbolAttributes(isWeak: isWeak, isHidden: isHidden, isUsed: isUsed) }

    /// The union of what the `declarations` of one entity say, in source order (a section named
    /// twice keeps the first, as clang requires both to agree).
    init(merging declarations: [CXCursor]) {
        for declaration in declarations {
            let one = Attributes(declaration)
            section = section ?? one.section
            isWeak = isWeak || one.isWeak
            isHidden = isHidden || one.isHidden
            isUsed = isUsed || one.isUsed
            if one.inlineHint != .none { inlineHint = one.inlineHint }
            declTags += one.declTags.filter { !declTags.contains($0) }
        }
    }

    /// The identifier in `__attribute__((NAME(identifier)))` on `declaration` (`cleanup(f)`).
    static func identifierArgument(of name: String, in declaration: CXCursor) -> String? {
        guard clang_Cursor_hasAttrs(declaration) != 0 else { return nil }
        let text = declaration.prettyPrinted
        guard let start = text.range(of: "__attribute__((\(name)(") else { return nil }
        let identifier = text[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return identifier.isEmpty ? nil : String(identifier)
    }

    /// Every string argument of `__attribute__((NAME("...")))` in `text`.
    private static func arguments(of name: String, in text: String) -> [String] {
        var result: [String] = []
        var rest = text[...]
        let opening = "__attribute__((\(name)(\""
        while let start = rest.range(of: opening) {
            let after = rest[start.upperBound...]
            guard let end = after.range(of: "\")))") else { break }
            result.append(String(after[..<end.lowerBound]))
            rest = after[end.upperBound...]
        }
        return result
    }
}

final class ModuleLowering {
    let parsed: ParsedUnit
    var types = TypeLowering()
    var diagnostics: [Diagnostic] = []
    var globals: [GlobalVariable] = []
    /// Global variables already lowered (or being lowered), by declaration, with their symbol.
    var globalSymbols: [CursorKey: String] = [:]
    /// Variables already reported as having no definition, so each is reported once.
    private var undefinedGlobals: Set<CursorKey> = []
    var functions: [Function] = []
    var externs: [Extern] = []
    private var stringCount = 0
    /// Whether each record declaration is marked `preserve_access_index` (see `preservesAccessIndex`).
    var preservedRecords: [CursorKey: Bool] = [:]
    private var sourceLines: [String: [String]] = [:]

    /// Every file-scope declaration of each function and variable, by canonical declaration.
    private var redeclarations: [CursorKey: [CXCursor]] = [:]

    /// Whether loads and stores may be marked typed (see `AccessFlags.isTyped`).
    let strictAliasing: Bool

    init(parsed: ParsedUnit, strictAliasing: Bool) {
        self.parsed = parsed
        self.strictAliasing = strictAliasing
        for cursor in parsed.topLevelDeclarations {
            redeclarations[CursorKey(clang_getCanonicalCursor(cursor)), default: []].append(cursor)
        }
    }

    /// The last file-scope declaration of the function `name`.
    func function(named name: String) -> CXCursor? {
        if functionsByName.isEmpty {
            for cursor in parsed.topLevelDeclarations where cursor.kind == CXCursor_FunctionDecl {
                functionsByName[cursor.spelling] = cursor
            }
        }
        return functionsByName[name]
    }

    private var functionsByName: [String: CXCursor] = [:]

    /// Every declaration of the function or variable `declaration` declares, in source order.
    func declarations(of declaration: CXCursor) -> [CXCursor] {
        let all = redeclarations[CursorKey(clang_getCanonicalCursor(declaration))] ?? []
        return all.contains(where: { $0.equals(declaration) }) ? all : all + [declaration]
    }

    /// The attributes of a function or variable, from all its declarations.
    func attributes(of declaration: CXCursor) -> Attributes {
        Attributes(merging: declarations(of: declaration))
    }

    var unit: CXTranslationUnit { parsed.unit }

    func error(_ message: String, at location: SourceLocation?) {
        diagnostics.append(.error(message, at: location))
    }

    func run() throws(DiagnosticList) -> Module {
        for cursor in parsed.topLevelDeclarations {
            switch cursor.kind {
            case CXCursor_FunctionDecl where clang_isCursorDefinition(cursor) != 0:
                lowerFunction(cursor)
            case CXCursor_VarDecl:
                lowerTopLevelVariable(cursor)
            default:
                continue
            }
        }
        var module = Module(functions: functions, globals: globals, externs: externs, types: types.table,
                            mainFile: parsed.path)
        module = pruneUnreferenced(module)
        checkCallGraph(module)
        checkSectionSizes(module)
        if !diagnostics.isEmpty {
            // In source order, as clang reports.
            let ordered = diagnostics.enumerated().sorted { a, b in
                let x = a.element.location, y = b.element.location
                if x?.file != y?.file || x == nil || y == nil { return a.offset < b.offset }
                return (x?.line ?? 0, x?.column ?? 0, a.offset) < (y?.line ?? 0, y?.column ?? 0, b.offset)
            }.map(\.element)
            throw DiagnosticList(ordered)
        }
        module.sourceLines = loadSources(module)
        return module
    }

    /// Problems in static functions, reported only if something reachable calls them: clang says
    /// nothing about an unused `static inline` helper in a header (bpf_helpers.h has some that use
    /// inline assembly we do not assemble), and neither do we.
    private var staticFunctionProblems: [String: [Diagnostic]] = [:]
    /// The functions each function names in a call, recorded even when it failed to lower, so
    /// that a reachable function that failed still leads to the problems of those it calls.
    var calledFunctions: [String: Set<String>] = [:]
    /// Programs and global functions that failed to lower: what they call is still reachable.
    private var unloweredRoots: [String] = []

    private func lowerFunction(_ cursor: CXCursor) {
        var lowering = FunctionLowering(module: self, declaration: cursor)
        do {
            functions.append(try lowering.lower())
        } catch {
            if clang_getCursorLinkage(cursor) == CXLinkage_Internal && attributes(of: cursor).section == nil {
                staticFunctionProblems[cursor.spelling] = error.diagnostics
            } else {
                diagnostics.append(contentsOf: error.diagnostics)
                unloweredRoots.append(cursor.spelling)
            }
        }
    }

    /// File-scope variables: definitions become globals; helper pointers and extern declarations do not.
    private func lowerTopLevelVariable(_ cursor: CXCursor) {
        if helperNumber(cursor) != nil { return }
        if clang_Cursor_getStorageClass(cursor) == CX_SC_Extern { return }
        // A tentative definition seen twice names one variable; lower it at its first sighting.
        _ = globalSymbol(for: cursor)
    }

    /// The symbol of a global variable, lowering it on first use.
    func globalSymbol(for declaration: CXCursor) -> String? {
        let canonical = clang_getCanonicalCursor(declaration)
        if let symbol = globalSymbols[CursorKey(canonical)] { return symbol }
        let definition = clang_getCursorDefinition(canonical)
        // clang_getCursorDefinition ignores tentative definitions (`int x;`), so a function using
        // `extern int x;` before one would find none: take the first declaration not `extern`.
        let tentative = declarations(of: canonical).first { clang_Cursor_getStorageClass($0) != CX_SC_Extern }
        let cursor = definition.isNull ? tentative ?? canonical : definition
        let location = cursor.location
        if clang_Cursor_getStorageClass(cursor) == CX_SC_Extern && definition.isNull {
            if let section = attributes(of: cursor).section, ModuleLowering.externSections.contains(section) {
                useExtern(cursor, kind: .variable, section: section)
                return cursor.spelling
            }
            if undefinedGlobals.insert(CursorKey(canonical)).inserted {
                error("extern variable '\(cursor.spelling)' has no definition; BPF objects import only kernel variables (__ksym) and kernel configuration (__kconfig)",
                      at: location)
            }
            return nil
        }
        let isLocalStatic = clang_getCursorLinkage(cursor) == CXLinkage_NoLinkage
        let symbol = isLocalStatic ? uniqueSymbol("\(enclosingFunctionName(cursor)).\(cursor.spelling)") : cursor.spelling
        globalSymbols[CursorKey(canonical)] = symbol
        takenSymbols.insert(symbol)
        do {
            globals.append(try makeGlobal(cursor, symbol: symbol))
        } catch {
            // A static nobody refers to is dropped, as clang drops it (a table of strings, a
            // pointer whose reads were folded), and what is wrong with it does not matter.
            if clang_getCursorLinkage(cursor) == CXLinkage_External {
                diagnostics.append(contentsOf: error.diagnostics)
            } else {
                staticGlobalProblems[symbol] = error.diagnostics
            }
        }
        return symbol
    }

    /// The symbols given to global variables so far.
    private var takenSymbols: Set<String> = []
    /// The last suffix `uniqueSymbol` appended: one count for the whole module, as LLVM numbers
    /// clashing names.
    private var lastUniqueSuffix = 0

    /// `name`, or `name.N` when a variable already has it: two static locals of one name in one
    /// function (bpf_printk's `___fmt`, once per call) are `f.___fmt` and `f.___fmt.1`, as in clang.
    private func uniqueSymbol(_ name: String) -> String {
        var symbol = name
        while takenSymbols.contains(symbol) {
            lastUniqueSuffix += 1
            symbol = "\(name).\(lastUniqueSuffix)"
        }
        return symbol
    }

    /// Problems in static globals, reported only if a reachable function refers to them.
    private var staticGlobalProblems: [String: [Diagnostic]] = [:]

    /// The initializer of a pointer variable whose reads may be replaced by the address it holds,
    /// as clang folds them: a `const` pointer, or a static one nothing writes or takes the address
    /// of (`static int *p = &g;`, then `*p` reads g). Nil for any other variable.
    func foldableInitializer(of variable: CXCursor) -> CXCursor? {
        let canonical = clang_getCanonicalCursor(variable)
        let type = canonical.type
        guard canonical.kind == CXCursor_VarDecl, clang_Cursor_hasVarDeclGlobalStorage(canonical) != 0,
              type.canonical.kind == CXType_Pointer, !type.isVolatile else { return nil }
        let definition = declarations(of: canonical).first { !clang_Cursor_getVarDeclInitializer($0).isNull }
            ?? canonical
        let initializer = clang_Cursor_getVarDeclInitializer(definition)
        guard !initializer.isNull else { return nil }
        if type.isConst { return initializer }
        guard clang_getCursorLinkage(canonical) != CXLinkage_External else { return nil }
        if modifiedGlobals == nil { modifiedGlobals = findModifiedGlobals() }
        return modifiedGlobals?.contains(CursorKey(canonical)) == false ? initializer : nil
    }

    /// Global variables some code may write: every use that is not a plain read of the value.
    private var modifiedGlobals: Set<CursorKey>?

    private func findModifiedGlobals() -> Set<CursorKey> {
        var modified: Set<CursorKey> = []
        // `parent` is the nearest enclosing cursor that is not a parenthesis.
        func walk(_ cursor: CXCursor, parent: CXCursor) {
            if cursor.kind == CXCursor_DeclRefExpr, cursor.referenced.kind == CXCursor_VarDecl,
               parent.kind != CXCursor_UnexposedExpr {
                // An implicit conversion of a pointer variable is the load of its value; anything
                // else (an assignment, `&`, `++`, sizeof) counts as a write.
                modified.insert(CursorKey(clang_getCanonicalCursor(cursor.referenced)))
            }
            for child in cursor.children {
                walk(child, parent: cursor.kind == CXCursor_ParenExpr ? parent : cursor)
            }
        }
        for cursor in parsed.topLevelDeclarations {
            walk(cursor, parent: parsed.root)
        }
        return modified
    }

    private func enclosingFunctionName(_ cursor: CXCursor) -> String {
        var parent = clang_getCursorSemanticParent(cursor)
        while !parent.isNull && parent.kind != CXCursor_FunctionDecl && parent.kind != CXCursor_TranslationUnit {
            parent = clang_getCursorSemanticParent(parent)
        }
        return parent.spelling
    }

    private func makeGlobal(_ cursor: CXCursor, symbol: String) throws(DiagnosticList) -> GlobalVariable {
        let location = cursor.location
        let type = cursor.type
        guard let declaredSize = type.size, let alignment = type.alignment else {
            throw DiagnosticList([.error("variable '\(cursor.spelling)' has incomplete type '\(type.spelling)'", at: location)])
        }
        if case .unsupported(let what) = types.classify(innermostElement(type)) {
            throw DiagnosticList([.error("global '\(cursor.spelling)' has \(what)", at: location)])
        }
        let initializer = clang_Cursor_getVarDeclInitializer(cursor)
        guard declaredSize <= ModuleLowering.mapValueLimit else {
            throw DiagnosticList([.error(
                "global '\(cursor.spelling)' is \(declaredSize) bytes: global data lives in a BPF array map, whose value is at most \(ModuleLowering.mapValueLimit) bytes (INT_MAX)",
                at: location)])
        }
        // Elements given to a flexible array member follow the struct, as in clang's object: the
        // writer grows `bytes` for them, up to the same limit.
        var bytes = [UInt8](repeating: 0, count: declaredSize)
        var writer = InitializerWriter(module: self)
        if !initializer.isNull {
            try writer.write(initializer, type: type, into: &bytes, at: 0)
        }
        let attributes = attributes(of: cursor)
        let section: String
        if let explicit = attributes.section {
            section = explicit
        } else if type.addressSpace == 1 {
            section = ".addr_space.1"
        } else if type.canonical.isConst {
            // libclang moves an array's element `const` onto the canonical array type.
            section = ".rodata"
        } else if initializer.isNull || bytes.allSatisfy({ $0 == 0 }) {
            section = ".bss"
        } else {
            section = ".data"
        }
        // libbpf reads addresses only where it fills them in: the slots of prog_arrays and
        // map-in-maps in `.maps`, and the members of `.struct_ops` variables.
        if let address = writer.addresses.first, section != ".maps", !section.hasPrefix(".struct_ops") {
            throw DiagnosticList([.error(
                "global initializer takes an address: BPF global data cannot hold pointers the loader would have to relocate (only .maps and .struct_ops variables may)",
                at: address.location)])
        }
        let linkage: Linkage = clang_getCursorLinkage(cursor) == CXLinkage_External ? .global : .static
        return GlobalVariable(symbol: symbol, name: cursor.spelling, linkage: linkage, section: section,
                              type: types.typeID(type), size: bytes.count, alignment: alignment, initializer: bytes,
                              addresses: writer.addresses.map(\.address),
                              location: location, symbolAttributes: attributes.symbolAttributes,
                              isConstant: section == ".rodata" && !type.canonical.isVolatile
                                  && !attributes.symbolAttributes.isWeak)
    }

    /// The largest value an array map may have, so the largest data section (`.bss`, `.data`...):
    /// the kernel refuses a bigger `value_size` with E2BIG (array_map_alloc_check).
    static let mapValueLimit = Int(Int32.max)

    private func innermostElement(_ type: CXType) -> CXType {
        var t = type.canonical
        while t.kind == CXType_ConstantArray || t.kind == CXType_IncompleteArray { t = t.elementType.canonical }
        return t
    }

    /// A string literal as a `.rodata` object of its own type (`char[N]`, or `int[N]` for `L"…"`);
    /// returns its symbol.
    func stringLiteral(_ bytes: [UInt8], type: CXType, location: SourceLocation) -> String {
        stringCount += 1
        let symbol = ".str.\(stringCount)"
        globals.append(GlobalVariable(symbol: symbol, name: symbol, linkage: .static, section: ".rodata",
                                      type: types.typeID(type), size: bytes.count,
                                      alignment: type.alignment ?? 1, initializer: bytes, location: location,
                                      isConstant: true))
        return symbol
    }

    /// `static long (*bpf_xxx)(...) = (void *) N;` from bpf_helper_defs.h: a helper, called as `call N`.
    func helperNumber(_ declaration: CXCursor) -> Int32? {
        guard declaration.kind == CXCursor_VarDecl,
              declaration.type.canonical.kind == CXType_Pointer,
              declaration.type.canonical.pointee.canonical.kind == CXType_FunctionProto else { return nil }
        let initializer = clang_Cursor_getVarDeclInitializer(declaration)
        guard !initializer.isNull else { return nil }
        var e = initializer
        while e.kind != CXCursor_IntegerLiteral {
            guard let inner = e.children.last(where: { $0.isExpression }) else { return nil }
            e = inner
        }
        // Helper 0 does not exist (BPF_FUNC_unspec): `int (*fp)(int) = 0;` is a null function pointer.
        return e.integerConstant.flatMap { Int32(exactly: $0) }.flatMap { $0 > 0 ? $0 : nil }
    }

    /// The sections whose extern declarations the loader resolves (libbpf's KSYMS_SEC and
    /// KCONFIG_SEC); any other extern has nothing to be resolved from.
    static let externSections: Set<String> = [".ksyms", ".kconfig"]

    /// Whether `declaration` is a kernel function: declared `__ksym` and not defined here.
    func isKernelFunction(_ declaration: CXCursor) -> Bool {
        declaration.kind == CXCursor_FunctionDecl && clang_getCursorDefinition(declaration).isNull
            && attributes(of: declaration).section == ".ksyms"
    }

    /// Registers an extern the code uses: a kfunc it calls or takes the address of, or a kernel
    /// variable or configuration value it reads.
    func useExtern(_ declaration: CXCursor, kind: Extern.Kind, section: String) {
        let name = declaration.spelling
        guard !externs.contains(where: { $0.name == name }) else { return }
        let (type, size) = switch kind {
        case .function: (types.functionTypeID(declaration), 0)
        // A typeless kernel symbol (`const void`) gets GNU C's sizeof(void), 1, as clang writes it.
        case .variable: (types.typeID(declaration.type), declaration.type.size ?? (declaration.type.canonical.kind == CXType_Void ? 1 : 0))
        }
        externs.append(Extern(name: name, kind: kind, section: section, type: type, size: size,
                              isWeak: attributes(of: declaration).isWeak))
    }

    /// Drops static functions and globals that nothing reachable refers to.
    private func pruneUnreferenced(_ module: Module) -> Module {
        var referencedSymbols: Set<String> = []
        var reachable: Set<String> = []
        // Addresses in initializers (a prog_array's programs, a map-in-map's maps) refer too.
        let addressed = module.globals.flatMap { $0.addresses.map(\.symbol) }
        referencedSymbols.formUnion(addressed)
        var work = module.functions.filter { $0.linkage == .global || $0.section != nil || $0.symbolAttributes.isUsed }
            .map(\.name) + unloweredRoots + addressed
        let byName = Dictionary(module.functions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        while let name = work.popLast() {
            guard reachable.insert(name).inserted else { continue }
            if let problems = staticFunctionProblems[name] { diagnostics.append(contentsOf: problems) }
            work += calledFunctions[name] ?? []
            guard let function = byName[name] else { continue }
            for block in function.blocks {
                for instruction in block.instructions {
                    switch instruction.operation {
                    case .call(_, .function(let callee), _): work.append(callee)
                    case .call(_, .kfunc(let name), _): referencedSymbols.insert(name)
                    case .symbolAddress(_, let symbol, _): referencedSymbols.insert(symbol)
                    default: break
                    }
                }
            }
        }
        for symbol in referencedSymbols {
            if let problems = staticGlobalProblems[symbol] { diagnostics.append(contentsOf: problems) }
        }
        var result = module
        result.functions = module.functions.filter { reachable.contains($0.name) }
        // As clang, only externs that code in the object uses become undefined symbols.
        result.externs = module.externs.filter { referencedSymbols.contains($0.name) }
        result.globals = module.globals.filter {
            $0.linkage == .global || referencedSymbols.contains($0.symbol) || $0.symbolAttributes.isUsed
        }
        return result
    }

    /// BPF has no recursion: every call chain must end. Reports the first call of each cycle.
    private func checkCallGraph(_ module: Module) {
        var calls: [String: [(String, SourceLocation?)]] = [:]
        for function in module.functions {
            calls[function.name] = function.blocks.flatMap { block in
                block.instructions.compactMap { instruction -> (String, SourceLocation?)? in
                    if case .call(_, .function(let callee), _) = instruction.operation {
                        return (callee, instruction.location)
                    }
                    return nil
                }
            }
        }
        var state: [String: Bool] = [:]  // false = on the current path, true = done
        var reported: Set<String> = []
        func visit(_ name: String, path: [String]) {
            state[name] = false
            for (callee, location) in calls[name] ?? [] {
                if state[callee] == false {
                    let cycle = (path + [name]).drop(while: { $0 != callee }) + [callee]
                    if reported.insert(callee).inserted {
                        let chain = cycle.joined(separator: " -> ")
                        error("recursive call to '\(callee)' (\(chain)): BPF does not allow recursion", at: location)
                    }
                } else if state[callee] == nil {
                    visit(callee, path: path + [name])
                }
            }
            state[name] = true
        }
        for function in module.functions where state[function.name] == nil {
            visit(function.name, path: [])
        }
    }

    /// Each data section becomes one array map value, so together its globals must fit one.
    private func checkSectionSizes(_ module: Module) {
        var ends: [String: Int] = [:]
        for global in module.globals {
            let alignment = max(global.alignment, 1)
            let start = (ends[global.section, default: 0] + alignment - 1) / alignment * alignment
            let previous = ends[global.section, default: 0]
            ends[global.section] = start + global.size
            if start + global.size > ModuleLowering.mapValueLimit && previous <= ModuleLowering.mapValueLimit {
                error("global '\(global.name)' ends section '\(global.section)' at byte \(start + global.size): a data section lives in a BPF array map, whose value is at most \(ModuleLowering.mapValueLimit) bytes (INT_MAX)",
                      at: global.location)
            }
        }
    }

    private func loadSources(_ module: Module) -> [String: [String]] {
        var files: Set<String> = []
        for function in module.functions {
            files.insert(function.location.file)
            for block in function.blocks {
                for instruction in block.instructions {
                    if let file = instruction.location?.file { files.insert(file) }
                }
            }
        }
        var result: [String: [String]] = [:]
        for file in files {
            if let text = try? String(contentsOfFile: file, encoding: .utf8) {
                result[file] = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            }
        }
        return result
    }
}
