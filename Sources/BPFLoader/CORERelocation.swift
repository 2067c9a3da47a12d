import BPFInstructions
import BPFObject
import BTF

// CO-RE relocations, applied before linking as libbpf's bpf_object__relocate_core applies them
// (the rules of its relo_core.c). Each `.BTF.ext` core_relo record names an instruction, a type of
// the object's BTF and an access string; the loader finds the kernel types of the same name
// (flavor suffix `___...` stripped) and kind, in vmlinux BTF or, when vmlinux has none, in module
// BTF, matches the access path against each by member name, and rewrites the instruction with the
// value the kernel's layout gives: an ALU immediate, a load's or store's offset (and size, where
// the field's size changed and the value read stays the same), or an ld_imm64's 64-bit immediate.
// Every candidate that matches must give the same value. A relocation no candidate satisfies
// poisons its instruction (a call to helper 0xbad2310), which the verifier accepts only as dead
// code, so an access guarded by bpf_core_field_exists() and friends loads on kernels without it.

/// libbpf's poison: `call 0xbad2310` ("bad relo"), a helper no kernel has.
let poisonedRelocationHelper: Int32 = 0xbad2310

/// A relocation that could not be satisfied, whose instruction was poisoned: what it asked for and
/// why the kernel's BTF cannot give it.
struct FailedCORERelocation: Hashable {
    var section: Int
    var instruction: Int
    var explanation: String
}

/// Applies every CO-RE relocation of `object` to its instructions against the kernel's BTF and
/// returns those whose instructions were poisoned. Throws where libbpf refuses to load: malformed
/// records, candidates that disagree, instructions of an unexpected form or value.
func applyCORERelocations(to object: inout ObjectFile, kernel: KernelBTF) throws(LoadError) -> [FailedCORERelocation] {
    guard let local = object.btf, object.codeSections.contains(where: { !$0.coreRelocations.isEmpty }) else { return [] }
    var resolver = COREResolver(local: local, kernel: kernel)
    var failed: [FailedCORERelocation] = []
    for sectionIndex in object.codeSections.indices {
        let section = object.codeSections[sectionIndex]
        for relocation in section.coreRelocations {
            let index = relocation.instructionIndex
            do {
                let result = try resolver.resolve(relocation)
                if let reason = try patch(&object.codeSections[sectionIndex].instructions, at: index, with: result) {
                    failed.append(FailedCORERelocation(
                        section: sectionIndex, instruction: index,
                        explanation: "CO-RE relocation <\(relocation.kind.spelling)> of \(describe(relocation, in: local)) failed: \(reason)"))
                }
            } catch let error as COREError {
                throw .coreRelocation(section: section.name, instruction: index,
                                      line: section.lines.last { $0.instructionIndex <= index },
                                      relocation: "<\(relocation.kind.spelling)> of \(describe(relocation, in: local))",
                                      reason: error.reason)
            } catch let error as LoadError {
                throw error
            } catch {
                preconditionFailure("CO-RE resolution throws only COREError and LoadError, not \(error)")
            }
        }
    }
    return failed
}

extension LinkedProgram {
    /// Records the failed relocations whose instructions this program holds, by their index here.
    mutating func noteFailedRelocations(_ failures: [FailedCORERelocation]) {
        for piece in placed {
            let range = piece.function.firstInstruction..<piece.function.firstInstruction + piece.function.instructionCount
            for failure in failures where failure.section == piece.section && range.contains(failure.instruction) {
                failedRelocations[piece.start + failure.instruction - piece.function.firstInstruction] = failure.explanation
            }
        }
    }

    /// "invalid func unknown#195896080" at a poisoned instruction: the relocation that failed there,
    /// and how such an access is kept out of reach.
    func failedRelocationNotes(_ reason: String, at instruction: Int) -> [String] {
        guard reason == "invalid func unknown#\(poisonedRelocationHelper)",
              let explanation = failedRelocations[instruction]
        else { return [] }
        return [explanation, "the loader replaced the instruction with a call to the impossible helper "
                + "\(poisonedRelocationHelper), as libbpf does: it must be unreachable on this kernel, as under "
                + "`if (bpf_core_field_exists(...))`, bpf_core_type_exists() or bpf_core_enum_value_exists()"]
    }
}

/// Why libbpf would refuse a relocation outright.
struct COREError: Error {
    var reason: String
}

/// The relocation as a person reads it: `struct task_struct___mine.tgid` for a field,
/// `enum bpf_map_type___x::BPF_MAP_TYPE_ARENA___x` for an enumerator, the type for the rest.
func describe(_ relocation: CoreRelocationRecord, in btf: BTFSpec) -> String {
    let root = btf.cDeclaration(of: relocation.type)
    guard let access = try? parseAccess(relocation, in: btf) else {
        return "`\(root)` (access \(relocation.accessString))"
    }
    if relocation.kind.isTypeBased { return "`\(root)`" }
    if relocation.kind.isEnumeratorBased { return "`\(root)::\(access.accessors[0].name ?? "")`" }
    var path = root
    for (position, accessor) in access.accessors.enumerated() {
        if let name = accessor.name {
            path += "." + name
        } else if position > 0 || accessor.index > 0 {
            path += "[\(accessor.index)]"
        }
    }
    return "`\(path)` (access \(relocation.accessString))"
}

// MARK: Access paths

