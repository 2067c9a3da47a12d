// swift-tools-version:6.1
// swiftbpfcc: a C-to-BPF compiler and a BPF loader, one stage per module.
//
// Dependencies point one way. Object side: BPFDiagnostics <- BPFInstructions, BTF <- BPFObject <- BPFLoader.
// Compiler side: BPFIR <- CFrontend, Passes, CodeGen (which writes through the object side).
// The drivers sit on top. The loader never imports the compiler.
import PackageDescription

let libclangInclude: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I/usr/lib/llvm-19/include"])]

let package = Package(
    name: "swiftbpfcc",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "swiftbpfcc", targets: ["swiftbpfcc"]),
        .executable(name: "swiftbpf", targets: ["swiftbpf"]),
        .library(name: "BPFLoader", targets: ["BPFLoader"]),
    ],
    targets: [
        .systemLibrary(name: "CClang", path: "Sources/CClang"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "CBPFSyscall", path: "Sources/CBPFSyscall"),
        .target(name: "BPFDiagnostics"),
        .target(name: "BPFInstructions", dependencies: ["BPFDiagnostics"]),
        .target(name: "BTF", dependencies: ["BPFDiagnostics"]),
        .target(name: "BPFObject", dependencies: ["BPFInstructions", "BTF"]),
        .target(name: "BPFLoader", dependencies: ["BPFObject", "CBPFSyscall", "CZlib"]),
        .target(name: "BPFIR", dependencies: ["BPFDiagnostics"]),
        .target(name: "CFrontend", dependencies: ["BPFIR", "BPFInstructions", "CClang"], swiftSettings: libclangInclude),
        .target(name: "Passes", dependencies: ["BPFIR"]),
        .target(name: "CodeGen", dependencies: ["BPFIR", "BPFInstructions", "BTF", "BPFObject"]),
        .target(name: "CompilerDriver", dependencies: ["CFrontend", "Passes", "CodeGen"], swiftSettings: libclangInclude),
        .executableTarget(name: "swiftbpfcc", dependencies: ["CompilerDriver"], swiftSettings: libclangInclude),
        .executableTarget(name: "swiftbpf", dependencies: ["BPFLoader", "BPFDiagnostics"]),
        // The arena samples: the same C natively (on the heap) and as BPF, and user space reading
        // what the BPF programs built through the mmap'ed arena.
        .target(name: "ArenaListNative", path: "samples/arena_list/native",
                cSettings: [.headerSearchPath("../../../include")]),
        .executableTarget(name: "arena-list", dependencies: ["BPFLoader", "ArenaListNative"],
                          path: "samples/arena_list/driver"),
        .target(name: "ArenaHtabNative", path: "samples/arena_htab/native",
                cSettings: [.headerSearchPath("../../../include")]),
        .executableTarget(name: "arena-htab", dependencies: ["BPFLoader", "ArenaHtabNative"],
                          path: "samples/arena_htab/driver"),
        .testTarget(name: "BPFInstructionsTests", dependencies: ["BPFInstructions", "ToolTestSupport"]),
        .target(name: "ToolTestSupport", path: "Tests/ToolTestSupport"),
        .testTarget(name: "BPFLoaderTests", dependencies: ["BPFLoader", "BPFObject", "BPFInstructions", "BTF", "IRTestSupport",
                                                     "ToolTestSupport", "KernelTestSupport"]),
        .testTarget(name: "BPFObjectTests", dependencies: ["BPFObject", "BTF", "BPFIR", "CodeGen", "ToolTestSupport",
                                                     "KernelTestSupport"]),
        .target(name: "IRTestSupport", dependencies: ["BPFIR"], path: "Tests/IRTestSupport"),
        .testTarget(name: "PassesTests", dependencies: ["Passes", "IRTestSupport"]),
        .target(name: "KernelTestSupport", dependencies: ["BPFInstructions", "CBPFSyscall"], path: "Tests/KernelTestSupport"),
        .testTarget(name: "CodeGenTests", dependencies: ["CodeGen", "Passes", "IRTestSupport", "KernelTestSupport"]),
        .testTarget(name: "DifferentialTests", dependencies: ["CFrontend", "Passes", "CodeGen", "IRTestSupport", "KernelTestSupport", "ToolTestSupport"],
                    swiftSettings: libclangInclude),
        .testTarget(name: "CompilerDriverTests", dependencies: ["CompilerDriver", "Passes"], swiftSettings: libclangInclude),
        // Spawns the built executables, cc, clang and libbpf_run: of our code it links only the
        // kernel probe and the tests' random source (IRTestSupport), for the compiler fuzz test.
        .testTarget(name: "EndToEndTests", dependencies: ["KernelTestSupport", "IRTestSupport"],
                    exclude: ["Corpus", "Errors", "Reference", "Compat", "Explain"]),
    ]
)
