import CClang

/// A cursor usable as a dictionary key: libclang's own hash and equality.
///
/// Names and locations are not enough: two expansions of one macro (`can_loop`) declare locals
/// and labels with the same name at the same expansion location.
struct CursorKey: Hashable {
    let cursor: CXCursor

    init(_ cursor: CXCursor) { self.cursor = cursor }

    static func == (a: CursorKey, b: CursorKey) -> Bool { a.cursor.equals(b.cursor) }
    func hash(into hasher: inout Hasher) { hasher.combine(cursor.hash) }
}
