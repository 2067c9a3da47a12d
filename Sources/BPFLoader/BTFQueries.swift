import BTF

// Questions the loader asks of an object's BTF: how big is a type, what does a typedef chain
// end in. libbpf answers the same ones in btf__resolve_size and skip_mods_and_typedefs.

extension BTFSpec {
    /// Follows typedefs, qualifiers and type tags to the type that gives the layout.
    func resolved(_ id: BTFTypeID) -> (id: BTFTypeID, type: BTFType)? {
        var current = id
        for _ in 0..<types.count {
            guard let type = self[current] else { return nil }
            switch type {
            case .typedef(_, let next), .volatile(let next), .const(let next), .restrict(let next),
                 .typeTag(_, let next):
                current = next
            case .int, .pointer, .array, .structure, .union, .enumeration, .forward, .function,
                 .functionProto, .variable, .dataSection, .float, .declTag:
                return (current, type)
            }
        }
        return nil  // a cycle of typedefs: malformed BTF
    }

    /// Size in bytes of a value of this type; nil for void, functions and malformed chains.
    func size(of id: BTFTypeID) -> Int? {
        guard let (_, type) = resolved(id) else { return nil }
        switch type {
        case .int(_, let size, _), .structure(_, let size, _), .union(_, let size, _),
             .enumeration(_, let size, _, _), .float(_, let size), .dataSection(_, let size, _):
            return Int(size)
        case .pointer:
            return 8
        case .array(let element, _, let count):
            guard let elementSize = size(of: element) else { return nil }
            let (total, overflow) = elementSize.multipliedReportingOverflow(by: Int(count))
            return overflow ? nil : total
        case .variable(_, let type, _):
            return size(of: type)
        case .forward, .function, .functionProto, .declTag, .typedef, .volatile, .const, .restrict, .typeTag:
            return nil
        }
    }

    /// The first type with this name and kind test, with its id.
    func first(where matches: (BTFType) -> Bool) -> (id: BTFTypeID, type: BTFType)? {
        guard let index = types.firstIndex(where: matches) else { return nil }
        return (BTFTypeID(rawValue: UInt32(index + 1)), types[index])
    }
}
