// The ELF writer: an `ObjectFile` to the bytes of an ELF64 relocatable object laid out as
// `clang-19 -target bpf -O2 -g -c` lays it out, minus the DWARF.
//
// Section order: null, .strtab (section and symbol names together, as clang does), each code
// section followed by its `.rel<name>`, the data sections in model order (one holding addresses
// followed by its `.rel<name>` too), .BTF, .BTF.ext, .symtab.
// `.rel.BTF`/`.rel.BTF.ext` are not written: in clang's output they let a linker patch VAR offsets
// and instruction offsets, which libbpf and the kernel ignore; our offsets are already final.
//
// File layout: ELF header, section contents in section-index order (each aligned), then the
// section header table. The instructions are written as the compiler emitted them; relocations only
// tell the loader which symbol an `ld_imm64` or `call` refers to.

import BPFInstructions
import BTF

/// Why an `ObjectFile` cannot be written; each case names the offending section, symbol or offset.
public enum ObjectWriteError: Error, Equatable, CustomStringConvertible {
    case relocationOutOfRange(section: String, instructionIndex: Int)
    case relocationOnWrongInstruction(section: String, instructionIndex: Int, opcode: UInt8)
    case unknownSymbol(section: String, instructionIndex: Int, symbol: String)
    case duplicateSymbol(String)
    case functionOutOfRange(section: String, function: String)
    case dataSymbolOutOfRange(section: String, symbol: String)
    case lineRecordOutOfRange(section: String, instructionIndex: Int)
    case dataRelocationOutOfRange(section: String, offset: Int)
    case unknownDataSymbol(section: String, offset: Int, symbol: String)

    public var description: String {
        switch self {
        case .relocationOutOfRange(let section, let index):
            return "section '\(section)': relocation at instruction \(index) is past the end of the section"
        case .relocationOnWrongInstruction(let section, let index, let opcode):
            return "section '\(section)': relocation at instruction \(index) is on opcode \(opcode), "
                + "neither ld_imm64 nor call"
        case .unknownSymbol(let section, let index, let symbol):
            return "section '\(section)': relocation at instruction \(index) refers to unknown symbol '\(symbol)'"
        case .duplicateSymbol(let name):
            return "symbol '\(name)' is defined twice"
        case .functionOutOfRange(let section, let function):
            return "section '\(section)': function '\(function)' extends past the end of the section"
        case .dataSymbolOutOfRange(let section, let symbol):
            return "section '\(section)': object '\(symbol)' extends past the end of the section"
        case .dataRelocationOutOfRange(let section, let offset):
            return "section '\(section)': the address at offset \(offset) ends past the end of the section"
        case .unknownDataSymbol(let section, let offset, let symbol):
            return "section '\(section)': the address at offset \(offset) refers to unknown symbol '\(symbol)'"
        case .lineRecordOutOfRange(let section, let index):
            return "section '\(section)': line_info at instruction \(index) is past the end of the section"
        }
    }
}

/// Writes `object` as an ELF relocatable object for EM_BPF.
public func writeObject(_ object: ObjectFile) throws(ObjectWriteError) -> [UInt8] {
    var builder = ELFBuilder()
    try builder.build(object)
    return builder.finish()
}

/// One section header plus the bytes it covers (none for NOBITS and the null section).
private struct Section {
    var name: String
    var type: UInt32
    var flags: UInt64 = 0
    var contents: [UInt8] = []
    /// For NOBITS, which has no contents in the file.
    var size: Int? = nil
    var link: UInt32 = 0
    var info: UInt32 = 0
    var alignment: UInt64 = 1
    var entrySize: UInt64 = 0
}

/// An ELF64 symbol before its name is placed in `.strtab`.
private struct Symbol {
    var name: String
    var type: UInt8
    var binding: UInt8
    /// st_other: the visibility.
    var visibility: UInt8 = ELF.stvDefault
    var sectionIndex: UInt16
    var value: UInt64
    var size: UInt64
}

/// Collects sections and symbols, then lays out the file.
private struct ELFBuilder {
    var sections: [Section] = [Section(name: "", type: ELF.shtNull, alignment: 0)]
    var strings = StringTable()
    var localSymbols: [Symbol] = []
    var globalSymbols: [Symbol] = []

    static let strtabIndex = 1

