import BPFDiagnostics
import BPFIR
import CodeGen
import CompilerDriver
import CFrontend
import Foundation
import Passes

do {
    let options = try CompilerOptions(arguments: Array(CommandLine.arguments.dropFirst()))
    var module = try lowerTranslationUnit(path: options.input, options: options.frontend)
    try runPasses(&module, cpu: options.cpu)
    for f in module.functions {
        let c = try compileFunction(f, in: module, cpu: options.cpu)
        print(f.name, c.instructions.count, c.stackSize)
    }
} catch {
    var renderer = DiagnosticRenderer()
    for d in error.diagnostics { FileHandle.standardError.write(Data((renderer.render(d) + "\n").utf8)) }
    exit(1)
}
