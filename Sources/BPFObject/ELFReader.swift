import BPFInstructions
import BTF

// Reads a relocatable BPF ELF object (clang's or ours) into the `ObjectFile` model, keeping what
// libbpf keeps (bpf_object__elf_collect): code sections with their FUNC symbols and REL entries,
// allocated data sections with their OBJECT symbols, undefined symbols, `.BTF` and `.BTF.ext`.
// DWARF, string tables and `.llvm_addrsig` are ELF bookkeeping and are dropped.

/// The largest data section a BPF object can use: libbpf makes `.data`, `.bss` and `.rodata` each
/// a one-element array map whose value is the whole section, and the kernel refuses array values
/// above INT_MAX bytes (array_map_alloc_check in kernel/bpf/arraymap.c). The reader holds a zero-fill
/// section's bytes in memory, so it refuses a larger one before allocating it.
public let maximumDataSectionSize = Int(Int32.max)

/// Reads an ELF file. Throws `ObjectError` naming the section, symbol or offset for malformed
/// input; it never traps on bad bytes.
public func readObject(_ bytes: [UInt8]) throws(ObjectError) -> ObjectFile {
    let elf = try ELFFile(bytes)
    var object = ObjectFile()
    var codeIndex: [Int: Int] = [:]  // ELF section index -> index in object.codeSections
    var dataIndex: [Int: Int] = [:]  // ELF section index -> index in object.dataSections

    for section in elf.sections where section.isCode {
        codeIndex[section.index] = object.codeSections.count
        object.codeSections.append(try elf.codeSection(section))
    }
    for section in elf.sections where section.isData {
        dataIndex[section.index] = object.dataSections.count
        object.dataSections.append(try elf.dataSection(section))
    }
    for relocationSection in elf.sections where relocationSection.type == ELF.shtRel {
        let targetIndex = Int(relocationSection.info)
        guard codeIndex[targetIndex] != nil || dataIndex[targetIndex] != nil else { continue }
        let target = elf.sections[targetIndex]
        for entry in try elf.relocations(relocationSection, target: target) {
            if let code = codeIndex[targetIndex] {
                guard entry.offset % 8 == 0 else {
                    throw .badRelocation(section: target.name, offset: entry.offset, reason: "offset is not an instruction inside the section")
                }
                object.codeSections[code].relocations.append(CodeRelocation(instructionIndex: entry.offset / 8, symbol: entry.symbol))
            } else if let data = dataIndex[targetIndex] {
                // An R_BPF_64_ABS64 address: eight bytes inside the section.
                guard entry.offset <= target.size - 8 else {
                    throw .badRelocation(section: target.name, offset: entry.offset, reason: "an 8-byte address at this offset ends past the section")
                }
                object.dataSections[data].relocations.append(DataRelocation(offset: entry.offset, symbol: entry.symbol))
            }
            if let external = entry.extern, !object.externs.contains(where: { $0.name == external.name }) {
                object.externs.append(external)
            }
        }
    }
    if let btfSection = elf.sections.first(where: { $0.name == ".BTF" }) {
        let decoded: DecodedBTF
        do {
            decoded = try decodeBTF(Array(try elf.contents(btfSection)))
        } catch let error as BTFDecodingError {
            throw .badBTF(section: ".BTF", error)
        } catch {
            throw .badSection(section: ".BTF", reason: "contents lie outside the file")
        }
        object.btf = decoded.spec
        if let extSection = elf.sections.first(where: { $0.name == ".BTF.ext" }) {
            let extBytes = try elf.read("section '.BTF.ext'") { () throws(OutOfBounds) in try elf.contents(extSection) }
            try applyBTFExt(Array(extBytes), strings: decoded.strings, to: &object)
        }
    }
    return object
}

/// One ELF section header (Elf64_Shdr) with its resolved name.
private struct SectionHeader {
    var index: Int
    var name: String
    var type: UInt32
    var flags: UInt64
    var offset: Int
    var size: Int
    var link: UInt32
    var info: UInt32
    var alignment: Int

    var isCode: Bool {
        type == ELF.shtProgbits && flags & ELF.shfExecinstr != 0 && flags & ELF.shfAlloc != 0 && size > 0
    }
    var isData: Bool {
        (type == ELF.shtProgbits || type == ELF.shtNobits) && flags & ELF.shfAlloc != 0
            && flags & ELF.shfExecinstr == 0
    }
}