    mutating func build(_ object: ObjectFile) throws(ObjectWriteError) {
        sections.append(Section(name: ".strtab", type: ELF.shtStrtab))

        // Code and data sections get their indices before any relocation is resolved, so that
        // section symbols and the symbol-name lookup see all of them.
        let codeSections = object.codeSections.filter { !$0.instructions.isEmpty }
        var codeIndex: [String: Int] = [:]
        var relocationSlots: [(section: CodeSection, index: Int)] = []
        for code in codeSections {
            codeIndex[code.name] = sections.count
            sections.append(Section(name: code.name, type: ELF.shtProgbits, flags: ELF.shfAlloc | ELF.shfExecinstr,
                                    contents: encode(code.instructions), alignment: 8))
            if !code.relocations.isEmpty {
                relocationSlots.append((code, sections.count))
                sections.append(Section(name: ".rel" + code.name, type: ELF.shtRel, flags: ELF.shfInfoLink,
                                        info: UInt32(sections.count - 1), alignment: 8, entrySize: UInt64(ELF.relSize)))
            }
        }
        var dataIndex: [String: Int] = [:]
        var dataRelocationSlots: [(section: DataSection, index: Int)] = []
        for data in object.dataSections {
            dataIndex[data.name] = sections.count
            sections.append(dataSectionHeader(data))
            if !data.relocations.isEmpty {
                dataRelocationSlots.append((data, sections.count))
                sections.append(Section(name: ".rel" + data.name, type: ELF.shtRel, flags: ELF.shfInfoLink,
                                        info: UInt32(sections.count - 1), alignment: 8, entrySize: UInt64(ELF.relSize)))
            }
        }

        try collectSymbols(object, codeSections: codeSections, codeIndex: codeIndex, dataIndex: dataIndex)

        // Section symbols for code sections always exist (clang emits them for its DWARF and
        // BTF.ext relocations); those of data sections only when a relocation names the section.
        var referencedDataSections: [String] = []
        let relocatedSymbols = codeSections.flatMap { $0.relocations.map(\.symbol) }
            + object.dataSections.flatMap { $0.relocations.map(\.symbol) }
        for symbol in relocatedSymbols where dataIndex[symbol] != nil && !referencedDataSections.contains(symbol) {
            referencedDataSections.append(symbol)
        }
        let sectionSymbols = codeSections.map(\.name) + referencedDataSections
        let sectionSymbolEntries = sectionSymbols.map { name in
            Symbol(name: name, type: ELF.sttSection, binding: ELF.stbLocal,
                   sectionIndex: UInt16(codeIndex[name] ?? dataIndex[name] ?? 0), value: 0, size: 0)
        }
        localSymbols.insert(contentsOf: sectionSymbolEntries, at: 0)

        // Symbol table indices: the null symbol, locals, then globals.
        var symbolIndex: [String: Int] = [:]
        for (i, symbol) in (localSymbols + globalSymbols).enumerated() where symbol.type != ELF.sttSection {
            symbolIndex[symbol.name] = i + 1
        }
        for (i, name) in sectionSymbols.enumerated() {
            symbolIndex[name] = symbolIndex[name] ?? i + 1
        }

        for (code, index) in relocationSlots {
            sections[index].contents = try relocations(of: code, symbolIndex: symbolIndex)
        }
        for (data, index) in dataRelocationSlots {
            sections[index].contents = try relocations(of: data, symbolIndex: symbolIndex)
        }

        if let spec = object.btf {
            var encoder = BTFEncoder(spec)
            let ext = encoder.encodeExt(try extSections(codeSections))
            sections.append(Section(name: ".BTF", type: ELF.shtProgbits, contents: encoder.btf, alignment: 4))
            if ext.count > Int(BTFWire.extHeaderLength) {
                sections.append(Section(name: ".BTF.ext", type: ELF.shtProgbits, contents: ext, alignment: 4))
            }
        }

        let symtabIndex = sections.count
        for index in relocationSlots.map(\.index) + dataRelocationSlots.map(\.index) {
            sections[index].link = UInt32(symtabIndex)
        }
        sections.append(symbolTable())
    }

    func dataSectionHeader(_ data: DataSection) -> Section {
        // Only read-only data loses SHF_WRITE; `.maps`, `license` and `.addr_space.1` are writable as in clang.
        let flags = data.name.hasPrefix(".rodata") ? ELF.shfAlloc : ELF.shfAlloc | ELF.shfWrite
        if data.isZeroFill {
            return Section(name: data.name, type: ELF.shtNobits, flags: flags, size: data.bytes.count,
                           alignment: UInt64(data.alignment))
        }
        return Section(name: data.name, type: ELF.shtProgbits, flags: flags, contents: data.bytes,
                       alignment: UInt64(data.alignment))
    }