/// One step of an access path that matching cares about (libbpf's high-level accessor): a named
/// member of a struct or union, an array element (the root pointer's index counts as one), or the
/// enumerator of an enum relocation.
struct COREAccessor: Hashable {
    /// A member's struct or union, an element's type, an enumerator's enum; typedefs and
    /// qualifiers resolved away.
    var type: BTFTypeID
    var index: Int
    /// The member's or enumerator's name; nil for an array element.
    var name: String?
}

/// An access path in one BTF (libbpf's bpf_core_spec): its root type, the steps that match by name
/// or index, every index of the path including anonymous members, and the bit offset it reaches.
struct COREAccess {
    var root: BTFTypeID
    var accessors: [COREAccessor] = []
    var raw: [Int] = []
    var bitOffset = 0

    /// Offsets are counted in a u32 of bits, as libbpf counts them; no kernel struct comes near.
    mutating func advance(byBits bits: Int) throws(COREError) {
        let (sum, overflow) = bitOffset.addingReportingOverflow(bits)
        guard !overflow, sum <= Int(UInt32.max) else { throw COREError(reason: "the field's offset exceeds 2^32 bits") }
        bitOffset = sum
    }

    /// Past `count` elements of `size` bytes.
    mutating func advance(byElements count: Int, of size: Int) throws(COREError) {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        let (bits, bitsOverflow) = bytes.multipliedReportingOverflow(by: 8)
        guard !overflow, !bitsOverflow else { throw COREError(reason: "the field's offset exceeds 2^32 bits") }
        try advance(byBits: bits)
    }
}

/// Parses a relocation's access string against the object's BTF (libbpf's bpf_core_parse_spec):
/// the first number indexes the root pointer, each later one a member of a struct or union or an
/// element of an array, and the path's bit offset adds up along the way.
func parseAccess(_ relocation: CoreRelocationRecord, in btf: BTFSpec) throws(COREError) -> COREAccess {
    let text = relocation.accessString
    var access = COREAccess(root: relocation.type)
    if relocation.kind.isTypeBased {
        guard text == "0" else { throw COREError(reason: "a type relocation's access string must be \"0\", not \"\(text)\"") }
        return access
    }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    let numbers = parts.compactMap { Int($0) }
    guard !text.isEmpty, numbers.count == parts.count, numbers.allSatisfy({ $0 >= 0 }) else {
        throw COREError(reason: "malformed access string \"\(text)\"")
    }
    // libbpf's BPF_CORE_SPEC_MAX_LEN.
    guard numbers.count <= maximumAccessLength else {
        throw COREError(reason: "access string \"\(text)\" is longer than \(maximumAccessLength) steps")
    }
    access.raw = numbers
    guard let (rootID, rootType) = btf.resolved(relocation.type) else {
        throw COREError(reason: "type [\(relocation.type.rawValue)] is not a type of the object's BTF")
    }
    if relocation.kind.isEnumeratorBased {
        guard case .enumeration(_, _, _, let values) = rootType, numbers.count == 1, numbers[0] < values.count else {
            throw COREError(reason: "access string \"\(text)\" names no enumerator of \(btf.cDeclaration(of: relocation.type))")
        }
        access.accessors = [COREAccessor(type: rootID, index: numbers[0], name: values[numbers[0]].name)]
        return access
    }
    access.accessors = [COREAccessor(type: rootID, index: numbers[0], name: nil)]
    guard let rootSize = btf.size(of: rootID) else {
        throw COREError(reason: "\(btf.cDeclaration(of: rootID)) has no size")
    }
    try access.advance(byElements: numbers[0], of: rootSize)
    var current = rootID
    for number in numbers.dropFirst() {
        guard let (id, type) = btf.resolved(current) else {
            throw COREError(reason: "access string \"\(text)\" leads to a broken type chain")
        }
        switch type {
        case .structure(_, _, let members), .union(_, _, let members):
            guard number < members.count else {
                throw COREError(reason: "access string \"\(text)\": \(btf.cDeclaration(of: id)) has no member #\(number)")
            }
            try access.advance(byBits: Int(members[number].bitOffset))
            if !members[number].name.isEmpty {
                access.accessors.append(COREAccessor(type: id, index: number, name: members[number].name))
            }
            current = members[number].type
        case .array(let element, _, let count):
            guard let (elementID, _) = btf.resolved(element), let elementSize = btf.size(of: elementID) else {
                throw COREError(reason: "access string \"\(text)\": the elements of \(btf.cDeclaration(of: id)) have no size")
            }
            guard number < count || btf.isFlexibleArray(count: count, after: access.accessors.last) else {
                throw COREError(reason: "access string \"\(text)\": index \(number) is outside \(btf.cDeclaration(of: id))")
            }
            access.accessors.append(COREAccessor(type: elementID, index: number, name: nil))
            try access.advance(byElements: number, of: elementSize)
            current = elementID
        case .int, .pointer, .enumeration, .forward, .typedef, .volatile, .const, .restrict, .function,
             .functionProto, .variable, .dataSection, .float, .declTag, .typeTag:
            throw COREError(reason: "access string \"\(text)\" indexes into \(btf.cDeclaration(of: id)), which has no members or elements")
        }
    }
    return access
}

/// libbpf's BPF_CORE_SPEC_MAX_LEN: the most steps an access path may have.
private let maximumAccessLength = 64

// MARK: Candidates and matching

/// A kernel type a local type may correspond to.
private struct Candidate {
    var object: Int
    var id: BTFTypeID
}