/// One Elf64_Sym with its resolved name.
private struct Symbol {
    var index: Int
    var name: String
    var info: UInt8
    /// st_other: the visibility in its low two bits.
    var other: UInt8
    var sectionIndex: UInt16
    var value: UInt64
    var size: UInt64

    var type: UInt8 { info & 0xf }
    /// STV_HIDDEN or STV_INTERNAL: libbpf treats such a global function as static.
    var isHidden: Bool { [ELF.stvHidden, ELF.stvInternal].contains(other & 3) }
    var bindingBits: UInt8 { info >> 4 }
    var binding: SymbolBinding {
        switch bindingBits {
        case ELF.stbGlobal: .global
        case ELF.stbWeak: .weak
        default: .local
        }
    }
}

/// The parsed section table and symbol table, with bounds-checked access to section contents.
private struct ELFFile {
    let reader: ByteReader
    var sections: [SectionHeader] = []
    var symbols: [Symbol] = []

    /// Bodies that read through `ByteReader` report overruns as `ObjectError.truncated`.
    func read<T>(_ what: String, _ body: () throws(OutOfBounds) -> T) throws(ObjectError) -> T {
        do {
            return try body()
        } catch {
            throw .truncated(what: what, offset: error.offset, length: error.length)
        }
    }

    init(_ bytes: [UInt8]) throws(ObjectError) {
        reader = ByteReader(bytes)
        let reader = self.reader
        guard bytes.count >= ELF.headerSize else { throw .notELF("only \(bytes.count) bytes") }
        guard bytes[0..<4] == [0x7f, 0x45, 0x4c, 0x46] else { throw .notELF("no ELF magic") }
        guard bytes[4] == ELF.classELF64 else { throw .notELF("not ELFCLASS64") }
        guard bytes[5] == ELF.dataLittleEndian else { throw .notELF("not little-endian") }
        let (type, machine, sectionTable, entrySize, count, namesIndex) = try read("ELF header") {
            () throws(OutOfBounds) in
            (try reader.u16(at: 16), try reader.u16(at: 18), try reader.u64(at: 0x28),
             try reader.u16(at: 0x3a), try reader.u16(at: 0x3c), try reader.u16(at: 0x3e))
        }
        guard type == ELF.typeRelocatable else { throw .notELF("e_type \(type) is not ET_REL") }
        guard machine == ELF.machineBPF || machine == 0 else { throw .notELF("e_machine \(machine) is not EM_BPF") }
        guard Int(entrySize) == ELF.sectionHeaderSize else { throw .notELF("e_shentsize \(entrySize)") }
        guard count > 0, namesIndex < count, sectionTable < UInt64(bytes.count) else {
            throw .notELF("section table (e_shoff \(sectionTable), e_shnum \(count), e_shstrndx \(namesIndex))")
        }

        var rawHeaders: [(nameOffset: UInt32, header: SectionHeader)] = []
        for index in 0..<Int(count) {
            let base = Int(sectionTable) + index * ELF.sectionHeaderSize
            let fields = try read("section header \(index)") { () throws(OutOfBounds) in
                _ = try reader.slice(at: base, length: ELF.sectionHeaderSize)
                return (try reader.u32(at: base), try reader.u32(at: base + 4), try reader.u64(at: base + 8),
                 try reader.u64(at: base + 24), try reader.u64(at: base + 32), try reader.u32(at: base + 40),
                 try reader.u32(at: base + 44), try reader.u64(at: base + 48))
            }
            guard fields.3 <= UInt64(Int.max), fields.4 <= UInt64(Int.max), fields.7 <= 1 << 16 else {
                throw .badSection(section: "#\(index)", reason: "offset, size or alignment out of range")
            }
            // Every section with contents must lie inside the file, read or not: a file cut short
            // is refused as a whole, as libelf does.
            guard fields.1 == ELF.shtNobits || fields.1 == ELF.shtNull
                || fields.4 <= UInt64(bytes.count) && fields.3 <= UInt64(bytes.count) - fields.4
            else {
                throw .truncated(what: "section #\(index)", offset: Int(fields.3), length: Int(fields.4))
            }
            rawHeaders.append((fields.0, SectionHeader(
                index: index, name: "", type: fields.1, flags: fields.2, offset: Int(fields.3),
                size: Int(fields.4), link: fields.5, info: fields.6, alignment: max(1, Int(fields.7)))))
        }
        let names = rawHeaders[Int(namesIndex)].header
        for (nameOffset, var header) in rawHeaders {
            header.name = try Self.name(in: names, at: nameOffset, reader: reader, what: "section #\(header.index)")
            sections.append(header)
        }

        let symbolTables = sections.filter { $0.type == ELF.shtSymtab }
        guard symbolTables.count == 1, let symbolTable = symbolTables.first else {
            throw .notELF("\(symbolTables.count) symbol tables (need exactly one .symtab)")
        }
        guard Int(symbolTable.link) < sections.count, symbolTable.size % ELF.symbolSize == 0 else {
            throw .badSection(section: symbolTable.name, reason: "bad string table link or size \(symbolTable.size)")
        }
        let symbolNames = sections[Int(symbolTable.link)]
        for index in 0..<symbolTable.size / ELF.symbolSize {
            let base = symbolTable.offset + index * ELF.symbolSize
            let fields = try read("symbol \(index)") { () throws(OutOfBounds) in
                (try reader.u32(at: base), try reader.slice(at: base + 4, length: 2),
                 try reader.u16(at: base + 6), try reader.u64(at: base + 8), try reader.u64(at: base + 16))
            }
            let name = try Self.name(in: symbolNames, at: fields.0, reader: reader, what: "symbol #\(index)")
            symbols.append(Symbol(index: index, name: name, info: fields.1.first ?? 0, other: fields.1.last ?? 0,
                                  sectionIndex: fields.2, value: fields.3, size: fields.4))
        }
    }

