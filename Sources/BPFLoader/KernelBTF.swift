#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BTF

// The running kernel's BTF, as /sys/kernel/btf shows it: `vmlinux`, and one file per module with
// BTF, split on vmlinux (its ids continue vmlinux's, its types refer to vmlinux's). Both are
// read only when asked for, once per loaded object.

/// One kernel BTF object: vmlinux or a module's.
struct KernelBTFObject {
    /// `vmlinux` or the module's name.
    var name: String
    /// vmlinux's types, followed by the module's own for a module.
    var spec: BTFSpec
    /// The first id of this object's own types: 1 for vmlinux.
    var firstOwnID: Int
}

/// The kernel's BTF objects, decoded on first use.
final class KernelBTF {
    /// /sys/kernel/btf, or a directory laid out like it.
    let directory: String
    private var vmlinuxBTF: DecodedBTF?
    private var moduleBTFs: [KernelBTFObject]?

    init(directory: String = "/sys/kernel/btf") {
        self.directory = directory
    }

    /// vmlinux BTF: every type the core kernel has.
    func vmlinux() throws(LoadError) -> BTFSpec {
        try decodedVmlinux().spec
    }

    /// Module BTF, in the order of the directory's listing sorted by name.
    func modules() throws(LoadError) -> [KernelBTFObject] {
        if let moduleBTFs { return moduleBTFs }
        let base = try decodedVmlinux()
        var modules: [KernelBTFObject] = []
        for name in directoryEntries(directory) where name != "vmlinux" {
            let path = directory + "/" + name
            let bytes = try readKernelFile(path)
            do {
                let spec = try decodeBTF(bytes, base: base).spec
                modules.append(KernelBTFObject(name: name, spec: spec, firstOwnID: base.spec.types.count + 1))
            } catch {
                throw .btf("\(path): \(error)")
            }
        }
        moduleBTFs = modules
        return modules
    }

    private func decodedVmlinux() throws(LoadError) -> DecodedBTF {
        if let vmlinuxBTF { return vmlinuxBTF }
        let path = directory + "/vmlinux"
        let bytes = try readKernelFile(path)
        do {
            let decoded = try decodeBTF(bytes)
            vmlinuxBTF = decoded
            return decoded
        } catch {
            throw .btf("\(path): \(error)")
        }
    }
}

/// Why a file could not be read, for the message that names it.
public struct FileReadError: Error, CustomStringConvertible {
    public var description: String
}

/// The whole contents of a file, read to its end: files the kernel provides (sysfs) report no
/// size, and object files are read the same way.
public func readWholeFile(_ path: String) throws(FileReadError) -> [UInt8] {
    guard let file = fopen(path, "rb") else {
        throw FileReadError(description: "cannot open '\(path)': \(String(cString: strerror(errno)))")
    }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        bytes += chunk[0..<count]
        if count < chunk.count { break }
    }
    if ferror(file) != 0 { throw FileReadError(description: "cannot read '\(path)'") }
    return bytes
}

/// A kernel file's contents; failing to read it is a BTF problem of the load.
func readKernelFile(_ path: String) throws(LoadError) -> [UInt8] {
    do {
        return try readWholeFile(path)
    } catch {
        throw .btf(error.description)
    }
}

/// The names in a directory, sorted; none when it cannot be opened.
private func directoryEntries(_ path: String) -> [String] {
    guard let directory = opendir(path) else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}
