#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BTF

/// Resolves kfunc names to their BTF ids in the running kernel's BTF (/sys/kernel/btf/vmlinux),
/// as libbpf's bpf_object__resolve_ksym_func_btf_id does for vmlinux (module kfuncs are not
/// looked up). The blob is read and decoded once, on the first call.
final class KernelFunctions {
    private var functions: [String: Int32]?

    func id(of name: String) throws(LoadError) -> Int32 {
        if functions == nil { functions = try Self.readVmlinuxFunctions() }
        guard let id = functions?[name] else { throw .btf("the kernel's BTF has no function '\(name)'") }
        return id
    }

    private static func readVmlinuxFunctions() throws(LoadError) -> [String: Int32] {
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
        var functions: [String: Int32] = [:]
        for (index, type) in spec.types.enumerated() {
            if case .function(let name, _, _) = type, functions[name] == nil {
                functions[name] = Int32(index + 1)
            }
        }
        return functions
    }
}
