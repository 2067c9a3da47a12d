// Data layout: places the module's globals into ELF data sections, the way clang does — one
// section per distinct `section` name, in order of first appearance, each global at the next
// offset that respects its alignment.

import BPFIR
import BPFObject

/// Lays out `module.globals`. `.bss` and `.bss.*` become NOBITS (their globals are all zero);
/// static globals get LOCAL symbols, the others GLOBAL ones. Addresses in initializers become
/// the section's relocations.
public func layOutData(_ module: Module) -> [DataSection] {
    var sections: [DataSection] = []
    var indexByName: [String: Int] = [:]
    for global in module.globals {
        precondition(global.initializer.count == global.size, "initializer of '\(global.symbol)' is not \(global.size) bytes")
        let index: Int
        if let existing = indexByName[global.section] {
            index = existing
        } else {
            index = sections.count
            indexByName[global.section] = index
            let isBSS = global.section == ".bss" || global.section.hasPrefix(".bss.")
            sections.append(DataSection(name: global.section, bytes: [], isZeroFill: isBSS, alignment: 1))
        }
        let alignment = max(global.alignment, 1)
        // In place: a copy of the section would copy its bytes and symbols for every global.
        let offset = (sections[index].bytes.count + alignment - 1) / alignment * alignment
        sections[index].bytes += [UInt8](repeating: 0, count: offset - sections[index].bytes.count) + global.initializer
        sections[index].alignment = max(sections[index].alignment, alignment)
        let binding: SymbolBinding
        switch global.linkage {
        case .static: binding = .local
        case .global: binding = global.symbolAttributes.isWeak ? .weak : .global
        }
        sections[index].relocations += global.addresses.map {
            DataRelocation(offset: offset + $0.offset, symbol: $0.symbol)
        }
        sections[index].symbols.append(DataSymbol(name: global.symbol, offset: offset, size: global.size,
                                                  binding: binding, isHidden: global.symbolAttributes.isHidden))
    }
    return sections
}