    private static func name(in table: SectionHeader, at offset: UInt32, reader: ByteReader, what: String)
        throws(ObjectError) -> String
    {
        guard Int(offset) < table.size else {
            throw .badSection(section: what, reason: "name offset \(offset) outside '\(table.name)'")
        }
        do {
            return try reader.cString(at: table.offset + Int(offset))
        } catch {
            throw .truncated(what: "name of \(what)", offset: error.offset, length: error.length)
        }
    }

    func contents(_ section: SectionHeader) throws(OutOfBounds) -> ArraySlice<UInt8> {
        try reader.slice(at: section.offset, length: section.size)
    }

    func codeSection(_ section: SectionHeader) throws(ObjectError) -> CodeSection {
        let bytes = try read("section '\(section.name)'") { () throws(OutOfBounds) in try contents(section) }
        guard bytes.count % 8 == 0 else {
            throw .badSection(section: section.name, reason: "size \(bytes.count) is not a multiple of 8")
        }
        var instructions: [Instruction] = []
        for start in stride(from: bytes.startIndex, to: bytes.endIndex, by: 8) {
            guard let instruction = Instruction(bytes: bytes[start..<start + 8]) else {
                throw .badInstruction(section: section.name, index: instructions.count,
                                      reason: "register number above r10")
            }
            instructions.append(instruction)
        }
        var functions: [FunctionSymbol] = []
        for symbol in symbols where symbol.type == ELF.sttFunc && Int(symbol.sectionIndex) == section.index {
            guard symbol.value % 8 == 0, symbol.size % 8 == 0,
                  symbol.value <= UInt64(section.size), symbol.size <= UInt64(section.size) - symbol.value
            else {
                throw .badSymbol(symbol: symbol.name, index: symbol.index,
                                 reason: "value \(symbol.value) size \(symbol.size) do not fit '\(section.name)'")
            }
            functions.append(FunctionSymbol(name: symbol.name, firstInstruction: Int(symbol.value / 8),
                                            instructionCount: Int(symbol.size / 8), binding: symbol.binding,
                                            isHidden: symbol.isHidden))
        }
        functions.sort { $0.firstInstruction < $1.firstInstruction }
        return CodeSection(name: section.name, instructions: instructions, functions: functions)
    }

