import CClang

/// A token where it is written, with its file offset and parenthesis depth.
struct SpelledToken {
    var text: String
    var offset: UInt32
    /// Open parentheses before this token, counting it when it is `(`.
    var depth: Int
}

extension FunctionLowering {
    /// The tokens of a statement's head, from its first token through the `)` that closes its
    /// first `(`: `for (...)` or `__atomic_load_n(...)`, as spelled.
    ///
    /// For code a macro produced (`can_loop`, `list_for_each_entry`) the expansion location is
    /// only the macro's name and the extent ends at the use site; the spelling location of the
    /// start leads into the macro's body, where the tokens really are, so read from there.
    func spelledHead(_ cursor: CXCursor) -> [SpelledToken] {
        let start = clang_getRangeStart(clang_getCursorExtent(cursor))
        var file: CXFile?
        var offset: UInt32 = 0
        clang_getSpellingLocation(start, &file, nil, nil, &offset)
        guard let file else { return [] }
        var size = 0
        _ = clang_getFileContents(unit, file, &size)
        // A statement head longer than this is not one we read.
        let end = min(UInt32(size), offset + 8192)
        let range = clang_getRange(clang_getLocationForOffset(unit, file, offset),
                                   clang_getLocationForOffset(unit, file, end))
        var tokens: UnsafeMutablePointer<CXToken>?
        var count: UInt32 = 0
        clang_tokenize(unit, range, &tokens, &count)
        guard let tokens else { return [] }
        defer { clang_disposeTokens(unit, tokens, count) }
        var result: [SpelledToken] = []
        var depth = 0
        // Comments are tokens too when they come from a file; they are not part of the statement.
        for i in 0..<Int(count) where clang_getTokenKind(tokens[i]) != CXToken_Comment {
            let text = clang_getTokenSpelling(unit, tokens[i]).consume()
            if text == "(" { depth += 1 }
            var tokenOffset: UInt32 = 0
            clang_getSpellingLocation(clang_getTokenLocation(unit, tokens[i]), nil, nil, nil, &tokenOffset)
            result.append(SpelledToken(text: text, offset: tokenOffset, depth: depth))
            if text == ")" {
                depth -= 1
                if depth == 0 { break }
            }
        }
        return result
    }

    /// Where a part of a statement is spelled inside that statement's head: the offset of the
    /// first token of `part`, or of its first sub-expression, spelled in the head's file and range.
    /// Parts built from a macro's arguments are spelled at the macro's use site, not in its body,
    /// but their operators and sub-expressions from the body still place them.
    func spelledOffset(of part: CXCursor, within head: [SpelledToken], of statement: CXCursor) -> UInt32? {
        guard let first = head.first?.offset, let last = head.last?.offset else { return nil }
        var headFile: CXFile?
        clang_getSpellingLocation(clang_getRangeStart(clang_getCursorExtent(statement)), &headFile, nil, nil, nil)
        guard let headFile else { return nil }
        var pending = [part]
        while !pending.isEmpty {
            let cursor = pending.removeFirst()
            var file: CXFile?
            var offset: UInt32 = 0
            clang_getSpellingLocation(clang_getRangeStart(clang_getCursorExtent(cursor)), &file, nil, nil, &offset)
            if let file, clang_File_isEqual(file, headFile) != 0, offset >= first, offset <= last { return offset }
            pending.append(contentsOf: cursor.children)
        }
        return nil
    }
}
