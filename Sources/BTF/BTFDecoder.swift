// Reads the `.BTF` wire format (include/uapi/linux/btf.h, Documentation/bpf/btf.rst) back into
// a `BTFSpec`. The loader needs it for globals (VAR types), BTF-defined maps and line_info text.

/// Why a `.BTF` blob could not be read. Offsets are byte offsets into the blob.
public enum BTFDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    case badHeader(String)
    case truncated(what: String, offset: Int)
    case badStringOffset(UInt32)
    case unknownKind(type: BTFTypeID, kind: UInt32)
    /// A type the kernel's BTF checker would refuse and the model cannot hold.
    case badType(type: BTFTypeID, reason: String)

    public var description: String {
        switch self {
        case .badHeader(let reason): "bad BTF header: \(reason)"
        case .truncated(let what, let offset): "BTF truncated in \(what) at byte \(offset)"
        case .badStringOffset(let offset): "BTF string offset \(offset) is outside the string section"
        case .unknownKind(let type, let kind): "BTF type \(type) has unknown kind \(kind)"
        case .badType(let type, let reason): "BTF type \(type): \(reason)"
        }
    }
}

/// The string section of a `.BTF` blob. `.BTF.ext` refers into it for section names, file names
/// and the source text of line_info. Split BTF (a kernel module's, on top of vmlinux) continues
/// its base's strings: offsets below the base's size are the base's.
public struct BTFStringTable: Sendable {
    private let reader: ByteReader
    /// The base blob's strings and their size; nil for a blob of its own.
    private let base: (table: ByteReader, size: Int)?

    public init(_ bytes: [UInt8], base: BTFStringTable? = nil) {
        reader = ByteReader(bytes)
        self.base = base.map { ($0.reader, $0.reader.bytes.count) }
    }

    public func string(at offset: UInt32) throws(BTFDecodingError) -> String {
        do {
            guard let base else { return try reader.cString(at: Int(offset)) }
            return Int(offset) < base.size
                ? try base.table.cString(at: Int(offset)) : try reader.cString(at: Int(offset) - base.size)
        } catch {
            throw .badStringOffset(offset)
        }
    }
}

/// A decoded `.BTF` blob: the types and the string table they were named from.
public struct DecodedBTF: Sendable {
    public var spec: BTFSpec
    public var strings: BTFStringTable
}

/// Decodes a `.BTF` section. Throws on any malformed or truncated input; never traps.
///
/// With a `base`, the blob is split BTF (what /sys/kernel/btf/MODULE holds): its types get the ids
/// after the base's and may refer to the base's types and strings, so the result's spec holds the
/// base's types followed by the blob's own.
public func decodeBTF(_ bytes: [UInt8], base: DecodedBTF? = nil) throws(BTFDecodingError) -> DecodedBTF {
    let header = ByteReader(bytes)
    let magic: UInt16, version: UInt32, headerLength: UInt32
    let typeOffset: UInt32, typeLength: UInt32, stringOffset: UInt32, stringLength: UInt32
    do {
        magic = try header.u16(at: 0)
        version = UInt32(try header.slice(at: 2, length: 1).first ?? 0)
        headerLength = try header.u32(at: 4)
        typeOffset = try header.u32(at: 8)
        typeLength = try header.u32(at: 12)
        stringOffset = try header.u32(at: 16)
        stringLength = try header.u32(at: 20)
    } catch {
        throw .badHeader("only \(bytes.count) bytes")
    }
    guard magic == BTFWire.magic else { throw .badHeader("magic 0x\(String(magic, radix: 16))") }
    guard version == UInt32(BTFWire.version) else { throw .badHeader("version \(version)") }
    guard headerLength >= BTFWire.headerLength else { throw .badHeader("header length \(headerLength)") }

    let typeStart = Int(headerLength) + Int(typeOffset)
    let stringStart = Int(headerLength) + Int(stringOffset)
    let typeBytes: [UInt8], stringBytes: [UInt8]
    do {
        typeBytes = Array(try header.slice(at: typeStart, length: Int(typeLength)))
        stringBytes = Array(try header.slice(at: stringStart, length: Int(stringLength)))
    } catch {
        throw .badHeader("type or string section lies outside the \(bytes.count) bytes")
    }
    let strings = BTFStringTable(stringBytes, base: base?.strings)
    var reader = ByteReader(typeBytes)
    var spec = base?.spec ?? BTFSpec()
    while !reader.isAtEnd {
        let id = BTFTypeID(rawValue: UInt32(spec.types.count + 1))
        let start = reader.offset
        do {
            spec.types.append(try decodeType(&reader, id: id, strings: strings))
        } catch let error as BTFDecodingError {
            throw error
        } catch {
            throw .truncated(what: "type \(id)", offset: typeStart + start)
        }
    }
    return DecodedBTF(spec: spec, strings: strings)
}