/// Whether a kernel candidate matches the local access path, and the path in it if so.
private enum Match {
    case matched(COREAccess)
    /// Why not, as words that follow the candidate's name.
    case mismatch(String)
}

/// Resolves relocations against the kernel: finds candidates (cached per local type, with a name
/// index per kernel BTF object) and matches the local access path against each.
struct COREResolver {
    let local: BTFSpec
    let kernel: KernelBTF
    /// vmlinux first; the modules once a type is missing from vmlinux.
    private var objects: [KernelBTFObject] = []
    private var modulesRead = false
    /// Essential name -> ids of the object's own named types, per kernel BTF object.
    private var nameIndex: [Int: [String: [BTFTypeID]]] = [:]
    private var cachedCandidates: [BTFTypeID: [Candidate]] = [:]

    init(local: BTFSpec, kernel: KernelBTF) {
        self.local = local
        self.kernel = kernel
    }

    /// The relocation's values for the running kernel (libbpf's bpf_core_calc_relo_insn). Throws
    /// `COREError` where libbpf refuses the relocation, `LoadError` where the kernel's BTF cannot
    /// be read.
    mutating func resolve(_ relocation: CoreRelocationRecord) throws -> COREResult {
        let localAccess = try parseAccess(relocation, in: local)
        if relocation.kind == .typeIDLocal {
            // The object's own type id: nothing to look up, and linking may renumber it.
            let id = UInt64(relocation.type.rawValue)
            return COREResult(original: id, new: id, validate: false)
        }
        guard let localType = local[relocation.type], let name = localType.name, !name.isEmpty else {
            throw COREError(reason: "relocations against anonymous types are not supported (kernel types are found by name)")
        }
        let candidates = try candidates(for: relocation.type, localType)
        var matched: (access: COREAccess, result: COREResult)?
        var matching: [Candidate] = []
        var mismatches: [String] = []
        for candidate in candidates {
            let target = objects[candidate.object]
            let match = try match(localAccess, kind: relocation.kind, local: local, target: target.spec, root: candidate.id)
            switch match {
            case .mismatch(let reason):
                mismatches.append("\(target.spec.cDeclaration(of: candidate.id)) [\(candidate.id.rawValue)] of \(target.name) \(reason)")
            case .matched(let access):
                let result = try calculate(relocation.kind, local: (localAccess, local), target: (access, target.spec))
                matching.append(candidate)
                guard let (first, firstResult) = matched else {
                    matched = (access, result)
                    continue
                }
                guard access.bitOffset == first.bitOffset else {
                    throw COREError(reason: "the kernel's candidates disagree on the field's offset: bit \(first.bitOffset) against bit \(access.bitOffset)")
                }
                guard (result.poison == nil) == (firstResult.poison == nil), result.new == firstResult.new else {
                    throw COREError(reason: "the kernel's candidates disagree: \(firstResult.new) against \(result.new)")
                }
            }
        }
        if let matched {
            // As libbpf does, later relocations against this type consider only the candidates
            // that matched this one.
            cachedCandidates[relocation.type] = matching
            return matched.result
        }
        var result = try calculate(relocation.kind, local: (localAccess, local), target: nil)
        if result.poison != nil {
            result.poison = candidates.isEmpty
                ? "the running kernel's BTF has no \(localType.kindName) named '\(essentialName(name))' (in vmlinux or modules)"
                : mismatches.joined(separator: "; ")
        }
        return result
    }

    /// Kernel types with the local type's essential name and a kind relocations may match: from
    /// vmlinux, or, when vmlinux has none, from every module (libbpf's bpf_core_find_cands).
    private mutating func candidates(for localID: BTFTypeID, _ localType: BTFType) throws(LoadError) -> [Candidate] {
        if let known = cachedCandidates[localID] { return known }
        if objects.isEmpty { objects = [KernelBTFObject(name: "vmlinux", spec: try kernel.vmlinux(), firstOwnID: 1)] }
        let essential = essentialName(localType.name ?? "")
        var found = candidates(named: essential, like: localType, inObject: 0)
        if found.isEmpty {
            if !modulesRead {
                objects += try kernel.modules()
                modulesRead = true
            }
            for module in objects.indices.dropFirst() {
                found += candidates(named: essential, like: localType, inObject: module)
            }
        }
        cachedCandidates[localID] = found
        return found
    }

    private mutating func candidates(named essential: String, like localType: BTFType, inObject object: Int) -> [Candidate] {
        let spec = objects[object].spec
        if nameIndex[object] == nil {
            var index: [String: [BTFTypeID]] = [:]
            for position in (objects[object].firstOwnID - 1)..<spec.types.count {
                guard let name = spec.types[position].name, !name.isEmpty else { continue }
                index[essentialName(name), default: []].append(BTFTypeID(rawValue: UInt32(position + 1)))
            }
            nameIndex[object] = index
        }
        return (nameIndex[object]?[essential] ?? []).compactMap { id in
            guard let type = spec[id], type.coreKind == localType.coreKind else { return nil }
            return Candidate(object: object, id: id)
        }
    }
}

/// A name without its flavor: `task_struct___v2` -> `task_struct`. The flavor starts at the last
/// `___` that has no underscore on either side (libbpf's bpf_core_essential_name_len).
func essentialName(_ name: String) -> String {
    let bytes = Array(name.utf8)
    let underscore = UInt8(ascii: "_")
    var start = bytes.count - 5
    while start >= 0 {
        if bytes[start] != underscore, bytes[start + 1] == underscore, bytes[start + 2] == underscore,
           bytes[start + 3] == underscore, bytes[start + 4] != underscore {
            return String(decoding: bytes[...start], as: UTF8.self)
        }
        start -= 1
    }
    return name
}

