import BPFInstructions
import CBPFSyscall
import Glibc

// Loads self-contained instructions as a BPF_PROG_TYPE_SYSCALL program and runs it with
// BPF_PROG_TEST_RUN: enough to check generated code on the real verifier and JIT. Attribute
// layouts from include/uapi/linux/bpf.h (union bpf_attr). The real loader lives in BPFLoader;
// this stays inside the tests on purpose.

/// Why the kernel did not load or run a program. Whether bpf() is refused altogether is
/// `KernelCapability.bpf`'s to say, once, before a test starts: here every error is a failure.
public enum KernelError: Error, CustomStringConvertible {
    case rejected(errno: Int32, log: String)
    case runFailed(errno: Int32)

    public var description: String {
        switch self {
        case .rejected(let errno, let log): return "BPF_PROG_LOAD failed (errno \(errno)):\n\(log)"
        case .runFailed(let errno): return "BPF_PROG_TEST_RUN failed (errno \(errno))"
        }
    }
}

/// A loaded syscall program, closed when the test is done with it.
public final class SyscallProgram {
    private let fd: Int32

    private static let progLoad: Int32 = 5
    private static let progTestRun: Int32 = 10
    private static let progTypeSyscall: UInt32 = 31
    private static let sleepable: UInt32 = 1 << 4

    public init(_ instructions: [Instruction]) throws(KernelError) {
        var result = SyscallProgram.load(instructions, logLevel: 0)
        if case .failure(.rejected(let errno, _)) = result {
            let logged = SyscallProgram.load(instructions, logLevel: 1)
            // A log too long for its buffer (ENOSPC) must not hide why the program was refused
            // (E2BIG for one over the verifier's limits, which the tests excuse).
            if case .failure(.rejected(ENOSPC, let log)) = logged {
                result = .failure(.rejected(errno: errno, log: log))
            } else {
                result = logged
            }
        }
        switch result {
        case .success(let fd): self.fd = fd
        case .failure(let error): throw error
        }
    }

    deinit { close(fd) }

    private static func load(_ instructions: [Instruction], logLevel: UInt32) -> Result<Int32, KernelError> {
        let code = encode(instructions)
        let license: [UInt8] = Array("GPL".utf8) + [0]
        var log = [UInt8](repeating: 0, count: logLevel == 0 ? 1 : 1 << 22)
        var attr = [UInt8](repeating: 0, count: 128)
        let fd = code.withUnsafeBufferPointer { code in
            license.withUnsafeBufferPointer { license in
                log.withUnsafeMutableBufferPointer { log in
                    attr.withUnsafeMutableBytes { a in
                        a.storeBytes(of: progTypeSyscall, toByteOffset: 0, as: UInt32.self)
                        a.storeBytes(of: UInt32(instructions.count), toByteOffset: 4, as: UInt32.self)
                        a.storeBytes(of: UInt64(UInt(bitPattern: code.baseAddress)), toByteOffset: 8, as: UInt64.self)
                        a.storeBytes(of: UInt64(UInt(bitPattern: license.baseAddress)), toByteOffset: 16, as: UInt64.self)
                        if logLevel > 0 {
                            a.storeBytes(of: logLevel, toByteOffset: 24, as: UInt32.self)
                            a.storeBytes(of: UInt32(log.count), toByteOffset: 28, as: UInt32.self)
                            a.storeBytes(of: UInt64(UInt(bitPattern: log.baseAddress)), toByteOffset: 32, as: UInt64.self)
                        }
                        a.storeBytes(of: sleepable, toByteOffset: 44, as: UInt32.self)
                        return swiftbpf_bpf(progLoad, a.baseAddress, UInt32(a.count))
                    }
                }
            }
        }
        if fd >= 0 { return .success(Int32(fd)) }
        let error = swiftbpf_errno()
        let text = String(decoding: log.prefix { $0 != 0 }, as: UTF8.self)
        return .failure(.rejected(errno: error, log: String(text.suffix(6000))))
    }

    /// Runs the program once with `context` as its ctx (r1), which the kernel copies back.
    public func run(context: inout [UInt8]) throws(KernelError) -> UInt32 {
        var attr = [UInt8](repeating: 0, count: 80)
        let status = context.withUnsafeMutableBytes { ctx in
            attr.withUnsafeMutableBytes { a in
                a.storeBytes(of: UInt32(fd), toByteOffset: 0, as: UInt32.self)
                a.storeBytes(of: UInt32(ctx.count), toByteOffset: 40, as: UInt32.self)
                a.storeBytes(of: UInt64(UInt(bitPattern: ctx.baseAddress)), toByteOffset: 48, as: UInt64.self)
                return swiftbpf_bpf(SyscallProgram.progTestRun, a.baseAddress, UInt32(a.count))
            }
        }
        guard status == 0 else { throw .runFailed(errno: swiftbpf_errno()) }
        return attr.withUnsafeBytes { $0.load(fromByteOffset: 4, as: UInt32.self) }
    }
}

/// Links a caller and the sub-programs it calls into one instruction stream, resolving each
/// relocated call (`call -1` + relocation) to its callee, as libbpf does for `.text` functions.
public func link(_ functions: [(name: String, instructions: [Instruction], calls: [(index: Int, symbol: String)])])
    -> [Instruction]
{
    var start: [String: Int] = [:]
    var all: [Instruction] = []
    for function in functions {
        start[function.name] = all.count
        all += function.instructions
    }
    for function in functions {
        for call in function.calls {
            let index = (start[function.name] ?? 0) + call.index
            all[index].imm = Int32((start[call.symbol] ?? 0) - (index + 1))
        }
    }
    return all
}

public func littleEndian(_ values: [UInt64]) -> [UInt8] {
    values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> UInt64(8 * $0)) } }
}

public func words(_ bytes: [UInt8]) -> [UInt64] {
    stride(from: 0, to: bytes.count, by: 8).map { start in
        bytes[start..<start + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}
