import BPFInstructions
import CBPFSyscall
import Glibc
import Synchronization
import Testing

// Whether a kernel test may run here. A test skips only when the kernel itself refuses what it
// needs, as a direct probe finds out once per test process; never because its own load failed: a
// harness that did not build or a program the verifier rejects must fail the test, not hide it.
//
// scripts/test.sh probes the kernel on its own and lists what works in SWIFTBPF_REQUIRE_KERNEL
// ("bpf arena"); a refusal of a listed capability is then a failure. Each kernel test case writes
// one line to $SWIFTBPF_KERNEL_TEST_LOG (ran or skipped, and why), which test.sh sums up.
//
// Where the host kernel grants bpf() but refuses arena maps, test.sh runs the test cases that
// skipped for it once more, in a virtual machine whose kernel grants them (scripts/vm), with
// SWIFTBPF_KERNEL_RERUN=arena: there, a test case that needs anything else ran on the host already
// and is cancelled without a log line.

/// What a kernel test needs from the running kernel.
public enum KernelCapability: String, Sendable {
    /// bpf() loads and runs a BPF_PROG_TYPE_SYSCALL program.
    case bpf
    /// BPF_MAP_CREATE makes a BPF_MAP_TYPE_ARENA map; some kernels refuse it although bpf() works.
    case arena

    /// Why the kernel refuses this capability, or nil when it grants it.
    public var refusal: String? {
        switch self {
        case .bpf: bpfRefusal
        case .arena: arenaRefusal
        }
    }

    /// Whether the test run established that the capability works here, so a refusal is a failure.
    private var isRequired: Bool {
        let listed = getenv("SWIFTBPF_REQUIRE_KERNEL").map { String(cString: $0) } ?? ""
        return listed.split(separator: " ").contains { $0 == rawValue }
    }

    /// Whether a kernel test case may use the capability: true when the kernel grants it; false,
    /// with the reason printed (once) and logged, when it refuses it. Throws when it refuses a
    /// capability the test run requires.
    public func check() throws(RefusedCapability) -> Bool {
        try skipReason() == nil
    }

    /// For a test case that is nothing without the capability: skips (cancels) it where the kernel
    /// refuses the capability.
    public func require() throws {
        if let reason = try skipReason() { try Test.cancel(Comment(rawValue: reason)) }
    }

    /// The capability whose skipped test cases this run repeats ($SWIFTBPF_KERNEL_RERUN), if it
    /// is such a run.
    public static let repeated: KernelCapability? = getenv("SWIFTBPF_KERNEL_RERUN")
        .flatMap { KernelCapability(rawValue: String(cString: $0)) }

    /// In a run that repeats another capability's test cases, cancels this test case, which ran on
    /// the host. For a test whose arguments decide what it needs: call it before the costly steps
    /// that come before `require()`.
    public func cancelIfRanOnHost() throws {
        if ranOnHost { try Test.cancel("ran on the host") }
    }

    /// This is a run that repeats another capability's test cases, so a test case needing this
    /// one already ran on the host.
    private var ranOnHost: Bool {
        Self.repeated.map { $0 != self } ?? false
    }

    /// Logs the test case as run or skipped; returns why it must skip, if it must.
    private func skipReason() throws(RefusedCapability) -> String? {
        if ranOnHost { return "ran on the host" }
        let test = Test.current.map { "\($0.id)" } ?? "?"
        // An arena needs bpf() first: where bpf() itself is refused, that is the refusal to report.
        guard let refused = [KernelCapability.bpf, self].first(where: { $0.refusal != nil }),
              let refusal = refused.refusal
        else {
            logKernelTest("ran\t\(rawValue)\t\(test)")
            return nil
        }
        guard !refused.isRequired else {
            logKernelTest("failed\t\(refused.rawValue)\t\(test)\t\(refusal)")
            throw RefusedCapability(reason: refusal)
        }
        logKernelTest("skipped\t\(refused.rawValue)\t\(test)\t\(refusal)")
        if printedRefusals.withLock({ $0.insert(refusal).inserted }) { print("skipping kernel tests: \(refusal)") }
        return refusal
    }
}

/// The kernel refused a capability that SWIFTBPF_REQUIRE_KERNEL lists as working here.
public struct RefusedCapability: Error, CustomStringConvertible {
    public var reason: String
    public var description: String {
        "\(reason), but SWIFTBPF_REQUIRE_KERNEL says it works here: the test must not skip"
    }
}

/// `@Test(.needs(.bpf))`, `@Suite(.needs(.arena))`: each test case runs only where the kernel
/// grants the capability, and is skipped with the reason where it refuses it.
public struct KernelCapabilityTrait: TestTrait, SuiteTrait, TestScoping {
    public var capability: KernelCapability
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        // An arena test inherits `.needs(.bpf)` from its suite; the arena probe, which includes
        // bpf()'s, decides alone, so that each test case is logged once.
        let needsArena = test.traits.contains { ($0 as? KernelCapabilityTrait)?.capability == .arena }
        if capability != .bpf || !needsArena { try capability.require() }
        try await function()
    }
}

extension Trait where Self == KernelCapabilityTrait {
    /// The test needs `capability` from the running kernel.
    public static func needs(_ capability: KernelCapability) -> Self { KernelCapabilityTrait(capability: capability) }
}

private let printedRefusals = Mutex<Set<String>>([])

/// Only these two errors say the kernel turned the caller away; any other error means the probe
/// reached the code it asked for, so the tests run and show the real problem.
private func refusalName(_ error: Int32) -> String? {
    switch error {
    case EPERM: "EPERM"
    case ENOSYS: "ENOSYS"
    default: nil
    }
}

private let bpfRefusal: String? = {
    do throws(KernelError) {
        _ = try SyscallProgram([Instruction(opcode: Opcode.classALU64 | Opcode.mov | Opcode.sourceK),
                                Instruction(opcode: Opcode.classJMP | Opcode.exit)])
        return nil
    } catch {
        guard case .rejected(let errno, _) = error, let name = refusalName(errno) else { return nil }
        return "bpf() is refused here: BPF_PROG_LOAD → \(name)"
    }
}()

private let arenaRefusal: String? = bpfRefusal ?? {
    let mapCreate: Int32 = 0
    let mapTypeArena: UInt32 = 33
    let mmapable: UInt32 = 1 << 10
    var attr = [UInt8](repeating: 0, count: 72)
    attr.withUnsafeMutableBytes { a in
        a.storeBytes(of: mapTypeArena, toByteOffset: 0, as: UInt32.self)
        a.storeBytes(of: UInt32(10), toByteOffset: 12, as: UInt32.self)  // max_entries: pages
        a.storeBytes(of: mmapable, toByteOffset: 16, as: UInt32.self)
    }
    let fd = attr.withUnsafeMutableBytes { swiftbpf_bpf(mapCreate, $0.baseAddress, UInt32($0.count)) }
    if fd >= 0 {
        close(Int32(fd))
        return nil
    }
    guard let name = refusalName(swiftbpf_errno()) else { return nil }
    return "this kernel refuses arena maps: BPF_MAP_CREATE(BPF_MAP_TYPE_ARENA) → \(name)"
}()

/// Appends one line to $SWIFTBPF_KERNEL_TEST_LOG, when the test run asks for it.
private func logKernelTest(_ line: String) {
    guard let path = getenv("SWIFTBPF_KERNEL_TEST_LOG") else { return }
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
    guard fd >= 0 else {
        Issue.record("cannot open the kernel test log \(String(cString: path)): errno \(errno)")
        return
    }
    defer { close(fd) }
    // One write per line: O_APPEND keeps lines from parallel test cases whole.
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}
