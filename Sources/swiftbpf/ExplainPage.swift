// The page `swiftbpf explain --html` writes: one self-contained HTML file (inline style and
// script, nothing fetched) with the C on one side and the BPF on the other. Every C line and every
// instruction carries its source key (`file:line`) in `data-src`; the script selects everything
// with the key of what was clicked, so a C line lights up its instructions and the states after
// them, and an instruction its C line.

import BPFLoader
import BPFObject

/// `text` safe inside HTML text and double-quoted attributes.
func htmlEscaped(_ text: String) -> String {
    var escaped = ""
    for character in text {
        switch character {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&quot;"
        default: escaped.append(character)
        }
    }
    return escaped
}

/// The lines shown for each source file, in the order the program first uses them: the whole file
/// where it can be read from the path line_info names, else only the lines line_info quotes.
func sourceFiles(of explanation: VerifierExplanation) -> [(file: String, lines: [(number: Int, text: String)])] {
    var files: [String] = []
    var quoted: [String: [Int: String]] = [:]
    for line in explanation.instructions.compactMap(\.line) {
        if quoted[line.file] == nil { files.append(line.file) }
        quoted[line.file, default: [:]][line.line] = line.sourceText
    }
    return files.map { file in
        if let bytes = try? readFile(file) {
            let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            return (file, lines.enumerated().map { ($0.offset + 1, String($0.element)) })
        }
        return (file, (quoted[file] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }
}

func explanationPage(_ explanation: VerifierExplanation, objectPath: String) -> String {
    let rejectedKey = explanation.rejection?.line.map(sourceKey)
    let usedKeys = Set(explanation.instructions.compactMap { $0.line.map(sourceKey) })
    var html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(htmlEscaped("swiftbpf explain: \(explanation.program)"))</title>
        <style>
        body { font-family: sans-serif; margin: 0; color: #1d1d1d; }
        header { padding: 0.5em 1em; border-bottom: 1px solid #ccc; }
        h1 { font-size: 1.2em; margin: 0.2em 0; }
        h2 { font-size: 1em; margin: 0.4em 0; }
        .verdict-accepted { color: #17651e; }
        .verdict-rejected { color: #a4161a; }
        .diagnosis { background: #fff1f0; border-left: 4px solid #a4161a; padding: 0.4em 0.8em; white-space: pre-wrap; font-family: monospace; }
        main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.6fr); gap: 1em; padding: 0 1em; }
        section { max-height: 82vh; overflow: auto; }
        table { border-collapse: collapse; width: 100%; font-family: monospace; font-size: 13px; }
        td { padding: 1px 6px; vertical-align: top; white-space: pre-wrap; tab-size: 4; }
        td.n { color: #888; text-align: right; width: 3em; user-select: none; }
        tr[data-src] { cursor: pointer; }
        tr.code td.t { font-weight: bold; }
        tr.group td { color: #555; background: #f4f4f4; padding-top: 0.5em; }
        tr.rejected td { background: #ffd9d6; }
        tr.sel td { background: #fff3b0; }
        tr.focus td { background: #ffd84d; }
        #bpf td.t { white-space: nowrap; }
        td.state { color: #1f4e8c; overflow-wrap: anywhere; }
        td.state div.arrival { color: #6b4c9a; }
        tr.unreached td { color: #aaa; }
        td.state div.refused { color: #a4161a; font-weight: bold; }
        .cast { display: inline-block; margin-left: 0.6em; padding: 0 0.4em; border-radius: 3px; background: #e3f0ff; color: #0b4f9c; }
        .why { display: block; white-space: normal; color: #0b4f9c; font-family: sans-serif; font-size: 12px; }
        </style>
        </head>
        <body>
        <header>
        <h1>Program <code>\(htmlEscaped(explanation.program))</code> of <code>\(htmlEscaped(objectPath))</code>:
        <span class="verdict-\(explanation.rejection == nil ? "accepted" : "rejected")">\(explanation.rejection == nil ? "accepted" : "rejected") by the verifier</span></h1>
        <p>Click a C line to see its instructions and what the verifier knew after each (the registers and stack slots the instruction used or changed, one state per path it walked); click an instruction to see its C line.\(explanation.statistics.map { " <code>\(htmlEscaped($0))</code>" } ?? "")</p>

        """
    if let rejection = explanation.rejection {
        html += "<div class=\"diagnosis\" id=\"diagnosis\">\(htmlEscaped(rejectionDiagnostic(program: explanation.program, rejection)))</div>\n"
    }
    html += "</header>\n<main>\n<section id=\"source\">\n<h2>C</h2>\n"
    for (file, lines) in sourceFiles(of: explanation) {
        html += "<h2>\(htmlEscaped(file))</h2>\n<table>\n"
        for (number, text) in lines {
            let key = "\(file):\(number)"
            var classes = ["src"]
            if usedKeys.contains(key) { classes.append("code") }
            if key == rejectedKey { classes.append("rejected") }
            html += "<tr class=\"\(classes.joined(separator: " "))\" data-src=\"\(htmlEscaped(key))\"><td class=\"n\">\(number)</td><td class=\"t\">\(htmlEscaped(text))</td></tr>\n"
        }
        html += "</table>\n"
    }
    html += "</section>\n<section id=\"bpf\">\n<h2>BPF, with the verifier's states</h2>\n<table>\n"
    var lastKey: String?
    for instruction in explanation.instructions {
        let key = instruction.line.map(sourceKey) ?? ""
        if let line = instruction.line, key != lastKey {
            html += "<tr class=\"group\" data-src=\"\(htmlEscaped(key))\"><td colspan=\"3\">\(htmlEscaped(key)): \(htmlEscaped(String(line.sourceText.trimmingPrefix { $0 == " " || $0 == "\t" })))</td></tr>\n"
            lastKey = key
        }
        let (arrivals, after, hidden) = distinctStates(instruction.visits)
        var states = arrivals.map { "<div class=\"arrival\">\(htmlEscaped($0))</div>" }
        states += after.map { "<div>\(htmlEscaped($0))</div>" }
        if hidden > 0 { states.append("<div class=\"more\">and \(hidden) more states</div>") }
        if instruction.index == explanation.rejection?.instruction {
            states.append("<div class=\"refused\">rejected here: \(htmlEscaped(explanation.rejection?.reason ?? ""))</div>")
        } else if instruction.visits.isEmpty {
            states.append("<div>never reached</div>")
        }
        var text = htmlEscaped(instruction.text)
        if let reason = castReason(instruction.instruction, line: instruction.line) {
            text += "<span class=\"cast\">cast</span><span class=\"why\">\(htmlEscaped(reason))</span>"
        }
        let classes = ["insn"] + (instruction.visits.isEmpty ? ["unreached"] : [])
        html += "<tr class=\"\(classes.joined(separator: " "))\" data-src=\"\(htmlEscaped(key))\" data-index=\"\(instruction.index)\">"
            + "<td class=\"n\">\(instruction.index)</td><td class=\"t\">\(text)</td><td class=\"state\">\(states.joined())</td></tr>\n"
    }
    html += """
        </table>
        </section>
        </main>
        <script>
        (function () {
          function withKey(scope, key) {
            return document.querySelectorAll(scope + ' [data-src="' + CSS.escape(key) + '"]');
          }
          function select(row) {
            document.querySelectorAll('.sel, .focus').forEach(function (e) { e.classList.remove('sel', 'focus'); });
            var key = row.getAttribute('data-src');
            if (key === '') { row.classList.add('focus'); return; }
            withKey('', key).forEach(function (e) { e.classList.add('sel'); });
            row.classList.add('focus');
            var other = row.closest('#bpf') ? '#source' : '#bpf';
            var first = withKey(other, key)[0];
            if (first) first.scrollIntoView({ block: 'nearest' });
          }
          document.addEventListener('click', function (event) {
            var row = event.target.closest('tr[data-src]');
            if (row) select(row);
          });
        })();
        </script>
        </body>
        </html>

        """
    return html
}
