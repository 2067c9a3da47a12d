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

    /// Size in bytes of a value of this type; nil for void, functions and malformed chains. Arrays
    /// nest at most 32 deep, the kernel's MAX_RESOLVE_DEPTH, so an array of itself ends.
    func size(of id: BTFTypeID, depth: Int = 32) -> Int? {
        guard depth > 0, let (_, type) = resolved(id) else { return nil }
        switch type {
        case .int(_, let size, _), .structure(_, let size, _), .union(_, let size, _),
             .enumeration(_, let size, _, _), .float(_, let size), .dataSection(_, let size, _):
            return Int(size)
        case .pointer:
            return 8
        case .array(let element, _, let count):
            guard let elementSize = size(of: element, depth: depth - 1) else { return nil }
            let (total, overflow) = elementSize.multipliedReportingOverflow(by: Int(count))
            return overflow ? nil : total
        case .variable(_, let type, _):
            return size(of: type, depth: depth - 1)
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

// MARK: kfunc prototypes

extension BTFSpec {
    /// Whether the object's type `local` can stand for `target` of the kernel's BTF in a kfunc
    /// prototype, by the rules of libbpf's bpf_core_types_are_compat: typedefs, qualifiers and
    /// type tags do not count; any integer matches any integer (the size lives in the register);
    /// structs, unions, enums and forward declarations match their own kind by kind alone;
    /// pointers, arrays and function prototypes match when what they are built from matches, and
    /// prototypes need the same number of parameters.
    func isCompatible(_ local: BTFTypeID, with target: BTFTypeID, in kernel: BTFSpec, depth: Int = 32) -> Bool {
        guard depth > 0 else { return false }
        // nil is void (or a broken chain, which then matches nothing but void).
        let localType = resolved(local)?.type, targetType = kernel.resolved(target)?.type
        guard let localType else { return targetType == nil }
        guard let targetType else { return false }
        func matches(_ a: BTFTypeID, _ b: BTFTypeID) -> Bool {
            isCompatible(a, with: b, in: kernel, depth: depth - 1)
        }
        switch localType {
        case .int:
            if case .int = targetType { return true }
        case .enumeration:
            if case .enumeration = targetType { return true }
        case .structure:
            if case .structure = targetType { return true }
        case .union:
            if case .union = targetType { return true }
        case .forward(_, let isUnion):
            if case .forward(_, isUnion) = targetType { return true }
        case .pointer(let pointee):
            if case .pointer(let targetPointee) = targetType { return matches(pointee, targetPointee) }
        case .array(let element, _, _):
            if case .array(let targetElement, _, _) = targetType { return matches(element, targetElement) }
        case .functionProto(let returnType, let parameters):
            if case .functionProto(let targetReturn, let targetParameters) = targetType {
                return parameters.count == targetParameters.count && matches(returnType, targetReturn)
                    && zip(parameters, targetParameters).allSatisfy { matches($0.type, $1.type) }
            }
        case .float, .function, .variable, .dataSection, .declTag, .typedef, .volatile, .const, .restrict, .typeTag:
            break  // not a kind a prototype is made of (the last five are resolved away)
        }
        return false
    }

    /// A type as C, declaring `declarator` (a name, or empty): `void *bpf_arena_alloc_pages(void
    /// *p__map, ..., u64 flags)` for a FUNC. Type tags are left out, as C has no spelling for them.
    func cDeclaration(of id: BTFTypeID, declarator: String = "") -> String {
        var budget = 1000
        return cDeclaration(of: id, declarator: declarator, budget: &budget)
    }

    /// `budget` counts the types spelled: malformed BTF can make a type of itself, or a prototype
    /// whose parameters lead back to it many times over, so the spelling stops ("...") when it runs out.
    private func cDeclaration(of id: BTFTypeID, declarator: String, budget: inout Int) -> String {
        func spaced(_ base: String) -> String { declarator.isEmpty ? base : base + " " + declarator }
        // Array and function declarators bind tighter than `*`.
        let grouped = declarator.hasPrefix("*") ? "(\(declarator))" : declarator
        guard budget > 0 else { return spaced("...") }
        budget -= 1
        guard let type = self[id] else { return spaced("void") }
        switch type {
        case .int(let name, _, _), .float(let name, _), .typedef(let name, _):
            return spaced(name)
        case .structure(let name, _, _):
            return spaced("struct \(name)")
        case .union(let name, _, _):
            return spaced("union \(name)")
        case .enumeration(let name, _, _, _):
            return spaced("enum \(name)")
        case .forward(let name, let isUnion):
            return spaced((isUnion ? "union " : "struct ") + name)
        case .pointer(let pointee):
            return cDeclaration(of: pointee, declarator: "*" + declarator, budget: &budget)
        case .const(let next), .volatile(let next), .restrict(let next):
            let qualifier = if case .const = type { "const" } else if case .volatile = type { "volatile" } else { "restrict" }
            // A qualified pointer puts the qualifier after the `*`; anything else before the type.
            if case .pointer? = self[next] {
                return cDeclaration(of: next, declarator: qualifier + (declarator.isEmpty ? "" : " " + declarator), budget: &budget)
            }
            return qualifier + " " + cDeclaration(of: next, declarator: declarator, budget: &budget)
        case .typeTag(_, let next):
            return cDeclaration(of: next, declarator: declarator, budget: &budget)
        case .array(let element, _, let count):
            return cDeclaration(of: element, declarator: grouped + "[\(count)]", budget: &budget)
        case .functionProto(let returnType, let parameters):
            let list = parameters.isEmpty ? "void" : parameters.map {
                $0.type == .void && $0.name.isEmpty ? "..." : cDeclaration(of: $0.type, declarator: $0.name, budget: &budget)
            }.joined(separator: ", ")
            return cDeclaration(of: returnType, declarator: grouped + "(\(list))", budget: &budget)
        case .function(let name, let proto, _):
            return cDeclaration(of: proto, declarator: name, budget: &budget)
        case .variable(let name, let type, _):
            return cDeclaration(of: type, declarator: name, budget: &budget)
        case .dataSection(let name, _, _):
            return "SEC(\"\(name)\")"
        case .declTag(let name, let target, _):
            return "__attribute__((btf_decl_tag(\"\(name)\"))) " + cDeclaration(of: target, declarator: declarator, budget: &budget)
        }
    }
}
