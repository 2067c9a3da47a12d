import BPFObject
import BTF

// A struct_ops program implements one member of a kernel struct of function pointers (a
// `struct tcp_congestion_ops`, say). The object says which through a variable of that struct type
// in a `.struct_ops` (or `.struct_ops.link`) section whose member holds the program's address, an
// R_BPF_64_ABS64 relocation. As libbpf does, the program loads with the kernel struct's vmlinux
// BTF id as attach_btf_id and the index of the kernel's member of the same name as
// expected_attach_type, which is how the verifier learns the member's prototype. Registering the
// struct with the kernel (the struct_ops map) is attaching, which the loader does not do.

/// `attach_btf_id` and `expected_attach_type` for struct_ops program `program`.
func structOpsMember(of program: String, section: String, in object: ObjectFile,
                     kernelStruct: (String) throws(LoadError) -> (id: BTFTypeID, type: BTFType)?)
    throws(LoadError) -> (attachBTFID: UInt32, memberIndex: UInt32)
{
    func fail(_ reason: String) -> LoadError {
        .unsupportedProgram(program: program, section: section, reason: reason)
    }
    let holders = object.dataSections.filter { $0.name.hasPrefix(".struct_ops") }
    guard let (holder, relocation) = holders.lazy.compactMap({ data in
        data.relocations.first { $0.symbol == program }.map { (data, $0) }
    }).first else {
        throw fail("is a struct_ops program no .struct_ops variable refers to, so it implements nothing")
    }
    guard let btf = object.btf,
          case .dataSection(_, _, let variables)? = btf.first(where: {
              if case .dataSection(holder.name, _, _) = $0 { true } else { false }
          })?.type,
          let variable = variables.first(where: { $0.offset <= relocation.offset && relocation.offset < $0.offset + $0.size }),
          case .variable(let variableName, let variableType, _)? = btf[variable.type],
          case .structure(let structName, _, let members)? = btf.resolved(variableType)?.type
    else {
        throw fail("its address at \(holder.name)+\(relocation.offset) lies in no struct variable of the section's BTF")
    }
    let memberOffset = UInt32(relocation.offset - Int(variable.offset)) * 8
    guard let member = members.first(where: { $0.bitOffset == memberOffset }) else {
        throw fail("its address at \(holder.name)+\(relocation.offset) is no member of '\(variableName)' (struct \(structName))")
    }
    guard let (kernelID, kernelType) = try kernelStruct(structName),
          case .structure(_, _, let kernelMembers) = kernelType
    else {
        throw fail("'\(variableName)' is a struct \(structName), which the running kernel's BTF does not have")
    }
    guard let index = kernelMembers.firstIndex(where: { $0.name == member.name }) else {
        throw fail("the running kernel's struct \(structName) has no member '\(member.name)'")
    }
    return (kernelID.rawValue, UInt32(index))
}