/// One `struct btf_type` plus its kind-specific trailer.
private func decodeType(_ reader: inout ByteReader, id: BTFTypeID, strings: BTFStringTable) throws -> BTFType {
    let name = try strings.string(at: try reader.readU32())
    let info = try reader.readU32()
    let sizeOrType = try reader.readU32()
    let vlen = Int(info & 0xffff)
    let kindFlag = info >> 31 != 0
    let rawKind = (info >> 24) & 0x1f
    let typeRef = BTFTypeID(rawValue: sizeOrType)
    guard let kind = BTFWire.Kind(rawValue: rawKind) else { throw BTFDecodingError.unknownKind(type: id, kind: rawKind) }

    switch kind {
    case .int:
        // The model keeps an INT's size and writes it back as size·8 bits; the kernel's checker
        // (btf_int_check_meta) allows at most 128 bits, so no wider INT can be loaded.
        guard sizeOrType <= 16 else {
            throw BTFDecodingError.badType(
                type: id, reason: "INT of \(sizeOrType) bytes is wider than the 128 bits the kernel's BTF allows")
        }
        let bits = try reader.readU32()
        let flags = (bits >> 24) & 0x0f
        let encoding: BTFType.IntEncoding =
            flags & BTFWire.intBool != 0 ? .bool
            : flags & BTFWire.intChar != 0 ? .char
            : flags & BTFWire.intSigned != 0 ? .signed : .unsigned
        return .int(name: name, size: sizeOrType, encoding: encoding)
    case .pointer: return .pointer(typeRef)
    case .array:
        let element = BTFTypeID(rawValue: try reader.readU32())
        let index = BTFTypeID(rawValue: try reader.readU32())
        return .array(element: element, index: index, count: try reader.readU32())
    case .structure, .union:
        var members: [BTFType.Member] = []
        for _ in 0..<vlen {
            let memberName = try strings.string(at: try reader.readU32())
            let memberType = BTFTypeID(rawValue: try reader.readU32())
            let offset = try reader.readU32()
            members.append(kindFlag
                ? .init(name: memberName, type: memberType, bitOffset: offset & 0xffffff, bitfieldSize: offset >> 24)
                : .init(name: memberName, type: memberType, bitOffset: offset))
        }
        return kind == .structure
            ? .structure(name: name, size: sizeOrType, members: members)
            : .union(name: name, size: sizeOrType, members: members)
    case .enumeration, .enumeration64:
        var values: [BTFType.Enumerator] = []
        for _ in 0..<vlen {
            let valueName = try strings.string(at: try reader.readU32())
            let low = try reader.readU32()
            let value: Int64 =
                kind == .enumeration64
                ? Int64(bitPattern: UInt64(low) | UInt64(try reader.readU32()) << 32)
                : kindFlag ? Int64(Int32(bitPattern: low)) : Int64(low)
            values.append(.init(name: valueName, value: value))
        }
        return .enumeration(name: name, size: sizeOrType, isSigned: kindFlag, values: values)
    case .forward: return .forward(name: name, isUnion: kindFlag)
    case .typedef: return .typedef(name: name, type: typeRef)
    case .volatile: return .volatile(typeRef)
    case .const: return .const(typeRef)
    case .restrict: return .restrict(typeRef)
    case .function:
        return .function(name: name, proto: typeRef, linkage: BTFLinkage(rawValue: UInt32(vlen)) ?? .static)
    case .functionProto:
        var parameters: [BTFType.Parameter] = []
        for _ in 0..<vlen {
            let parameterName = try strings.string(at: try reader.readU32())
            parameters.append(.init(name: parameterName, type: BTFTypeID(rawValue: try reader.readU32())))
        }
        return .functionProto(returnType: typeRef, parameters: parameters)
    case .variable:
        let linkage = try reader.readU32()
        return .variable(name: name, type: typeRef, linkage: BTFLinkage(rawValue: linkage) ?? .static)
    case .dataSection:
        var variables: [BTFType.SectionVariable] = []
        for _ in 0..<vlen {
            let type = BTFTypeID(rawValue: try reader.readU32())
            let offset = try reader.readU32()
            variables.append(.init(type: type, offset: offset, size: try reader.readU32()))
        }
        return .dataSection(name: name, size: sizeOrType, variables: variables)
    case .float: return .float(name: name, size: sizeOrType)
    case .declTag:
        let component = Int32(bitPattern: try reader.readU32())
        return .declTag(name: name, type: typeRef, componentIndex: component)
    case .typeTag: return .typeTag(name: name, type: typeRef)
    }
}
