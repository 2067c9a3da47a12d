// The BTF encoder: `BTFSpec` and per-section func_info/line_info to the bytes of `.BTF` and
// `.BTF.ext` (include/uapi/linux/btf.h, Documentation/bpf/btf.rst).
//
// `.BTF.ext` names sections, files and source lines by offsets into the `.BTF` string section, so
// both are built by one `BTFEncoder` that owns a single `StringTable`: encode the types, then the
// ext info, and only then take the `.BTF` bytes, whose string section by then holds every string.

/// A func_info record: the function starting at `byteOffset` in its section has BTF FUNC `function`.
public struct FuncInfoRecord: Hashable, Sendable {
    public var byteOffset: UInt32
    public var function: BTFTypeID

    public init(byteOffset: UInt32, function: BTFTypeID) {
        self.byteOffset = byteOffset
        self.function = function
    }
}

/// A line_info record: the instruction at `byteOffset` came from `file:line:column`, whose text is
/// `sourceText`.
public struct LineInfoRecord: Hashable, Sendable {
    public var byteOffset: UInt32
    public var file: String
    public var sourceText: String
    public var line: UInt32
    public var column: UInt32

    public init(byteOffset: UInt32, file: String, sourceText: String, line: UInt32, column: UInt32) {
        self.byteOffset = byteOffset
        self.file = file
        self.sourceText = sourceText
        self.line = line
        self.column = column
    }
}

/// `enum bpf_core_relo_kind` (include/uapi/linux/bpf.h): what a CO-RE relocation computes.
public enum CoreRelocationKind: UInt32, Hashable, Sendable {
    case fieldByteOffset = 0, fieldByteSize, fieldExists, fieldSigned, fieldLShiftU64, fieldRShiftU64
    case typeIDLocal, typeIDTarget, typeExists, typeSize
    case enumValueExists, enumValue
    case typeMatches
}

/// A core_relo record: the instruction at `byteOffset` holds a value of kind `kind` about BTF
/// type `type` (the root of `accessString`, `0:1:2`), which the loader recomputes for the kernel.
public struct CoreRelocationInfoRecord: Hashable, Sendable {
    public var byteOffset: UInt32
    public var type: BTFTypeID
    public var accessString: String
    public var kind: CoreRelocationKind

    public init(byteOffset: UInt32, type: BTFTypeID, accessString: String, kind: CoreRelocationKind) {
        self.byteOffset = byteOffset
        self.type = type
        self.accessString = accessString
        self.kind = kind
    }
}

/// The `.BTF.ext` records of one code section, offsets in bytes from the section start.
public struct BTFExtSection: Hashable, Sendable {
    public var name: String
    public var functions: [FuncInfoRecord]
    public var lines: [LineInfoRecord]
    public var coreRelocations: [CoreRelocationInfoRecord]

    public init(name: String, functions: [FuncInfoRecord], lines: [LineInfoRecord],
                coreRelocations: [CoreRelocationInfoRecord] = []) {
        self.name = name
        self.functions = functions
        self.lines = lines
        self.coreRelocations = coreRelocations
    }
}

/// Builds `.BTF` and `.BTF.ext` over one shared string table.
public struct BTFEncoder: Sendable {
    public private(set) var strings = StringTable()
    private var typeBytes: [UInt8]

    /// Encodes the types of `spec` right away, so their names come first in the string table as
    /// in clang's output.
    public init(_ spec: BTFSpec) {
        var writer = ByteWriter()
        for type in spec.types {
            Self.encode(type, into: &writer, strings: &strings)
        }
        typeBytes = writer.bytes
    }

    /// `.BTF`: header, type section, string section. Take it after `encodeExt`.
    public var btf: [UInt8] {
        var writer = ByteWriter()
        writer.append(BTFWire.magic)
        writer.append(BTFWire.version)
        writer.append(UInt8(0))  // flags
        writer.append(BTFWire.headerLength)
        writer.append(UInt32(0))  // type_off, relative to the end of the header
        writer.append(UInt32(typeBytes.count))
        writer.append(UInt32(typeBytes.count))  // str_off
        writer.append(UInt32(strings.bytes.count))
        writer.append(bytes: typeBytes)
        writer.append(bytes: strings.bytes)
        return writer.bytes
    }

