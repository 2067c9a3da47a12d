import BPFDiagnostics
import CompilerDriver
import CFrontend
import Foundation

do {
    let options = try CompilerOptions(arguments: Array(CommandLine.arguments.dropFirst()))
    let module = try lowerTranslationUnit(path: options.input, options: options.frontend)
    dump(module.functions)
} catch {
    for d in error.diagnostics { FileHandle.standardError.write(Data((d.description + "\n").utf8)) }
    exit(1)
}
