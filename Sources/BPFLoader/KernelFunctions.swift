#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BTF

/// Resolves kfunc names to their BTF ids in the running kernel's BTF (/sys/kernel/btf/vmlinux),
/// as libbpf's bpf_object__resolve_ksym_func_btf_id does for vmlinux (module kfuncs are not
/// looked up), and checks that the object declares the same prototype: a call through a wrong
/// prototype would pass the wrong arguments. The blob is read and decoded once, on first use.
final class KernelFunctions {
    private var vmlinux: (spec: BTFSpec, functions: [String: BTFTypeID])?

    /// The kernel's id for `name`, after checking the object's extern FUNC of that name against it.
    func id(of name: String, declaredIn object: BTFSpec?) throws(LoadError) -> Int32 {
        if vmlinux == nil { vmlinux = try Self.readVmlinux() }
        guard let (kernel, functions) = vmlinux, let id = functions[name],
              case .function(_, let kernelProto, _)? = kernel[id]
        else { throw .unknownKernelFunction(name) }
        guard let object,
              let (localID, local) = object.first(where: { if case .function(name, _, _) = $0 { true } else { false } }),
              case .function(_, let localProto, _) = local
        else { throw .btf("kfunc '\(name)' has no BTF FUNC in the object, so its prototype cannot be checked") }
        guard object.isCompatible(localProto, with: kernelProto, in: kernel) else {
            throw .kernelFunctionMismatch(name: name, kernel: kernel.cDeclaration(of: id), object: object.cDeclaration(of: localID))
        }
        return Int32(bitPattern: id.rawValue)
    }

    private static func readVmlinux() throws(LoadError) -> (spec: BTFSpec, functions: [String: BTFTypeID]) {
        let path = "/sys/kernel/btf/vmlinux"
        guard let file = fopen(path, "rb") else { throw .btf("cannot open \(path)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            bytes += chunk[0..<count]
            if count < chunk.count { break }
        }
        let spec: BTFSpec
        do {
            spec = try decodeBTF(bytes).spec
        } catch {
            throw .btf("\(path): \(error)")
        }
        var functions: [String: BTFTypeID] = [:]
        for (index, type) in spec.types.enumerated() {
            if case .function(let name, _, _) = type, functions[name] == nil {
                functions[name] = BTFTypeID(rawValue: UInt32(index + 1))
            }
        }
        return (spec, functions)
    }
}
