import BPFDiagnostics
import BPFIR

// Arena association.
//
// Requires: arena casts inserted (ArenaCastInsertion).
// Guarantees: every program that touches arena memory, itself or through the functions it calls,
// references the arena map with an `ld_imm64`; or an error says why that cannot be done.
// Why: the kernel gives a program an arena only through an ld_imm64 of the arena map or of an
// arena global; without one it rejects the first cast with "addr_space_cast insn can only be used
// in a program that has an associated arena" (bpf-arena-abi.md §1.3). clang leaves this to the
// user. With exactly one arena map in the object there is only one arena the program can mean.

/// Makes each arena-touching program name its arena; throws when the object has several arenas
/// and a program names none.
public func associateArenas(_ module: inout Module) throws(DiagnosticList) {
    let arenaMaps = module.globals.filter { $0.section == ".maps" && isArenaMap($0.type, in: module.types) }
    let arenaSymbols = arenaSymbols(of: module)
    let byName = Dictionary(module.functions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var problems: [Diagnostic] = []

    for index in module.functions.indices where module.functions[index].section != nil {
        let program = module.functions[index]
        var touchesArena = false
        var namesArena = false
        var seen: Set<String> = []
        var work = [program.name]
        while let name = work.popLast() {
            guard seen.insert(name).inserted, let function = byName[name] else { continue }
            for block in function.blocks {
                for instruction in block.instructions {
                    switch instruction.operation {
                    case .addrSpaceCast:
                        touchesArena = true
                    case .symbolAddress(_, let symbol, _):
                        if arenaSymbols.contains(symbol) { namesArena = true }
                    case .call(_, .function(let callee), _):
                        work.append(callee)
                    default:
                        break
                    }
                }
            }
        }
        guard touchesArena && !namesArena else { continue }
        guard arenaMaps.count == 1, let arena = arenaMaps.first else {
            let reason = arenaMaps.isEmpty
                ? "the object declares no arena map (a map of type BPF_MAP_TYPE_ARENA in SEC(\".maps\"))"
                : "the object declares \(arenaMaps.count) arena maps (\(arenaMaps.map(\.name).joined(separator: ", "))); reference the one it uses, e.g. pass &NAME to bpf_arena_alloc_pages"
            problems.append(.error("program '\(program.name)' uses arena memory but names no arena, and \(reason)",
                                   at: program.location))
            continue
        }
        var function = program
        let temp = function.makeTemp()
        function.blocks[0].instructions.insert(
            IRInstruction(.symbolAddress(temp, symbol: arena.symbol, offset: 0), at: program.location,
                          note: "names map '\(arena.name)' so the kernel gives '\(program.name)' its arena"),
            at: 0)
        module.functions[index] = function
    }
    if !problems.isEmpty { throw DiagnosticList(problems) }
}

/// A BTF-defined map whose `type` member is `int (*)[BPF_MAP_TYPE_ARENA]`.
/// The arena maps and arena globals of a module: an ld_imm64 of any of them gives a program its
/// arena.
func arenaSymbols(of module: Module) -> Set<String> {
    Set(module.globals.filter {
        ($0.section == ".maps" && isArenaMap($0.type, in: module.types)) || $0.section == ".addr_space.1"
    }.map(\.symbol))
}

func isArenaMap(_ type: TypeID, in types: TypeTable) -> Bool {
    guard case .structure(_, _, _, let fields) = resolved(type, in: types),
          let field = fields.first(where: { $0.name == "type" }),
          case .pointer(let pointee, _) = resolved(field.type, in: types),
          case .array(_, let count) = resolved(pointee, in: types) else { return false }
    return count == 33
}

private func resolved(_ type: TypeID, in types: TypeTable) -> CType {
    switch types[type] {
    case .typedef(_, let inner), .const(let inner), .volatile(let inner): return resolved(inner, in: types)
    case let other: return other
    }
}