    /// `.BTF.ext` with func_info, line_info and core_relo. Sections without records of a kind are
    /// left out of that part; a part with no sections at all has length 0.
    public mutating func encodeExt(_ sections: [BTFExtSection]) -> [UInt8] {
        let funcInfo = encodePart(sections, recordSize: BTFWire.funcInfoRecordSize, records: \.functions) {
            writer, record, _ in
            writer.append(record.byteOffset)
            writer.append(record.function.rawValue)
        }
        let lineInfo = encodePart(sections, recordSize: BTFWire.lineInfoRecordSize, records: \.lines) {
            writer, record, strings in
            writer.append(record.byteOffset)
            writer.append(strings.offset(of: record.file))
            writer.append(strings.offset(of: record.sourceText))
            // Line and column share one u32; out-of-range values are clamped rather than let spill over.
            let column = min(record.column, 1 << BTFWire.lineShift - 1)
            let line = min(record.line, UInt32.max >> BTFWire.lineShift)
            writer.append(line << BTFWire.lineShift | column)
        }
        let coreRelocations = encodePart(sections, recordSize: BTFWire.coreRelocationRecordSize,
                                         records: \.coreRelocations) { writer, record, strings in
            writer.append(record.byteOffset)
            writer.append(record.type.rawValue)
            writer.append(strings.offset(of: record.accessString))
            writer.append(record.kind.rawValue)
        }
        var writer = ByteWriter()
        writer.append(BTFWire.magic)
        writer.append(BTFWire.version)
        writer.append(UInt8(0))  // flags
        writer.append(BTFWire.extHeaderLength)
        // Offsets are relative to the end of the header.
        writer.append(UInt32(0))
        writer.append(UInt32(funcInfo.count))
        writer.append(UInt32(funcInfo.count))
        writer.append(UInt32(lineInfo.count))
        writer.append(UInt32(funcInfo.count + lineInfo.count))  // core_relo_off
        writer.append(UInt32(coreRelocations.count))
        writer.append(bytes: funcInfo)
        writer.append(bytes: lineInfo)
        writer.append(bytes: coreRelocations)
        return writer.bytes
    }

    /// One part of `.BTF.ext`: rec_size, then per section {sec_name_off, num_info, records}.
    private mutating func encodePart<Record>(
        _ sections: [BTFExtSection], recordSize: UInt32, records: KeyPath<BTFExtSection, [Record]>,
        encodeRecord: (inout ByteWriter, Record, inout StringTable) -> Void
    ) -> [UInt8] {
        let populated = sections.filter { !$0[keyPath: records].isEmpty }
        guard !populated.isEmpty else { return [] }
        var writer = ByteWriter()
        writer.append(recordSize)
        for section in populated {
            let list = section[keyPath: records]
            writer.append(strings.offset(of: section.name))
            writer.append(UInt32(list.count))
            for record in list {
                encodeRecord(&writer, record, &strings)
            }
        }
        return writer.bytes
    }

    /// The common `struct btf_type` header: name_off, info (vlen, kind, kind_flag), size or type.
    private static func header(
        _ writer: inout ByteWriter, name: UInt32, kind: BTFWire.Kind, vlen: Int = 0,
        kindFlag: Bool = false, sizeOrType: UInt32
    ) {
        precondition(vlen <= 0xffff, "BTF vlen is 16 bits")
        writer.append(name)
        writer.append(UInt32(vlen) | kind.rawValue << 24 | (kindFlag ? 1 << 31 : 0))
        writer.append(sizeOrType)
    }

