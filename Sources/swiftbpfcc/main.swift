// swiftbpfcc: compiles one C file to a BPF object (-c), a listing (-S) or IR (-emit-ir), with
// clang's flags and clang's diagnostics; exit status 1 on any error.
import BPFDiagnostics
import CompilerDriver
import Foundation

func report(_ diagnostics: [Diagnostic]) {
    var renderer = DiagnosticRenderer()
    for d in diagnostics {
        FileHandle.standardError.write(Data((renderer.render(d) + "\n").utf8))
    }
}

// A build that found no precompiled prefix started this process to make one (CompileJob.swift).
if CommandLine.arguments.dropFirst().first == "--precompile-prefix" {
    if let options = try? CompilerOptions(arguments: Array(CommandLine.arguments.dropFirst(2))) {
        precompilePrefix(options)
    }
    exit(0)
}

/// Compiles as the command line asks; the exit status.
func run() -> Int32 {
    do {
        let options = try CompilerOptions(arguments: Array(CommandLine.arguments.dropFirst()))
        let output = try compile(options)
        report(output.warnings)
        FileHandle.standardError.write(Data((output.notes + output.passDumps).utf8))
        try writeOutput(output.bytes, to: options.outputPath)
        if let dependencies = output.dependencies, let path = options.dependencyFile?.path {
            try writeOutput(Array(dependencies.utf8), to: path)
        }
        return 0
    } catch {
        report(error.diagnostics)
        return 1
    }
}

// Lowering recurses as deep as the C nests: an `else if` chain of thousands of arms, or a sum of
// thousands of terms, which generated code has, goes deeper than the main thread's 8 MiB allow.
// The compile runs on a thread with a 1 GiB stack, of which only the pages it touches are used.
let worker = Thread { exit(run()) }
worker.stackSize = 1 << 30
worker.start()
dispatchMain()