/// Whether two names are equal without their flavors; an anonymous target matches only an
/// anonymous local (libbpf's bpf_core_names_match).
private func namesMatch(_ local: String, _ target: String) -> Bool {
    target.isEmpty ? local.isEmpty : essentialName(local) == essentialName(target)
}

/// Matches a local access path against a kernel candidate (libbpf's bpf_core_spec_match): type
/// relocations by type compatibility, enum ones by enumerator name, field ones step by step,
/// members by name (searching anonymous members), array indices within bounds.
private func match(_ localAccess: COREAccess, kind: CoreRelocationKind, local: BTFSpec, target: BTFSpec,
                   root: BTFTypeID) throws(COREError) -> Match
{
    var access = COREAccess(root: root)
    if kind.isTypeBased {
        if kind == .typeMatches {
            return local.matches(localAccess.root, target: root, in: target, behindPointer: false, level: 32)
                ? .matched(access) : .mismatch("does not match it member for member (bpf_core_type_matches)")
        }
        return local.isCompatible(localAccess.root, with: root, in: target)
            ? .matched(access) : .mismatch("is of an incompatible layout")
    }
    if kind.isEnumeratorBased {
        guard let (enumID, type) = target.resolved(root), case .enumeration(_, _, _, let values) = type else {
            return .mismatch("is not an enum")
        }
        let wanted = localAccess.accessors[0].name ?? ""
        guard let index = values.firstIndex(where: { essentialName($0.name) == essentialName(wanted) }) else {
            return .mismatch("has no enumerator '\(essentialName(wanted))'")
        }
        access.accessors = [COREAccessor(type: enumID, index: index, name: values[index].name)]
        access.raw = [index]
        return .matched(access)
    }
    var current = root
    for (position, accessor) in localAccess.accessors.enumerated() {
        guard let (id, type) = target.resolved(current) else {
            throw COREError(reason: "the kernel's type [\(current.rawValue)] is a broken type chain")
        }
        current = id
        if let name = accessor.name {
            let localMember = local.memberType(of: accessor)
            switch try matchMember(name: name, localType: localMember, local: local, in: current, target: target,
                                   access: &access) {
            case .found(let next):
                current = next
            case .absent:
                return .mismatch("has no member '\(name)'" + (position > 1 ? " in \(target.cDeclaration(of: current))" : ""))
            case .incompatible(let found):
                return .mismatch("has member '\(name)' as \(target.cDeclaration(of: found, declarator: name)), "
                                 + "incompatible with the object's \(local.cDeclaration(of: localMember, declarator: name))")
            }
        } else {
            if position > 0 {
                guard case .array(let element, _, let count) = type else {
                    return .mismatch("has \(target.cDeclaration(of: id)) where the object indexes an array")
                }
                guard accessor.index < count || target.isFlexibleArray(count: count, after: access.accessors.last) else {
                    return .mismatch("has \(target.cDeclaration(of: id)), too short for index \(accessor.index)")
                }
                guard let (elementID, _) = target.resolved(element) else {
                    throw COREError(reason: "the kernel's \(target.cDeclaration(of: id)) has a broken element type")
                }
                current = elementID
            }
            guard access.raw.count < maximumAccessLength else {
                throw COREError(reason: "the kernel's path to the field is longer than \(maximumAccessLength) steps")
            }
            guard let size = target.size(of: current) else {
                throw COREError(reason: "the kernel's \(target.cDeclaration(of: current)) has no size")
            }
            access.accessors.append(COREAccessor(type: current, index: accessor.index, name: nil))
            access.raw.append(accessor.index)
            try access.advance(byElements: accessor.index, of: size)
        }
    }
    return .matched(access)
}

/// What the search for a named member in a kernel struct or union found.
private enum MemberMatch {
    /// The member, of this type; `access` has its steps.
    case found(BTFTypeID)
    case absent
    /// A member of that name whose type cannot stand for the local one.
    case incompatible(BTFTypeID)
}

/// Looks for member `name` in the kernel's struct or union `composite`, descending into anonymous
/// members, and checks its type against the local member's (libbpf's bpf_core_match_member). The
/// steps taken go onto `access`.
private func matchMember(name: String, localType: BTFTypeID, local: BTFSpec, in composite: BTFTypeID, target: BTFSpec,
                         access: inout COREAccess) throws(COREError) -> MemberMatch
{
    guard let (compositeID, type) = target.resolved(composite) else {
        throw COREError(reason: "the kernel's type [\(composite.rawValue)] is a broken type chain")
    }
    let members: [BTFType.Member]
    switch type {
    case .structure(_, _, let list), .union(_, _, let list): members = list
    case .int, .pointer, .array, .enumeration, .forward, .typedef, .volatile, .const, .restrict, .function,
         .functionProto, .variable, .dataSection, .float, .declTag, .typeTag:
        return .absent
    }
    for (index, member) in members.enumerated() {
        guard access.raw.count < maximumAccessLength else {
            throw COREError(reason: "the kernel's path to member '\(name)' is longer than \(maximumAccessLength) steps")
        }
        access.raw.append(index)
        try access.advance(byBits: Int(member.bitOffset))
        if member.name.isEmpty {
            let inner = try matchMember(name: name, localType: localType, local: local, in: member.type, target: target,
                                        access: &access)
            switch inner {
            case .found, .incompatible: return inner
            case .absent: break
            }
        } else if member.name == name {
            guard local.fieldIsCompatible(localType, with: member.type, in: target) else { return .incompatible(member.type) }
            access.accessors.append(COREAccessor(type: compositeID, index: index, name: name))
            return .found(member.type)
        }
        access.raw.removeLast()
        access.bitOffset -= Int(member.bitOffset)
    }
    return .absent
}