    mutating func collectSymbols(
        _ object: ObjectFile, codeSections: [CodeSection], codeIndex: [String: Int], dataIndex: [String: Int]
    ) throws(ObjectWriteError) {
        var seen: Set<String> = []
        func claim(_ name: String) throws(ObjectWriteError) {
            guard seen.insert(name).inserted else { throw .duplicateSymbol(name) }
        }
        for code in codeSections {
            for function in code.functions {
                try claim(function.name)
                guard function.firstInstruction >= 0, function.instructionCount >= 0,
                      function.firstInstruction + function.instructionCount <= code.instructions.count
                else { throw .functionOutOfRange(section: code.name, function: function.name) }
                add(Symbol(name: function.name, type: ELF.sttFunc, binding: elfBinding(function.binding),
                           visibility: function.isHidden ? ELF.stvHidden : ELF.stvDefault,
                           sectionIndex: UInt16(codeIndex[code.name] ?? 0),
                           value: UInt64(function.firstInstruction * 8), size: UInt64(function.instructionCount * 8)))
            }
        }
        for data in object.dataSections {
            for symbol in data.symbols {
                try claim(symbol.name)
                guard symbol.offset >= 0, symbol.size >= 0, symbol.offset + symbol.size <= data.bytes.count
                else { throw .dataSymbolOutOfRange(section: data.name, symbol: symbol.name) }
                add(Symbol(name: symbol.name, type: ELF.sttObject, binding: elfBinding(symbol.binding),
                           visibility: symbol.isHidden ? ELF.stvHidden : ELF.stvDefault,
                           sectionIndex: UInt16(dataIndex[data.name] ?? 0),
                           value: UInt64(symbol.offset), size: UInt64(symbol.size)))
            }
        }
        for external in object.externs {
            try claim(external.name)
            add(Symbol(name: external.name, type: ELF.sttNotype, binding: external.isWeak ? ELF.stbWeak : ELF.stbGlobal,
                       sectionIndex: ELF.shnUndef, value: 0, size: 0))
        }
    }

    mutating func add(_ symbol: Symbol) {
        if symbol.binding == ELF.stbLocal {
            localSymbols.append(symbol)
        } else {
            globalSymbols.append(symbol)
        }
    }

    func elfBinding(_ binding: SymbolBinding) -> UInt8 {
        switch binding {
        case .local: return ELF.stbLocal
        case .global: return ELF.stbGlobal
        case .weak: return ELF.stbWeak
        }
    }

    /// `.rel<section>` entries: r_offset in bytes, r_info = symbol << 32 | type, the type chosen by
    /// the instruction the relocation sits on.
    func relocations(of code: CodeSection, symbolIndex: [String: Int]) throws(ObjectWriteError) -> [UInt8] {
        var writer = ByteWriter()
        for relocation in code.relocations {
            let index = relocation.instructionIndex
            guard code.instructions.indices.contains(index) else {
                throw .relocationOutOfRange(section: code.name, instructionIndex: index)
            }
            let instruction = code.instructions[index]
            let type: UInt32
            if instruction.isLoadImm64 {
                type = ELF.rBPF64_64
            } else if instruction.opcode == Opcode.classJMP | Opcode.call {
                type = ELF.rBPF64_32
            } else {
                throw .relocationOnWrongInstruction(section: code.name, instructionIndex: index,
                                                    opcode: instruction.opcode)
            }
            guard let symbol = symbolIndex[relocation.symbol] else {
                throw .unknownSymbol(section: code.name, instructionIndex: index, symbol: relocation.symbol)
            }
            writer.append(UInt64(index * 8))
            writer.append(UInt64(symbol) << 32 | UInt64(type))
        }
        return writer.bytes
    }

    /// `.rel<section>` entries of a data section: each an R_BPF_64_ABS64 address.
    func relocations(of data: DataSection, symbolIndex: [String: Int]) throws(ObjectWriteError) -> [UInt8] {
        var writer = ByteWriter()
        for relocation in data.relocations {
            guard relocation.offset >= 0, relocation.offset + 8 <= data.bytes.count else {
                throw .dataRelocationOutOfRange(section: data.name, offset: relocation.offset)
            }
            guard let symbol = symbolIndex[relocation.symbol] else {
                throw .unknownDataSymbol(section: data.name, offset: relocation.offset, symbol: relocation.symbol)
            }
            writer.append(UInt64(relocation.offset))
            writer.append(UInt64(symbol) << 32 | UInt64(ELF.rBPF64Abs64))
        }
        return writer.bytes
    }