    func dataSection(_ section: SectionHeader) throws(ObjectError) -> DataSection {
        let isZeroFill = section.type == ELF.shtNobits
        let bytes: [UInt8]
        if isZeroFill {
            guard section.size <= maximumDataSectionSize else {
                throw .badSection(section: section.name, reason: "zero-fill size \(section.size) exceeds \(maximumDataSectionSize) "
                                  + "bytes, the kernel's largest array map value (INT_MAX, kernel/bpf/arraymap.c)")
            }
            bytes = Array(repeating: 0, count: section.size)
        } else {
            bytes = Array(try read("section '\(section.name)'") { () throws(OutOfBounds) in try contents(section) })
        }
        var dataSymbols: [DataSymbol] = []
        for symbol in symbols where symbol.type == ELF.sttObject && Int(symbol.sectionIndex) == section.index {
            guard symbol.value <= UInt64(section.size), symbol.size <= UInt64(section.size) - symbol.value else {
                throw .badSymbol(symbol: symbol.name, index: symbol.index,
                                 reason: "value \(symbol.value) size \(symbol.size) do not fit '\(section.name)'")
            }
            dataSymbols.append(DataSymbol(name: symbol.name, offset: Int(symbol.value), size: Int(symbol.size),
                                          binding: symbol.binding))
        }
        return DataSection(name: section.name, bytes: bytes, isZeroFill: isZeroFill, alignment: section.alignment,
                           symbols: dataSymbols)
    }

    /// The REL entries of one code or data section: byte offset and symbol name. A relocation
    /// against an STT_SECTION symbol (clang's way of referring to static functions and
    /// variables) is named after the section itself; the offset inside that section is then
    /// already in the instruction's imm (or the data's bytes).
    func relocations(_ relocationSection: SectionHeader, target: SectionHeader)
        throws(ObjectError) -> [(offset: Int, symbol: String, extern: ExternSymbol?)]
    {
        guard relocationSection.size % ELF.relSize == 0 else {
            throw .badSection(section: relocationSection.name, reason: "size is not a multiple of \(ELF.relSize)")
        }
        var result: [(Int, String, ExternSymbol?)] = []
        for index in 0..<relocationSection.size / ELF.relSize {
            let base = relocationSection.offset + index * ELF.relSize
            let (offset, info) = try read("relocation \(index) of '\(relocationSection.name)'") {
                () throws(OutOfBounds) in (try reader.u64(at: base), try reader.u64(at: base + 8))
            }
            guard offset < UInt64(target.size) else {
                throw .badRelocation(section: target.name, offset: Int(clamping: offset),
                                     reason: "offset lies outside the section")
            }
            let symbolIndex = Int(info >> 32)
            guard symbolIndex > 0, symbolIndex < symbols.count else {
                throw .badRelocation(section: target.name, offset: Int(offset),
                                     reason: "symbol index \(symbolIndex) out of range")
            }
            let symbol = symbols[symbolIndex]
            let name: String
            var external: ExternSymbol?
            if symbol.type == ELF.sttSection {
                guard Int(symbol.sectionIndex) < sections.count, symbol.sectionIndex != ELF.shnUndef else {
                    throw .badSymbol(symbol: symbol.name, index: symbol.index, reason: "section symbol without a section")
                }
                name = sections[Int(symbol.sectionIndex)].name
            } else {
                guard !symbol.name.isEmpty else {
                    throw .badRelocation(section: target.name, offset: Int(offset), reason: "symbol #\(symbolIndex) has no name")
                }
                name = symbol.name
                if symbol.sectionIndex == ELF.shnUndef {
                    external = ExternSymbol(name: name, isWeak: symbol.bindingBits == ELF.stbWeak)
                }
            }
            result.append((Int(offset), name, external))
        }
        return result
    }
}