// MARK: Values

/// A relocation's outcome: the value the compiler assumed (from the object's own types), the value
/// for the kernel, and how the instruction must change.
struct COREResult {
    var original: UInt64 = 0
    var new: UInt64 = 0
    /// The kernel cannot satisfy the relocation: the instruction becomes a poisoned call, and this
    /// says why.
    var poison: String?
    /// Whether the instruction must hold `original` before patching (not for bitfields, whose
    /// layout the compiler may have chosen differently, nor for type ids, which linking renumbers).
    var validate = true
    /// Field sizes for a load or store of the field, when the relocation is a byte offset.
    var originalSize = 0
    var newSize = 0
    /// A changed field size that a load or store cannot follow without changing the value read
    /// (anything but pointers and unsigned integers): such an instruction is poisoned, for this reason.
    var sizeMismatch: String?
}

/// A value computed from one side's access path, or the word that the instruction must be poisoned.
private enum SideValue {
    case value(UInt64, fieldSize: Int = 0, fieldType: BTFTypeID? = nil, validate: Bool = true)
    case poison
}

/// The local and kernel values of a relocation (libbpf's bpf_core_calc_relo); `target` nil means
/// no candidate matched.
private func calculate(_ kind: CoreRelocationKind, local: (COREAccess, BTFSpec), target: (COREAccess, BTFSpec)?)
    throws(COREError) -> COREResult
{
    guard case .value(let original, let originalSize, let originalType, let validate) = try value(kind, of: local) else {
        throw COREError(reason: "the object's own types do not satisfy the relocation")
    }
    var result = COREResult(original: original, validate: validate, originalSize: originalSize)
    guard case .value(let new, let newSize, let newType, _) = try value(kind, of: target) else {
        result.poison = ""  // the caller says why
        return result
    }
    result.new = new
    result.newSize = newSize
    if originalSize != newSize, let originalType, let newType, let (_, targetBTF) = target {
        // Only a pointer or an unsigned integer reads the same with a load of another size (zero
        // extension keeps the value); anything else would be read wrong.
        let localBTF = local.1
        switch (localBTF[originalType], targetBTF[newType]) {
        case (.pointer?, .pointer?):
            break
        case (.int(_, _, let a)?, .int(_, _, let b)?) where a != .signed && b != .signed:
            break
        default:
            result.sizeMismatch = "the object reads \(localBTF.cDeclaration(of: originalType)) of \(originalSize) bytes, "
                + "the kernel's field is \(targetBTF.cDeclaration(of: newType)) of \(newSize) bytes; only pointers and "
                + "unsigned integers can be read with another size"
        }
    }
    return result
}

/// A relocation's value on one side: the field's offset, size, existence, signedness or shifts;
/// the type's existence, size or id; the enumerator's existence or value. `side` nil: no kernel
/// candidate matched.
private func value(_ kind: CoreRelocationKind, of side: (access: COREAccess, btf: BTFSpec)?) throws(COREError) -> SideValue {
    switch kind {
    case .fieldExists, .typeExists, .typeMatches, .enumValueExists:
        return .value(side == nil ? 0 : 1)
    case .typeIDLocal, .typeIDTarget:
        // The ids of different BTF objects: the kernel's id is never checked against the object's.
        guard let (access, _) = side else { return .value(0) }
        return .value(UInt64(access.root.rawValue), validate: false)
    case .typeSize:
        guard let (access, btf) = side else { return .value(0) }
        guard let size = btf.size(of: access.root) else { throw COREError(reason: "\(btf.cDeclaration(of: access.root)) has no size") }
        return .value(UInt64(size))
    case .enumValue:
        guard let (access, btf) = side else { return .poison }
        let accessor = access.accessors[0]
        guard case .enumeration(_, let size, _, let values)? = btf[accessor.type] else {
            throw COREError(reason: "\(btf.cDeclaration(of: accessor.type)) is not an enum")
        }
        // A 32-bit enum's value is an s32 on the wire, which libbpf widens with its sign.
        let value = values[accessor.index].value
        return .value(UInt64(bitPattern: size <= 4 ? Int64(Int32(truncatingIfNeeded: value)) : value))
    case .fieldByteOffset, .fieldByteSize, .fieldSigned, .fieldLShiftU64, .fieldRShiftU64:
        guard let (access, btf) = side else { return .poison }
        return try fieldValue(kind, access: access, btf: btf)
    }
}

