import Foundation
import Testing
import ToolTestSupport
@testable import BPFLoader

/// Builds C sources for the tests: with clang-19 into a BPF object, and with `cc` into a native
/// program whose output is the expected answer.
enum Toolchain {
    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    static let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-loader-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// Runs a program, returning stdout; throws with stderr when it exits non-zero.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let result = try runTool([executable] + arguments)
        guard result.status == 0 else {
            throw Failed(description: "\(executable) \(arguments.joined(separator: " ")): " + result.stderr)
        }
        return result.stdout
    }

    /// Our executables: $SWIFTBPF_BIN_DIR, else the package's debug build (`swift build` first).
    static func ours(_ name: String) throws -> String {
        let environment = ProcessInfo.processInfo.environment["SWIFTBPF_BIN_DIR"] ?? ""
        let directory = environment.isEmpty
            ? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug").path
            : environment
        let path = directory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Failed(description: "\(path) does not exist: run `swift build` before `swift test`")
        }
        return path
    }

    /// `swiftbpfcc -O2 -g` and the object's path.
    static func compileOurs(_ source: String, name: String) throws -> URL {
        let input = try write(source, name: name + ".c")
        let output = directory.appendingPathComponent(name + ".ours.o")
        try run(try ours("swiftbpfcc"), ["-O2", "-g", input.path, "-o", output.path])
        return output
    }

    static func write(_ source: String, name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try source.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// `clang-19 -target bpf -O2 -g -mcpu=v3 -c` and the object's bytes.
    static func compileBPF(_ source: String, name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: try compileClang(source, name: name)))
    }

    /// `clang-19 -target bpf -O2 -g -mcpu=v3 -c` and the object's path.
    static func compileClang(_ source: String, name: String) throws -> URL {
        let input = try write(source, name: name + ".c")
        let output = directory.appendingPathComponent(name + ".o")
        try run("clang-19", ["-target", "bpf", "-O2", "-g", "-mcpu=v3", "-c", input.path, "-o", output.path])
        return output
    }

    /// Compiles `source` natively together with `driver` (which includes it) and returns what the
    /// driver prints.
    static func runNative(_ source: String, name: String, driver: String) throws -> String {
        _ = try write(source, name: name + ".c")
        let driverURL = try write("#include \"\(name).c\"\n#include <stdio.h>\n" + driver, name: name + "_driver.c")
        let binary = directory.appendingPathComponent(name + "_native")
        try run("cc", ["-O1", "-w", "-o", binary.path, driverURL.path])
        return try run(binary.path, [])
    }
}
