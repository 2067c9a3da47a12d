import CFrontend
import Foundation
import Glibc

/// The start of a main file that a precompiled header can stand for: the `#include`, `#define`
/// and `#undef` lines (with blank lines and comments between them) before anything else, as
/// clang's own preamble. BPF programs put their headers there, vmlinux.h first.
struct SourcePrefix {
    /// The prefix's bytes: whole lines.
    let text: [UInt8]
    /// Lines 1 through `lastLine` of the main file are the prefix (0 when it is empty).
    let lastLine: Int
    /// The main file with the prefix's bytes turned to spaces, newlines kept, so that every line
    /// and column after it stays where it was.
    let blanked: [UInt8]

    init(source: [UInt8]) {
        let n = source.count
        func at(_ k: Int) -> UInt8 { k < n ? source[k] : 0 }
        let newline = UInt8(ascii: "\n")
        var i = 0
        var line = 1
        var end = 0
        var lastLine = 0
        /// Moves past a block comment that starts at `i`; false when it never ends.
        func skipBlockComment() -> Bool {
            i += 2
            while i < n && !(at(i) == UInt8(ascii: "*") && at(i + 1) == UInt8(ascii: "/")) {
                if at(i) == newline { line += 1 }
                i += 1
            }
            i += 2
            return i <= n
        }
        scan: while true {
            while i < n, [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0B, 0x0C].contains(at(i)) { i += 1 }
            if i >= n {
                (end, lastLine) = (n, line)
                break
            }
            switch at(i) {
            case newline:
                i += 1
                (end, lastLine) = (i, line)
                line += 1
            case UInt8(ascii: "/") where at(i + 1) == UInt8(ascii: "/"):
                while i < n && at(i) != newline { i += 1 }
            case UInt8(ascii: "/") where at(i + 1) == UInt8(ascii: "*"):
                guard skipBlockComment() else { break scan }
            case UInt8(ascii: "#"):
                i += 1
                while at(i) == UInt8(ascii: " ") || at(i) == UInt8(ascii: "\t") { i += 1 }
                var name: [UInt8] = []
                while i < n, at(i) == UInt8(ascii: "_") || (at(i) >= UInt8(ascii: "a") && at(i) <= UInt8(ascii: "z")) {
                    name.append(at(i))
                    i += 1
                }
                guard ["", "include", "include_next", "define", "undef"].contains(String(decoding: name, as: UTF8.self))
                else { break scan }
                // The rest of the directive: continued lines, comments and literals included.
                while i < n && at(i) != newline {
                    switch at(i) {
                    case UInt8(ascii: "\\") where at(i + 1) == newline:
                        i += 2
                        line += 1
                    case UInt8(ascii: "/") where at(i + 1) == UInt8(ascii: "*"):
                        guard skipBlockComment() else { break scan }
                    case UInt8(ascii: "/") where at(i + 1) == UInt8(ascii: "/"):
                        while i < n && at(i) != newline { i += 1 }
                    case UInt8(ascii: "\""), UInt8(ascii: "'"):
                        let quote = at(i)
                        i += 1
                        while i < n && at(i) != quote && at(i) != newline {
                            i += at(i) == UInt8(ascii: "\\") && at(i + 1) != newline ? 2 : 1
                        }
                        if at(i) == quote { i += 1 }
                    default:
                        i += 1
                    }
                }
            default:
                break scan
            }
        }
        text = Array(source[..<end])
        self.lastLine = lastLine
        var blanked = source
        for k in 0..<end where blanked[k] != newline && blanked[k] != UInt8(ascii: "\r") {
            blanked[k] = UInt8(ascii: " ")
        }
        self.blanked = blanked
    }
}

/// Precompiled prefixes kept between builds, in `$XDG_CACHE_HOME/swiftbpfcc` (else
/// `~/.cache/swiftbpfcc`), so that a program including a header as large as vmlinux.h parses in
/// a fraction of the time on its next build.
///
/// Two keys. The command key hashes what decides how the prefix is read: libclang's version,
/// the whole clang command line, the main file's directory and the working directory (relative
/// includes), clang's include-path environment variables and the prefix's text. Under it
/// `COMMAND.headers` lists the files the prefix read last time; the content key adds the bytes of
/// each, so that an edited header is a different entry. Under the content key, `CONTENT.pch` is
/// the precompiled header and `CONTENT.prefix` what its parse saw (or that it was declined).
///
/// A build that finds no entry parses as without the cache and, when the prefix's headers are
/// large enough to be worth it, starts a detached `swiftbpfcc` that builds the entry, so that
/// no build waits for one (saving vmlinux.h's takes twice as long as parsing it). Each file is
/// written to a temporary name and renamed, the listing of headers last; concurrent builders of
/// one command key are serialized by a lock, and the second finds the entry made.
struct PrefixCache {
    /// Headers smaller than this parse about as fast as a precompiled header loads.
    static let worthwhileBytes = 512 * 1024
    /// Bumped when the files' layout changes.
    static let format = "swiftbpfcc-prefix-1"