/// A field relocation's value (libbpf's bpf_core_calc_field_relo). A bitfield's offset and size
/// are those of the smallest aligned load that holds it, which the shifts then cut out.
private func fieldValue(_ kind: CoreRelocationKind, access: COREAccess, btf: BTFSpec) throws(COREError) -> SideValue {
    let last = access.accessors[access.accessors.count - 1]
    guard last.name != nil else {
        // An array element (or the root itself): only its offset and size mean anything.
        guard let size = btf.size(of: last.type) else { throw COREError(reason: "\(btf.cDeclaration(of: last.type)) has no size") }
        switch kind {
        case .fieldByteOffset: return .value(UInt64(access.bitOffset / 8), fieldSize: size, fieldType: last.type)
        case .fieldByteSize: return .value(UInt64(size))
        case .fieldExists, .fieldSigned, .fieldLShiftU64, .fieldRShiftU64, .typeIDLocal, .typeIDTarget, .typeExists,
             .typeSize, .enumValueExists, .enumValue, .typeMatches:
            throw COREError(reason: "relocation <\(kind.spelling)> cannot apply to an array element")
        }
    }
    guard let member = btf.member(of: last) else { throw COREError(reason: "member #\(last.index) of \(btf.cDeclaration(of: last.type)) is missing") }
    guard let (fieldType, fieldTypeBody) = btf.resolved(member.type) else {
        throw COREError(reason: "member '\(member.name)' has a broken type chain")
    }
    let bitOffset = access.bitOffset
    var bitSize = Int(member.bitfieldSize)
    let isBitfield = bitSize > 0
    var byteSize: Int, byteOffset: Int
    if isBitfield {
        guard let storage = btf.size(of: fieldType), storage > 0 else {
            throw COREError(reason: "bitfield '\(member.name)' has a type without size")
        }
        byteSize = storage
        byteOffset = bitOffset / 8 / byteSize * byteSize
        while bitOffset + bitSize - byteOffset * 8 > byteSize * 8 {
            guard byteSize < 8 else { throw COREError(reason: "bitfield '\(member.name)' cannot be read with a 64-bit load") }
            byteSize *= 2
            byteOffset = bitOffset / 8 / byteSize * byteSize
        }
    } else {
        guard let size = btf.size(of: fieldType) else { throw COREError(reason: "member '\(member.name)' has a type without size") }
        byteSize = size
        byteOffset = bitOffset / 8
        bitSize = byteSize * 8
    }
    switch kind {
    case .fieldByteOffset:
        return isBitfield ? .value(UInt64(byteOffset), validate: false)
            : .value(UInt64(byteOffset), fieldSize: byteSize, fieldType: fieldType)
    case .fieldByteSize:
        return .value(UInt64(byteSize), validate: !isBitfield)
    case .fieldSigned:
        let isSigned: Bool
        switch fieldTypeBody {
        case .enumeration(_, _, let signed, _): isSigned = signed
        case .int(_, _, let encoding): isSigned = encoding == .signed
        case .pointer, .array, .structure, .union, .forward, .typedef, .volatile, .const, .restrict, .function,
             .functionProto, .variable, .dataSection, .float, .declTag, .typeTag:
            isSigned = false
        }
        return .value(isSigned ? 1 : 0)
    case .fieldLShiftU64:
        // Negative for a field wider than 8 bytes: the u64 wraps, as libbpf's does.
        return .value(UInt64(bitPattern: Int64(64 - (bitOffset + bitSize - byteOffset * 8))), validate: !isBitfield)
    case .fieldRShiftU64:
        return .value(UInt64(bitPattern: Int64(64 - bitSize)))
    case .fieldExists, .typeIDLocal, .typeIDTarget, .typeExists, .typeSize, .enumValueExists, .enumValue, .typeMatches:
        preconditionFailure("relocation <\(kind.spelling)> is not a field relocation")
    }
}

// MARK: Patching

/// Rewrites the instruction at `index` with a relocation's result (libbpf's bpf_core_patch_insn)
/// and returns why it was poisoned, if it was.
func patch(_ instructions: inout [Instruction], at index: Int, with result: COREResult) throws(COREError) -> String? {
    let instruction = instructions[index]
    let instructionClass = instruction.opcode & 0x07
    func poison(_ reason: String) -> String {
        let slots = instruction.isLoadImm64 ? 2 : 1
        for slot in index..<min(index + slots, instructions.count) {
            instructions[slot] = Instruction(opcode: Opcode.classJMP | Opcode.call, imm: poisonedRelocationHelper)
        }
        return reason
    }
    switch instructionClass {
    case Opcode.classALU, Opcode.classALU64:
        guard instruction.opcode & Opcode.sourceX == 0 else {
            throw COREError(reason: "instruction \(index) is an ALU operation on a register, not an immediate")
        }
        if let reason = result.poison { return poison(reason) }
        guard !result.validate || UInt64(bitPattern: Int64(instruction.imm)) == result.original else {
            throw COREError(reason: "instruction \(index) holds \(instruction.imm), not the \(result.original) the object's types give")
        }
        instructions[index].imm = Int32(truncatingIfNeeded: result.new)
    case Opcode.classLDX, Opcode.classST, Opcode.classSTX:
        if let reason = result.poison { return poison(reason) }
        guard !result.validate || UInt64(bitPattern: Int64(instruction.offset)) == result.original else {
            throw COREError(reason: "instruction \(index) has offset \(instruction.offset), not the \(result.original) the object's types give")
        }
        guard result.new <= UInt64(Int16.max) else {
            throw COREError(reason: "offset \(result.new) does not fit instruction \(index)'s 16-bit offset")
        }
        if let reason = result.sizeMismatch { return poison(reason) }
        instructions[index].offset = Int16(result.new)
        if result.newSize != result.originalSize {
            guard accessSize(instruction.opcode) == result.originalSize else {
                throw COREError(reason: "instruction \(index) accesses \(accessSize(instruction.opcode)) bytes, not the field's \(result.originalSize)")
            }
            guard let sizeBits = sizeField(bytes: result.newSize) else {
                throw COREError(reason: "the kernel's field has \(result.newSize) bytes, which no load or store accesses")
            }
            instructions[index].opcode = instruction.opcode & ~0x18 | sizeBits
        }
    case Opcode.classLD:
        guard instruction.isLoadImm64, index + 1 < instructions.count, instruction.src == .r0, instruction.offset == 0,
              instructions[index + 1] == Instruction(opcode: 0, imm: instructions[index + 1].imm)
        else { throw COREError(reason: "instruction \(index) is not a plain ld_imm64") }
        if let reason = result.poison { return poison(reason) }
        let value = UInt64(UInt32(bitPattern: instruction.imm)) | UInt64(UInt32(bitPattern: instructions[index + 1].imm)) << 32
        guard !result.validate || value == result.original else {
            throw COREError(reason: "instruction \(index) loads \(value), not the \(result.original) the object's types give")
        }
        instructions[index].imm = Int32(truncatingIfNeeded: result.new)
        instructions[index + 1].imm = Int32(truncatingIfNeeded: result.new >> 32)
    default:
        throw COREError(reason: "instruction \(index) (opcode 0x\(String(instruction.opcode, radix: 16))) is not one a relocation can patch")
    }
    return nil
}

