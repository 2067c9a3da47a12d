// The tutorial in docs/ cannot go stale: every command it shows is run again here and its output
// must be what the chapter shows, byte for byte after the few normalizations below.
//
// A chapter (docs/NN-*.md) shows commands in fenced blocks whose info string starts with
// `console`. Inside, a line `$ COMMAND` is a command and the lines up to the next `$ ` line or the
// closing fence are its output: standard output and standard error as a terminal interleaves
// them, then `(exit status N)` when the command fails. `console needs=bpf` (or `needs=arena`)
// marks a block whose commands need that from the kernel (KernelCapability); such a block is
// skipped only where the kernel refuses it. The commands of a chapter run in order through
// /bin/sh in a scratch copy of the repository's docs/examples, include/ and samples/ (chapter 5
// compiles the arena hash table sample), from the copy's docs/examples, with our built
// executables first on PATH, exactly as a student runs them.
//
// DOCS_UPDATE=1 rewrites the outputs in the chapters instead of comparing them, so that an
// author never copies output by hand: `DOCS_UPDATE=1 swift test --filter DocsTests`.
import Foundation
import KernelTestSupport
import Testing

/// One `$ ` command of a chapter, where its output lies in the chapter's lines, and what it needs.
struct DocsCommand: Sendable {
    var command: String
    /// Index of the `$ ` line in the chapter's lines; the output is the lines after it, up to `end`.
    var line: Int
    var end: Int
    /// The word after `needs=` in the block's info string, a KernelCapability's name.
    var needs: String?
}

/// A tutorial chapter and the commands it shows.
struct DocsChapter: Sendable, CustomTestStringConvertible {
    var file: URL
    var lines: [String]
    var commands: [DocsCommand]

    var testDescription: String { file.lastPathComponent }

    static let directory = Paths.package.appendingPathComponent("docs")
    static let all: [DocsChapter] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.first?.isNumber == true && $0.hasSuffix(".md") }.sorted()
            .map { DocsChapter(file: directory.appendingPathComponent($0)) }
    }()

    init(file: URL) {
        self.file = file
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        commands = []
        var index = 0
        while index < lines.count {
            let fence = lines[index]
            index += 1
            guard fence.hasPrefix("```console") else {
                // Skip other fenced blocks whole, so that a `$ ` inside them is not a command.
                if fence.hasPrefix("```") {
                    while index < lines.count && !lines[index].hasPrefix("```") { index += 1 }
                    index += 1
                }
                continue
            }
            let needs = fence.split(separator: " ").first { $0.hasPrefix("needs=") }.map { String($0.dropFirst(6)) }
            var close = index
            while close < lines.count && !lines[close].hasPrefix("```") { close += 1 }
            let starts = (index..<close).filter { lines[$0].hasPrefix("$ ") }
            for (n, start) in starts.enumerated() {
                commands.append(DocsCommand(command: String(lines[start].dropFirst(2)), line: start,
                                            end: n + 1 < starts.count ? starts[n + 1] : close, needs: needs))
            }
            index = close + 1
        }
    }

    func shownOutput(of command: DocsCommand) -> String {
        lines[(command.line + 1)..<command.end].map { $0 + "\n" }.joined()
    }
}

