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

do {
    let options = try CompilerOptions(arguments: Array(CommandLine.arguments.dropFirst()))
    let output = try compile(options)
    report(output.warnings)
    if options.outputPath == "-" {
        FileHandle.standardOutput.write(Data(output.bytes))
    } else if !FileManager.default.createFile(atPath: options.outputPath, contents: Data(output.bytes)) {
        report([.error("cannot write '\(options.outputPath)'", at: nil)])
        exit(1)
    }
    if let dependencies = output.dependencies, let path = options.dependencyFile?.path,
       !FileManager.default.createFile(atPath: path, contents: Data(dependencies.utf8)) {
        report([.error("cannot write dependency file '\(path)'", at: nil)])
        exit(1)
    }
} catch {
    report(error.diagnostics)
    exit(1)
}