/// Applies `.BTF.ext` func_info (to `FunctionSymbol.btfFunction`), line_info (to
/// `CodeSection.lines`) and core_relo (to `CodeSection.coreRelocations`). Record offsets are bytes
/// within the ELF section; the model counts slots.
private func applyBTFExt(_ bytes: [UInt8], strings: BTFStringTable, to object: inout ObjectFile)
    throws(ObjectError)
{
    let reader = ByteReader(bytes)
    func field(_ offset: Int) throws(ObjectError) -> UInt32 {
        do { return try reader.u32(at: offset) } catch { throw .badBTFExt(offset: offset, reason: "truncated") }
    }
    func string(_ offset: UInt32, at position: Int) throws(ObjectError) -> String {
        do { return try strings.string(at: offset) } catch { throw .badBTFExt(offset: position, reason: "\(error)") }
    }
    guard bytes.count >= 8, bytes[0] == UInt8(BTFWire.magic & 0xff), bytes[1] == UInt8(BTFWire.magic >> 8) else {
        throw .badBTFExt(offset: 0, reason: "bad magic")
    }
    let headerLength = Int(try field(4))
    guard headerLength >= 24 else { throw .badBTFExt(offset: 4, reason: "header length \(headerLength)") }

    /// Walks one info part: rec_size, then per section {sec_name_off, num_info, records}.
    func walk(part: Int, minimumRecord: Int,
              _ record: (_ section: Int, _ instruction: Int, _ position: Int) throws(ObjectError) -> Void)
        throws(ObjectError)
    {
        let start = headerLength + Int(try field(8 + part * 8))
        let length = Int(try field(12 + part * 8))
        guard length > 0 else { return }
        let end = start + length
        guard end <= bytes.count else { throw .badBTFExt(offset: start, reason: "part runs past the end") }
        let recordSize = Int(try field(start))
        guard recordSize >= minimumRecord, recordSize % 4 == 0 else {
            throw .badBTFExt(offset: start, reason: "record size \(recordSize)")
        }
        var position = start + 4
        while position < end {
            let sectionName = try string(try field(position), at: position)
            let count = Int(try field(position + 4))
            position += 8
            guard count <= (end - position) / recordSize else {
                throw .badBTFExt(offset: position, reason: "\(count) records do not fit")
            }
            guard let section = object.codeSections.firstIndex(where: { $0.name == sectionName }) else {
                throw .badBTFExt(offset: position, reason: "no code section '\(sectionName)'")
            }
            for _ in 0..<count {
                let byteOffset = Int(try field(position))
                guard byteOffset % 8 == 0, byteOffset / 8 < object.codeSections[section].instructions.count else {
                    throw .badBTFExt(offset: position, reason: "insn_off \(byteOffset) outside '\(sectionName)'")
                }
                try record(section, byteOffset / 8, position)
                position += recordSize
            }
        }
    }

    try walk(part: 0, minimumRecord: Int(BTFWire.funcInfoRecordSize)) { (section, instruction, position) throws(ObjectError) in
        let type = BTFTypeID(rawValue: try field(position + 4))
        guard let function = object.codeSections[section].functions.firstIndex(where: { $0.firstInstruction == instruction })
        else {
            throw .badBTFExt(offset: position, reason: "func_info at instruction \(instruction) names no function")
        }
        object.codeSections[section].functions[function].btfFunction = type
    }
    try walk(part: 1, minimumRecord: Int(BTFWire.lineInfoRecordSize)) { (section, instruction, position) throws(ObjectError) in
        let file = try string(try field(position + 4), at: position)
        let text = try string(try field(position + 8), at: position)
        let lineColumn = try field(position + 12)
        object.codeSections[section].lines.append(LineRecord(
            instructionIndex: instruction, file: file, line: Int(lineColumn >> BTFWire.lineShift),
            column: Int(lineColumn & ((1 << BTFWire.lineShift) - 1)), sourceText: text))
    }
    // An older header (24 bytes) has no core_relo part.
    if headerLength >= Int(BTFWire.extHeaderLength) {
        try walk(part: 2, minimumRecord: Int(BTFWire.coreRelocationRecordSize)) {
            (section, instruction, position) throws(ObjectError) in
            let kindNumber = try field(position + 12)
            guard let kind = CoreRelocationKind(rawValue: kindNumber) else {
                throw .badBTFExt(offset: position, reason: "unknown core_relo kind \(kindNumber)")
            }
            object.codeSections[section].coreRelocations.append(CoreRelocationRecord(
                instructionIndex: instruction, type: BTFTypeID(rawValue: try field(position + 4)),
                accessString: try string(try field(position + 8), at: position), kind: kind))
        }
    }
    for index in object.codeSections.indices {
        object.codeSections[index].lines.sort { $0.instructionIndex < $1.instructionIndex }
    }
}
