// Shared machinery of the end-to-end tests: running processes, the per-test work directories,
// the C tools built once per test run and where our executables are. Whether the kernel lets a
// test run is KernelCapability's to say (KernelTestSupport).
import Foundation
import Testing

/// The repository layout the tests read from, found from this file's own path.
enum Paths {
    static let package = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let endToEnd = package.appendingPathComponent("Tests/EndToEndTests")
    static let corpus = endToEnd.appendingPathComponent("Corpus")
    static let errors = endToEnd.appendingPathComponent("Errors")
    static let support = package.appendingPathComponent("Tests/Support")
    static let include = package.appendingPathComponent("include")
    /// Kept under .build so that the objects and logs of the last run can be inspected.
    static let work = package.appendingPathComponent(".build/e2e")

    /// A fresh directory for one test's files, named after the test.
    static func workDirectory(_ name: String) throws -> URL {
        let directory = work.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The `.c` files of a corpus directory, sorted so that test order is stable.
    static func cFiles(in directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".c") }.sorted().map { directory.appendingPathComponent($0) }
    }
}

/// What a finished process left behind.
struct ProcessResult: Sendable {
    /// The exit status, or the signal's number when `signaled`.
    var status: Int32
    var stdout: String
    var stderr: String
    /// The process ended by a signal (a Swift trap is SIGILL), or was killed for running too long.
    var signaled = false
    var timedOut = false

    /// The command's output for a failure message.
    var transcript: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

private let timeoutScale = ProcessInfo.processInfo.environment["SWIFTBPF_TIMEOUT_SCALE"].flatMap(Double.init) ?? 1

/// Why a helper could not produce what a test needs.
struct HarnessError: Error, CustomStringConvertible {
    var description: String
}

/// Runs `executable` with `arguments` and collects its output. Output goes to files rather than
/// pipes so that a chatty child cannot block on a full pipe; a child that runs longer than
/// `timeout` seconds, times $SWIFTBPF_TIMEOUT_SCALE on a slow machine (scripts/vm's emulated one),
/// is killed and reported as failed. `environment` is added to the test's own; swiftbpfcc's
/// prefix cache is kept under .build unless it says otherwise.
func runProcess(_ executable: String, _ arguments: [String], in directory: URL, timeout: Double = 120,
                environment: [String: String] = [:]) async throws -> ProcessResult
{
    let id = UUID().uuidString
    let outURL = directory.appendingPathComponent(".out-\(id)")
    let errURL = directory.appendingPathComponent(".err-\(id)")
    guard FileManager.default.createFile(atPath: outURL.path, contents: nil),
          FileManager.default.createFile(atPath: errURL.path, contents: nil)
    else {
        throw HarnessError(description: "cannot create output files in \(directory.path)")
    }
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment
        .merging(["XDG_CACHE_HOME": Paths.work.appendingPathComponent("cache").path]) { _, ours in ours }
        .merging(environment) { _, given in given }
    process.currentDirectoryURL = directory
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = out
    process.standardError = err
    // Whether the time limit killed it: measured time would also count how long this task
    // waited to resume after the process ended, on a machine busy with other tests.
    let killed = KilledFlag()
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: HarnessError(description: "cannot start \(executable): \(error)"))
            return
        }
        // SIGKILL: children of the test runner can inherit SIGTERM blocked, and then outlive terminate().
        let killer = DispatchWorkItem {
            if process.isRunning {
                killed.set()
                kill(process.processIdentifier, SIGKILL)
            }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout * timeoutScale, execute: killer)
    }
    try out.close()
    try err.close()
    let stdout = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
    let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
    return ProcessResult(status: status, stdout: stdout, stderr: stderr,
                         signaled: process.terminationReason == .uncaughtSignal,
                         timedOut: killed.isSet)
}

/// A flag set once from another thread.
private final class KilledFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// Runs a command that must succeed and returns its standard output.
func runChecked(_ executable: String, _ arguments: [String], in directory: URL, timeout: Double = 120) async throws -> String {
    let result = try await runProcess(executable, arguments, in: directory, timeout: timeout)
    guard result.status == 0 else {
        let command = ([executable] + arguments).joined(separator: " ")
        throw HarnessError(description: "`\(command)` failed: \(result.transcript)")
    }
    return result.stdout
}

/// Finds a program on PATH, as a shell would.
func which(_ name: String) throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw HarnessError(description: "\(name) is not on PATH")
}

/// The tools the tests build or use, each set up once per test run.
enum Tools {
    /// The reference runner over the system libbpf (Tests/Support/libbpf_run.c).
    static let libbpfRun = Task<String, any Error> {
        let directory = try Paths.workDirectory("tools")
        let binary = directory.appendingPathComponent("libbpf_run").path
        let source = Paths.support.appendingPathComponent("libbpf_run.c").path
        _ = try await runChecked(try which("cc"), ["-O2", "-Wall", "-Werror", "-o", binary, source, "-lbpf"], in: directory)
        return binary
    }

    /// The directory holding our built executables: $SWIFTBPF_BIN_DIR, else what
    /// `swift build --show-bin-path` prints. The tests expect `swift build` to have run.
    static let binDirectory = Task<String, any Error> {
        if let directory = ProcessInfo.processInfo.environment["SWIFTBPF_BIN_DIR"], !directory.isEmpty {
            return directory
        }
        let output = try await runChecked(try which("swift"), ["build", "--show-bin-path"], in: Paths.package)
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func ours(_ name: String) async throws -> String {
        let path = "\(try await binDirectory.value)/\(name)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError(description: "\(path) does not exist: run `swift build` before `swift test`")
        }
        return path
    }
}
