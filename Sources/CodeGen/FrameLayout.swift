import BPFDiagnostics
import BPFIR

// Frame layout: where each stack slot and spill slot sits below the frame pointer r10.
//
// Each BPF function has its own frame of at most 512 bytes, addressed at negative offsets from
// r10. The slots go where `StackColoring` puts them, slots never needed at the same time sharing
// bytes, as clang's stack coloring has them; the 8-byte spill slots follow, below every slot.
// The kernel adds hidden slots of its own (may_goto's loop counter) that also count toward the
// limit, so a frame near 512 bytes may still be rejected at load time.

/// Offsets from r10 of the slots of one function, and the frame's size.
struct FrameLayout {
    /// The BPF stack limit per function (MAX_BPF_STACK).
    static let limit = 512

    /// Offset of each `function.slots` entry's first byte; negative (0 for an empty slot).
    var slotOffsets: [Int]
    /// Offset of each spill slot.
    var spillOffsets: [Int]
    /// Bytes used, a multiple of 8.
    var size: Int

    init(_ function: Function, spillSlotCount: Int) throws(DiagnosticList) {
        let coloring = StackColoring(function)
        slotOffsets = coloring.offsets
        var depth = coloring.depth
        spillOffsets = (0..<spillSlotCount).map { _ in
            depth = (depth + 8 + 7) / 8 * 8
            return -depth
        }
        size = (depth + 7) / 8 * 8

        guard size <= FrameLayout.limit else {
            var diagnostics = [Diagnostic.error(
                "stack frame of '\(function.name)' is \(size) bytes, over BPF's \(FrameLayout.limit)-byte limit",
                at: function.location)]
            let largest = function.slots.sorted { $0.size > $1.size }.prefix(3)
            for slot in largest {
                diagnostics.append(Diagnostic(.note, "'\(slot.name)' takes \(slot.size) bytes", at: slot.location))
            }
            if spillSlotCount > 0 {
                diagnostics.append(Diagnostic(
                    .note, "\(spillSlotCount * 8) bytes hold register spills (values live at the same time)",
                    at: function.location))
            }
            throw DiagnosticList(diagnostics)
        }
    }
}