    /// func_info from the functions that name a BTF FUNC, line_info from the line records.
    func extSections(_ codeSections: [CodeSection]) throws(ObjectWriteError) -> [BTFExtSection] {
        var result: [BTFExtSection] = []
        for code in codeSections {
            let functions = code.functions
                .filter { $0.btfFunction != nil }
                .sorted { $0.firstInstruction < $1.firstInstruction }
                .compactMap { function in
                    function.btfFunction.map {
                        FuncInfoRecord(byteOffset: UInt32(function.firstInstruction * 8), function: $0)
                    }
                }
            var lines: [LineInfoRecord] = []
            for line in code.lines {
                guard code.instructions.indices.contains(line.instructionIndex) else {
                    throw .lineRecordOutOfRange(section: code.name, instructionIndex: line.instructionIndex)
                }
                lines.append(LineInfoRecord(byteOffset: UInt32(line.instructionIndex * 8), file: line.file,
                                            sourceText: line.sourceText, line: UInt32(clamping: line.line),
                                            column: UInt32(clamping: line.column)))
            }
            result.append(BTFExtSection(name: code.name, functions: functions, lines: lines))
        }
        return result
    }

    func symbolTable() -> Section {
        Section(name: ".symtab", type: ELF.shtSymtab, link: UInt32(Self.strtabIndex),
                info: UInt32(1 + localSymbols.count), alignment: 8, entrySize: UInt64(ELF.symbolSize))
    }

    /// Places names in `.strtab`, encodes `.symtab`, lays out contents and appends the headers.
    mutating func finish() -> [UInt8] {
        let symtabIndex = sections.count - 1
        var symbols = ByteWriter()
        symbols.append(bytes: [UInt8](repeating: 0, count: ELF.symbolSize))
        for symbol in localSymbols + globalSymbols {
            // Section symbols are named by their section's header name, as clang leaves st_name 0.
            symbols.append(symbol.type == ELF.sttSection ? 0 : strings.offset(of: symbol.name))
            symbols.append(symbol.binding << 4 | symbol.type)
            symbols.append(symbol.visibility)
            symbols.append(symbol.sectionIndex)
            symbols.append(symbol.value)
            symbols.append(symbol.size)
        }
        sections[symtabIndex].contents = symbols.bytes
        let nameOffsets = sections.map { strings.offset(of: $0.name) }
        sections[Self.strtabIndex].contents = strings.bytes

        var file = ByteWriter()
        file.append(bytes: [UInt8](repeating: 0, count: ELF.headerSize))
        var offsets: [Int] = []
        for section in sections {
            file.align(to: max(Int(section.alignment), 1))
            offsets.append(file.count)
            file.append(bytes: section.contents)
        }
        file.align(to: 8)
        let headerTableOffset = file.count
        for (i, section) in sections.enumerated() {
            file.append(nameOffsets[i])
            file.append(section.type)
            file.append(section.flags)
            file.append(UInt64(0))  // sh_addr
            file.append(UInt64(i == 0 ? 0 : offsets[i]))
            file.append(UInt64(section.size ?? section.contents.count))
            file.append(section.link)
            file.append(section.info)
            file.append(section.alignment)
            file.append(section.entrySize)
        }

        var header = ByteWriter()
        header.append(bytes: [0x7f, 0x45, 0x4c, 0x46, ELF.classELF64, ELF.dataLittleEndian, 1 /* EV_CURRENT */])
        header.append(bytes: [UInt8](repeating: 0, count: 9))  // OS ABI, ABI version, padding
        header.append(ELF.typeRelocatable)
        header.append(ELF.machineBPF)
        header.append(UInt32(1))  // e_version
        header.append(UInt64(0))  // e_entry
        header.append(UInt64(0))  // e_phoff
        header.append(UInt64(headerTableOffset))
        header.append(UInt32(0))  // e_flags
        header.append(UInt16(ELF.headerSize))
        header.append(UInt16(0))  // e_phentsize
        header.append(UInt16(0))  // e_phnum
        header.append(UInt16(ELF.sectionHeaderSize))
        header.append(UInt16(sections.count))
        header.append(UInt16(Self.strtabIndex))
        var bytes = file.bytes
        bytes.replaceSubrange(0..<ELF.headerSize, with: header.bytes)
        return bytes
    }
}
