import BPFDiagnostics
import CompilerDriver
import CFrontend
import Foundation

do {
    let options = try CompilerOptions(arguments: Array(CommandLine.arguments.dropFirst()))
    let module = try lowerTranslationUnit(path: options.input, options: options.frontend)
    dump(module.functions)
} catch {
    var renderer = DiagnosticRenderer()
    for d in error.diagnostics { FileHandle.standardError.write(Data((renderer.render(d) + "\n").utf8)) }
    exit(1)
}
