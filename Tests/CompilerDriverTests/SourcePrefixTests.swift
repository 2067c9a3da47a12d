import Testing
@testable import CompilerDriver

/// The start of a main file the prefix cache precompiles: leading includes, defines and comments.
@Suite struct SourcePrefixTests {
    static func prefix(_ source: String) -> SourcePrefix { SourcePrefix(source: Array(source.utf8)) }

    @Test func includesDefinesAndCommentsUpToTheFirstCode() {
        let source = """
            // SPDX-License-Identifier: GPL-2.0
            /* a comment
               over two lines */
            #include "vmlinux.h"
            #  include <bpf/bpf_helpers.h>   /* trailing */
            #define LONG_MACRO(x) \\
                ((x) + 1)

            #undef LONG_MACRO
            char LICENSE[] SEC("license") = "GPL";
            #include "late.h"

            """
        let found = Self.prefix(source)
        #expect(found.lastLine == 9)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(String(decoding: found.text, as: UTF8.self) == lines.prefix(9).joined(separator: "\n") + "\n")
        // Every later byte where it was; the prefix blank, its newlines kept.
        let blanked = String(decoding: found.blanked, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(blanked.count == lines.count)
        #expect(blanked.prefix(9).allSatisfy { $0.allSatisfy { $0 == " " } })
        #expect(Array(blanked.dropFirst(9)) == Array(lines.dropFirst(9)))
    }

    /// A conditional, a pragma or code ends the prefix; so does a comment that never ends.
    @Test(arguments: [
        ("#include <a.h>\n#ifdef X\n#include <b.h>\n#endif\n", 1),
        ("#include <a.h>\n#pragma once\n", 1),
        ("int x;\n#include <a.h>\n", 0),
        ("#include <a.h>\n/* open\n", 1),
        ("#define S \"/* not a comment\"\n#include <a.h>", 2),
    ])
    func endsAtTheFirstLineThatIsNotADirectiveWeTake(source: String, lastLine: Int) {
        #expect(Self.prefix(source).lastLine == lastLine)
    }
}