    let directory: String
    let input: String
    let prefix: SourcePrefix
    let commandKey: String
    /// The name the prefix has as a header of its own: beside the main file (for quoted
    /// includes), never on disk.
    let virtualPath: String

    /// The cache for `options`' input, or nil when there is no cache directory or no prefix.
    init?(options: CompilerOptions) {
        let environment = ProcessInfo.processInfo.environment
        let base: String
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            base = xdg
        } else if let home = environment["HOME"], home.hasPrefix("/") {
            base = home + "/.cache"
        } else {
            return nil
        }
        guard let source = FileManager.default.contents(atPath: options.input) else { return nil }
        let prefix = SourcePrefix(source: Array(source))
        let hasForcedIncludes = options.frontend.clangFlags.contains { $0.hasPrefix("-include") }
        guard prefix.lastLine > 0 || hasForcedIncludes else { return nil }
        let inputURL = URL(fileURLWithPath: options.input)
        directory = base + "/swiftbpfcc"
        input = options.input
        self.prefix = prefix
        // Named as the input is, so that the headers are named as in a parse without the cache.
        virtualPath = options.input + ".swiftbpfcc-prefix.h"
        var hash = ContentHash()
        hash.add(PrefixCache.format)
        hash.add(libclangVersion)
        options.frontend.clangArguments.forEach { hash.add($0) }
        hash.add(inputURL.deletingLastPathComponent().resolvingSymlinksInPath().path)
        hash.add(FileManager.default.currentDirectoryPath)
        for variable in ["CPATH", "C_INCLUDE_PATH"] { hash.add(environment[variable] ?? "") }
        hash.add(prefix.text)
        commandKey = hash.hex
    }

    /// What the cache holds for the prefix as its headers are now.
    enum Entry {
        case precompiled(PrecompiledPrefix)
        /// The prefix cannot be precompiled (clang warned about it, say): parse as usual.
        case declined
        case missing
    }

    func lookup() -> Entry {
        guard let listing = try? String(contentsOfFile: path(commandKey, "headers"), encoding: .utf8),
              let key = contentKey(files: PrefixCache.headers(in: listing)),
              let index = try? String(contentsOfFile: path(key, "prefix"), encoding: .utf8) else { return .missing }
        if index == "declined\n" { return .declined }
        return PrefixCache.decode(index, header: path(key, "pch")).map(Entry.precompiled) ?? .missing
    }

    /// `COMMAND.headers`: the content key it was written for, then the files the prefix read, a line each.
    private static func headers(in listing: String) -> [String] {
        listing.split(separator: "\n", omittingEmptySubsequences: true).dropFirst().map(String.init)
    }

    /// Whether the headers `files` shows the prefix reading (and `-include` files) are large
    /// enough for a precompiled header to pay.
    func isWorthPrecompiling(_ files: [IncludedFile]) -> Bool {
        let bytes = files.dropFirst().filter { $0.mainFileLine.map { $0 <= prefix.lastLine } ?? true }.map(\.size)
        return bytes.reduce(0, +) >= PrefixCache.worthwhileBytes
    }

    /// Starts `swiftbpfcc --precompile-prefix ARGUMENTS` detached (standard streams on /dev/null,
    /// so that nobody waits for its output), and does not wait for it.
    func startPrecompiling(arguments: [String]) {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return }
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        for descriptor: Int32 in 0...2 {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        // A process group of its own: a ^C meant for the build does not cut the entry short.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv = ([executable, "--precompile-prefix"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        _ = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
    }

    /// Builds the entry for the prefix as its headers are now (the detached process's work).
    func precompile(options: FrontendOptions) {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let lock = open(path(commandKey, "lock"), O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0 else { return }
        defer { close(lock) }
        guard flock(lock, LOCK_EX | LOCK_NB) == 0, case .missing = lookup() else { return }
        let started = Date()
        let temporary = path(commandKey, "pch.\(getpid())")
        defer { unlink(temporary) }
        let (files, header) = precompilePrefix(prefix.text, virtualPath: virtualPath, options: options, output: temporary)
        // A header edited while it was being read may be in the header half old, half new.
        let paths = files.map(\.path)
        guard paths.allSatisfy({ path in
            ((try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate]) as? Date).map { $0 < started } ?? false
        }), !paths.contains(where: { $0.contains("\n") || $0.contains("\t") }),
              let key = contentKey(files: paths) else { return }
        let previous = (try? String(contentsOfFile: path(commandKey, "headers"), encoding: .utf8))?
            .split(separator: "\n").first.map(String.init)
        if header != nil { guard rename(temporary, path(key, "pch")) == 0 else { return } }
        let written = (try? Data(PrefixCache.encode(header, files: files).utf8).write(
            to: URL(fileURLWithPath: path(key, "prefix")), options: .atomic)) != nil
            && (try? Data(([key] + paths).map { $0 + "\n" }.joined().utf8).write(
                to: URL(fileURLWithPath: path(commandKey, "headers")), options: .atomic)) != nil
        // The entry for the headers as they were is of no more use.
        if written, let previous, previous != key {
            unlink(path(previous, "pch"))
            unlink(path(previous, "prefix"))
        }
    }

    private func path(_ key: String, _ kind: String) -> String { "\(directory)/\(key).\(kind)" }

    /// The command key with the bytes of `files` added; nil when one cannot be read.
    private func contentKey(files: [String]) -> String? {
        var hash = ContentHash()
        hash.add(commandKey)
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: file) else { return nil }
            hash.add(file)
            bytes.withUnsafeBytes { hash.add($0) }
        }
        return hash.hex
    }

    /// `CONTENT.prefix`: `declined`, or `precompiled` then one line per file read
    /// (`file SYSTEM LINE SIZE PATH`) and per declaration (`declaration OFFSET SPELLING PATH`), tab-separated.
    static func encode(_ header: PrecompiledPrefix?, files: [IncludedFile]) -> String {
        guard let header else { return "declined\n" }
        var text = "precompiled\n"
        for file in header.files {
            text += "file\t\(file.isSystem ? 1 : 0)\t\(file.mainFileLine.map(String.init) ?? "-")\t\(file.size)\t\(file.path)\n"
        }
        for site in header.declarations {
            text += "declaration\t\(site.offset)\t\(site.spelling)\t\(site.file)\n"
        }
        return text
    }

    static func decode(_ text: String, header path: String) -> PrecompiledPrefix? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard lines.first == "precompiled" else { return nil }
        lines = lines.dropFirst()
        var header = PrecompiledPrefix(path: path, declarations: [], files: [])
        for line in lines {
            let fields = line.split(separator: "\t", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
            switch fields.first {
            case "file" where fields.count == 5:
                guard let size = Int(fields[3]) else { return nil }
                header.files.append(IncludedFile(path: fields[4], isSystem: fields[1] == "1", mainFileLine: Int(fields[2]),
                                                 size: size))
            case "declaration" where fields.count == 4:
                guard let offset = Int(fields[1]) else { return nil }
                header.declarations.append(DeclarationSite(file: fields[3], offset: offset, spelling: fields[2]))
            default:
                return nil
            }
        }
        return access(path, R_OK) == 0 ? header : nil
    }
}

/// A 64-bit multiply-rotate hash over 8-byte words (vmlinux.h hashes in about a millisecond):
/// enough to tell one cache entry from another, not meant to resist an adversary.
struct ContentHash {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    private mutating func mix(_ word: UInt64) {
        let h = state ^ (word &* 0x9e37_79b9_7f4a_7c15)
        state = ((h << 31) | (h >> 33)) &* 0xc2b2_ae3d_27d4_eb4f
    }

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        while i + 8 <= bytes.count {
            mix(bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        while i < bytes.count {
            mix(UInt64(bytes[i]))
            i += 1
        }
        // A length ends each field, so that fields cannot run into each other.
        mix(UInt64(bytes.count) ^ 0xff51_afd7_ed55_8ccd)
    }

    mutating func add(_ bytes: [UInt8]) { bytes.withUnsafeBytes { add($0) } }
    mutating func add(_ text: String) { add(Array(text.utf8)) }

    var hex: String {
        let digits = String(state, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