/// Bytes a load or store moves, from its size bits.
private func accessSize(_ opcode: UInt8) -> Int {
    switch opcode & 0x18 {
    case Opcode.sizeB: 1
    case Opcode.sizeH: 2
    case Opcode.sizeW: 4
    default: 8
    }
}

private func sizeField(bytes: Int) -> UInt8? {
    switch bytes {
    case 1: Opcode.sizeB
    case 2: Opcode.sizeH
    case 4: Opcode.sizeW
    case 8: Opcode.sizeDW
    default: nil
    }
}

// MARK: Type questions

extension CoreRelocationKind {
    /// libbpf's short name for the kind, as llvm-objdump and libbpf's logs print it.
    var spelling: String {
        switch self {
        case .fieldByteOffset: "byte_off"
        case .fieldByteSize: "byte_sz"
        case .fieldExists: "field_exists"
        case .fieldSigned: "signed"
        case .fieldLShiftU64: "lshift_u64"
        case .fieldRShiftU64: "rshift_u64"
        case .typeIDLocal: "local_type_id"
        case .typeIDTarget: "target_type_id"
        case .typeExists: "type_exists"
        case .typeSize: "type_size"
        case .enumValueExists: "enumval_exists"
        case .enumValue: "enumval_value"
        case .typeMatches: "type_matches"
        }
    }

    var isTypeBased: Bool {
        switch self {
        case .typeIDLocal, .typeIDTarget, .typeExists, .typeSize, .typeMatches: true
        case .fieldByteOffset, .fieldByteSize, .fieldExists, .fieldSigned, .fieldLShiftU64, .fieldRShiftU64,
             .enumValueExists, .enumValue: false
        }
    }

    var isEnumeratorBased: Bool {
        switch self {
        case .enumValueExists, .enumValue: true
        case .fieldByteOffset, .fieldByteSize, .fieldExists, .fieldSigned, .fieldLShiftU64, .fieldRShiftU64,
             .typeIDLocal, .typeIDTarget, .typeExists, .typeSize, .typeMatches: false
        }
    }
}

extension BTFType {
    /// The name of a named kind; nil for kinds that have none.
    var name: String? {
        switch self {
        case .int(let name, _, _), .structure(let name, _, _), .union(let name, _, _), .enumeration(let name, _, _, _),
             .forward(let name, _), .typedef(let name, _), .function(let name, _, _), .variable(let name, _, _),
             .dataSection(let name, _, _), .float(let name, _), .declTag(let name, _, _), .typeTag(let name, _):
            name
        case .pointer, .array, .volatile, .const, .restrict, .functionProto:
            nil
        }
    }

    /// The BTF kind as relocations compare kinds: ENUM and ENUM64 alike (libbpf's btf_kind_core_compat).
    var coreKind: BTFWire.Kind {
        switch self {
        case .int: .int
        case .pointer: .pointer
        case .array: .array
        case .structure: .structure
        case .union: .union
        case .enumeration: .enumeration
        case .forward: .forward
        case .typedef: .typedef
        case .volatile: .volatile
        case .const: .const
        case .restrict: .restrict
        case .function: .function
        case .functionProto: .functionProto
        case .variable: .variable
        case .dataSection: .dataSection
        case .float: .float
        case .declTag: .declTag
        case .typeTag: .typeTag
        }
    }

    /// The kind in C's words, for messages.
    var kindName: String {
        switch self {
        case .int: "integer type"
        case .pointer: "pointer"
        case .array: "array"
        case .structure: "struct"
        case .union: "union"
        case .enumeration: "enum"
        case .forward: "forward declaration"
        case .typedef: "typedef"
        case .volatile, .const, .restrict, .typeTag: "qualified type"
        case .function: "function"
        case .functionProto: "function prototype"
        case .variable: "variable"
        case .dataSection: "data section"
        case .float: "floating-point type"
        case .declTag: "declaration tag"
        }
    }
}