    private static func encode(_ type: BTFType, into writer: inout ByteWriter, strings: inout StringTable) {
        switch type {
        case .int(let name, let size, let encoding):
            header(&writer, name: strings.offset(of: name), kind: .int, sizeOrType: size)
            let bits: UInt32
            switch encoding {
            case .unsigned: bits = 0
            case .signed: bits = BTFWire.intSigned
            case .char: bits = BTFWire.intChar
            case .bool: bits = BTFWire.intBool
            }
            // Encoding in bits 24-27, bit offset 0, width in bits 0-7.
            writer.append(bits << 24 | size * 8)
        case .pointer(let target):
            header(&writer, name: 0, kind: .pointer, sizeOrType: target.rawValue)
        case .array(let element, let index, let count):
            header(&writer, name: 0, kind: .array, sizeOrType: 0)
            writer.append(element.rawValue)
            writer.append(index.rawValue)
            writer.append(count)
        case .structure(let name, let size, let members):
            encodeMembers(&writer, name: name, kind: .structure, size: size, members: members, strings: &strings)
        case .union(let name, let size, let members):
            encodeMembers(&writer, name: name, kind: .union, size: size, members: members, strings: &strings)
        case .enumeration(let name, let size, let isSigned, let values):
            let range: ClosedRange<Int64> = isSigned ? Int64(Int32.min)...Int64(Int32.max) : 0...Int64(UInt32.max)
            let fits32 = size <= 4 && values.allSatisfy { range.contains($0.value) }
            header(&writer, name: strings.offset(of: name), kind: fits32 ? .enumeration : .enumeration64,
                   vlen: values.count, kindFlag: isSigned, sizeOrType: size)
            for value in values {
                writer.append(strings.offset(of: value.name))
                let bits = UInt64(bitPattern: value.value)
                writer.append(UInt32(truncatingIfNeeded: bits))
                if !fits32 { writer.append(UInt32(truncatingIfNeeded: bits >> 32)) }
            }
        case .forward(let name, let isUnion):
            header(&writer, name: strings.offset(of: name), kind: .forward, kindFlag: isUnion, sizeOrType: 0)
        case .typedef(let name, let target):
            header(&writer, name: strings.offset(of: name), kind: .typedef, sizeOrType: target.rawValue)
        case .volatile(let target):
            header(&writer, name: 0, kind: .volatile, sizeOrType: target.rawValue)
        case .const(let target):
            header(&writer, name: 0, kind: .const, sizeOrType: target.rawValue)
        case .restrict(let target):
            header(&writer, name: 0, kind: .restrict, sizeOrType: target.rawValue)
        case .function(let name, let proto, let linkage):
            header(&writer, name: strings.offset(of: name), kind: .function, vlen: Int(linkage.rawValue),
                   sizeOrType: proto.rawValue)
        case .functionProto(let returnType, let parameters):
            header(&writer, name: 0, kind: .functionProto, vlen: parameters.count, sizeOrType: returnType.rawValue)
            for parameter in parameters {
                writer.append(strings.offset(of: parameter.name))
                writer.append(parameter.type.rawValue)
            }
        case .variable(let name, let target, let linkage):
            header(&writer, name: strings.offset(of: name), kind: .variable, sizeOrType: target.rawValue)
            writer.append(linkage.rawValue)
        case .dataSection(let name, let size, let variables):
            header(&writer, name: strings.offset(of: name), kind: .dataSection, vlen: variables.count, sizeOrType: size)
            for variable in variables {
                writer.append(variable.type.rawValue)
                writer.append(variable.offset)
                writer.append(variable.size)
            }
        case .float(let name, let size):
            header(&writer, name: strings.offset(of: name), kind: .float, sizeOrType: size)
        case .declTag(let name, let target, let componentIndex):
            header(&writer, name: strings.offset(of: name), kind: .declTag, sizeOrType: target.rawValue)
            writer.append(componentIndex)
        case .typeTag(let name, let target):
            header(&writer, name: strings.offset(of: name), kind: .typeTag, sizeOrType: target.rawValue)
        }
    }

    /// STRUCT and UNION. With any bitfield the kind_flag is set and every member's offset packs
    /// `bitfield_size << 24 | bit_offset`.
    private static func encodeMembers(
        _ writer: inout ByteWriter, name: String, kind: BTFWire.Kind, size: UInt32,
        members: [BTFType.Member], strings: inout StringTable
    ) {
        let hasBitfield = members.contains { $0.bitfieldSize != 0 }
        header(&writer, name: strings.offset(of: name), kind: kind, vlen: members.count, kindFlag: hasBitfield,
               sizeOrType: size)
        for member in members {
            writer.append(strings.offset(of: member.name))
            writer.append(member.type.rawValue)
            writer.append(hasBitfield ? member.bitfieldSize << 24 | member.bitOffset : member.bitOffset)
        }
    }
}

/// `.BTF` bytes of a spec alone (no `.BTF.ext`).
public func encodeBTF(_ spec: BTFSpec) -> [UInt8] {
    BTFEncoder(spec).btf
}