/// Replaces what legitimately differs between two runs of the same command on the same machine,
/// and nothing else; each replacement says why it is needed.
func normalizeDocsOutput(_ output: String) -> String {
    var text = output
    // A map's file descriptor number depends on what the process had open before (the loader's
    // own files, the test runner's inherited descriptors): `map[fd:4]` in the verifier's words.
    text.replace(#/fd:[0-9]+/#) { _ in "fd:N" }
    // The verifier reports how long it took, which changes from run to run.
    text.replace(#/verification time [0-9]+ usec/#) { _ in "verification time N usec" }
    // Kernel addresses (helpers, kfuncs, kernel objects) move with KASLR on each boot.
    text.replace(#/0xffff[0-9a-f]{12}/#) { _ in "0xffffXXXXXXXXXXXX" }
    // A chapter's block cannot show whether the last line ended with a newline.
    if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
    return text
}

@Suite struct DocsTests {
    @Test func chaptersExist() {
        #expect(DocsChapter.all.count >= 1, "no chapter in \(DocsChapter.directory.path)")
        for chapter in DocsChapter.all {
            #expect(!chapter.commands.isEmpty, "\(chapter.file.lastPathComponent) shows no command")
        }
    }

    @Test(arguments: DocsChapter.all)
    func chapterShowsWhatTheToolsPrint(_ chapter: DocsChapter) async throws {
        let needs = Set(chapter.commands.compactMap(\.needs))
        try (needs.contains(KernelCapability.arena.rawValue) ? KernelCapability.arena : .bpf).cancelIfRanOnHost()
        let update = ProcessInfo.processInfo.environment["DOCS_UPDATE"] == "1"
        let scratch = try Paths.workDirectory("docs/\(chapter.file.deletingPathExtension().lastPathComponent)")
        let examples = scratch.appendingPathComponent("docs/examples")
        try FileManager.default.createDirectory(at: scratch.appendingPathComponent("docs"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: DocsChapter.directory.appendingPathComponent("examples"), to: examples)
        try FileManager.default.copyItem(at: Paths.include, to: scratch.appendingPathComponent("include"))
        try FileManager.default.copyItem(at: Paths.package.appendingPathComponent("samples"),
                                         to: scratch.appendingPathComponent("samples"))
        let binDirectory = try await Tools.binDirectory.value
        _ = try await Tools.ours("swiftbpfcc")
        _ = try await Tools.ours("swiftbpf")

        var replacements: [(command: DocsCommand, output: String)] = []
        for command in chapter.commands {
            if let needs = command.needs {
                let capability = try #require(KernelCapability(rawValue: needs),
                                              "\(chapter.file.lastPathComponent):\(command.line + 1): no capability '\(needs)'")
                if try !capability.check() { continue }
            }
            let output = try await runShell(command.command, in: examples, binDirectory: binDirectory)
            let shown = chapter.shownOutput(of: command)
            if normalizeDocsOutput(output) == normalizeDocsOutput(shown) { continue }
            if update {
                // Only what really changed is rewritten, not addresses and timings that differ every run.
                replacements.append((command, output))
            } else {
                let difference = try await diff(shown: normalizeDocsOutput(shown), actual: normalizeDocsOutput(output),
                                                 in: scratch)
                Issue.record("""
                    \(chapter.file.lastPathComponent):\(command.line + 1): `\(command.command)` prints something else \
                    than the chapter shows (DOCS_UPDATE=1 rewrites it):
                    \(difference)
                    """)
            }
        }
        guard update else { return }
        var lines = chapter.lines
        // From the last command up, so that earlier line indexes stay valid.
        for (command, output) in replacements.reversed() {
            var outputLines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if outputLines.last == "" { outputLines.removeLast() }
            lines.replaceSubrange((command.line + 1)..<command.end, with: outputLines)
        }
        try lines.joined(separator: "\n").write(to: chapter.file, atomically: true, encoding: .utf8)
    }

    /// Runs `command` through /bin/sh as a student would, with our executables first on PATH;
    /// returns standard output and standard error interleaved, and the exit status when not 0.
    private func runShell(_ command: String, in directory: URL, binDirectory: String) async throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        // One file for both streams keeps their order as a terminal would show it.
        let result = try await runProcess("/bin/sh", ["-c", "exec 2>&1; " + command], in: directory, timeout: 300,
                                          environment: ["PATH": "\(binDirectory):\(path)"])
        try #require(!result.signaled && !result.timedOut, "`\(command)`: \(result.transcript)")
        return result.stdout + (result.status == 0 ? "" : "(exit status \(result.status))\n")
    }

    private func diff(shown: String, actual: String, in directory: URL) async throws -> String {
        let shownFile = directory.appendingPathComponent("shown.txt")
        let actualFile = directory.appendingPathComponent("actual.txt")
        try shown.write(to: shownFile, atomically: true, encoding: .utf8)
        try actual.write(to: actualFile, atomically: true, encoding: .utf8)
        let result = try await runProcess(try which("diff"), ["-u", "shown.txt", "actual.txt"], in: directory)
        return result.stdout
    }
}