extension BTFSpec {
    /// The member an accessor names in its struct or union.
    func member(of accessor: COREAccessor) -> BTFType.Member? {
        switch self[accessor.type] {
        case .structure(_, _, let members)?, .union(_, _, let members)?:
            members.indices.contains(accessor.index) ? members[accessor.index] : nil
        default:
            nil
        }
    }

    /// The type of the member an accessor names; void when there is none.
    func memberType(of accessor: COREAccessor) -> BTFTypeID {
        member(of: accessor)?.type ?? .void
    }

    /// An array of no elements that is the last member of the struct the previous step named: a
    /// flexible array member, whose index has no bound.
    func isFlexibleArray(count: UInt32, after previous: COREAccessor?) -> Bool {
        guard count == 0, let previous, previous.name != nil else { return false }
        switch self[previous.type] {
        case .structure(_, _, let members)?, .union(_, _, let members)?: return previous.index == members.count - 1
        default: return false
        }
    }

    /// Whether the kernel's field type `target` can stand for the object's `local` in a field
    /// relocation (libbpf's bpf_core_fields_are_compat): any two structs or unions, any two
    /// pointers, floats or integers, enums or forward declarations of the same essential name (or
    /// an anonymous one), arrays of compatible elements; typedefs and qualifiers do not count.
    func fieldIsCompatible(_ local: BTFTypeID, with target: BTFTypeID, in kernel: BTFSpec) -> Bool {
        var localID = local, targetID = target
        for _ in 0..<32 {
            guard let (_, localType) = resolved(localID), let (_, targetType) = kernel.resolved(targetID) else { return false }
            switch (localType, targetType) {
            case (.structure, .structure), (.structure, .union), (.union, .structure), (.union, .union),
                 (.pointer, .pointer), (.float, .float), (.int, .int):
                return true
            case (.enumeration(let a, _, _, _), .enumeration(let b, _, _, _)), (.forward(let a, _), .forward(let b, _)):
                return a.isEmpty || b.isEmpty || essentialName(a) == essentialName(b)
            case (.array(let a, _, _), .array(let b, _, _)):
                localID = a
                targetID = b
            default:
                return false
            }
        }
        return false
    }

    /// Whether the object's type `local` matches the kernel's `target` (libbpf's
    /// bpf_core_types_match, for bpf_core_type_matches()): names equal without flavors; integers
    /// of the same size and signedness; enums of the same size whose every local enumerator the
    /// kernel's has; structs and unions whose every local member the kernel's has with a matching
    /// type (behind a pointer the name and kind suffice, and a forward declaration matches);
    /// pointers, arrays (of the same length) and prototypes when what they are built from matches.
    func matches(_ local: BTFTypeID, target: BTFTypeID, in kernel: BTFSpec, behindPointer: Bool, level: Int) -> Bool {
        guard level > 0 else { return false }
        var localID = local, targetID = target, behindPointer = behindPointer
        for _ in 0..<32 {
            let localResolved = resolved(localID), targetResolved = kernel.resolved(targetID)
            guard let (_, localType) = localResolved else { return targetResolved == nil }  // void matches void
            guard let (_, targetType) = targetResolved else { return false }
            guard namesMatch(localType.name ?? "", targetType.name ?? "") else { return false }
            switch (localType, targetType) {
            case (.forward(_, let localUnion), .forward(_, let targetUnion)):
                return localUnion == targetUnion
            case (.forward(_, let isUnion), .structure):
                return behindPointer && !isUnion
            case (.forward(_, let isUnion), .union):
                return behindPointer && isUnion
            case (.enumeration(_, let localSize, _, let localValues), .enumeration(_, let targetSize, _, let targetValues)):
                return localSize == targetSize && localValues.count <= targetValues.count
                    && localValues.allSatisfy { value in targetValues.contains { namesMatch(value.name, $0.name) } }
            case (.structure(_, _, let localMembers), .structure(_, _, let targetMembers)),
                 (.union(_, _, let localMembers), .union(_, _, let targetMembers)):
                if behindPointer { return true }
                return localMembers.count <= targetMembers.count && localMembers.allSatisfy { member in
                    targetMembers.contains {
                        namesMatch(member.name, $0.name)
                            && matches(member.type, target: $0.type, in: kernel, behindPointer: false, level: level - 1)
                    }
                }
            case (.structure, .forward(_, let isUnion)):
                return behindPointer && !isUnion
            case (.union, .forward(_, let isUnion)):
                return behindPointer && isUnion
            case (.int(_, let localSize, let localEncoding), .int(_, let targetSize, let targetEncoding)):
                return localSize == targetSize && (localEncoding == .signed) == (targetEncoding == .signed)
            case (.pointer(let localPointee), .pointer(let targetPointee)):
                behindPointer = true
                localID = localPointee
                targetID = targetPointee
            case (.array(let localElement, _, let localCount), .array(let targetElement, _, let targetCount)):
                guard localCount == targetCount else { return false }
                localID = localElement
                targetID = targetElement
            case (.functionProto(let localReturn, let localParameters), .functionProto(let targetReturn, let targetParameters)):
                guard localParameters.count == targetParameters.count,
                      zip(localParameters, targetParameters).allSatisfy({
                          matches($0.type, target: $1.type, in: kernel, behindPointer: behindPointer, level: level - 1)
                      })
                else { return false }
                localID = localReturn
                targetID = targetReturn
            default:
                return false
            }
        }
        return false
    }
}
