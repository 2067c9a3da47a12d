// The verifier's common messages in plain words. Each names the rule the program broke, what the
// message means, and the usual way to fix the C, for students and for anyone meeting the message
// for the first time. The messages are the kernel's (kernel/bpf/verifier.c); a register number,
// offset or size inside one varies, so each is recognized by its fixed words.

/// What a verifier message means and the usual fix.
public struct RejectionExplanation: Sendable, Hashable {
    /// The rule, in a few words ("unchecked map lookup").
    public var rule: String
    public var meaning: String
    public var fix: String

    /// The explanation of the verifier's reason, when it is one of the common messages.
    public init?(reason: String) {
        guard let (rule, meaning, fix) = Self.catalog.first(where: { $0.fragments.contains { reason.contains($0) } })?.text
        else { return nil }
        (self.rule, self.meaning, self.fix) = (rule, meaning, fix)
    }

    /// A reason containing any of `fragments` has `text`: rule, meaning and fix.
    private struct Entry: Sendable {
        var fragments: [String]
        var text: (String, String, String)
    }

    private static let outOfRangeFix = "check the index against the length before the access (`if (i >= N) return 0;`) "
        + "or mask it (`i & (N - 1)` for a power-of-two N), and make it unsigned so it cannot be negative; "
        + "the check must be on the value actually used, in the same function"

    private static let catalog: [Entry] = [
        Entry(fragments: ["infinite loop detected"], text: (
            "loop without visible progress",
            "the verifier came back to the same instruction in exactly the same state: as far as it can tell the "
                + "loop makes no progress towards its exit, so it could run forever",
            "make the loop's condition depend on a counter that changes on every iteration and is compared with "
                + "a bound (`for (int i = 0; i < n && i < 64; i++)`), or use bpf_loop()")),
        Entry(fragments: ["back-edge from insn"], text: (
            "loop not allowed",
            "the program jumps backwards (a loop), and this verifier accepts no loops: the kernel is older than "
                + "5.3 or the loader lacks CAP_BPF",
            "unroll the loop (`#pragma unroll` with a constant count), or load with CAP_BPF on a newer kernel")),
        Entry(fragments: ["BPF program is too large", "jumps is too complex"], text: (
            "complexity limit",
            "the verifier follows every path through the program, each loop iteration separately, and gives up after "
                + "1,000,000 instructions (BPF_COMPLEXITY_LIMIT_INSNS) or 8192 branches on one path; the usual cause is "
                + "a loop whose bound it cannot see (a global, a map value or an argument), which it walks iteration "
                + "after iteration until the limit",
            "give the loop a constant upper bound as well (`i < n && i < 256`), move its body into a global function "
                + "(verified once, not at every call), or use bpf_loop()")),
        Entry(fragments: ["_or_null", "Possibly NULL pointer"], text: (
            "unchecked pointer that may be NULL",
            "the register may hold NULL: bpf_map_lookup_elem() and other helpers return NULL when there is nothing "
                + "to return, and the program uses the result before checking it",
            "test the pointer before using it: `if (!value) return 0;`")),
        Entry(fragments: ["invalid mem access 'scalar'", "invalid mem access 'inv'"], text: (
            "dereferencing a number",
            "to the verifier the register holds a plain number (a scalar), not a pointer: pointers come only from "
                + "the context, the stack, maps and helpers, and an integer turned into a pointer, or a pointer stored "
                + "to memory and loaded back, is a number to it",
            "dereference only pointers the verifier can trace to their origin: keep them in variables rather than "
                + "storing them in maps or globals, and index arrays rather than casting integers to pointers")),
        Entry(fragments: ["pointer arithmetic"], text: (
            "pointer arithmetic the verifier refuses",
            "only adding or subtracting a number is allowed on a pointer, not on every kind of pointer (a map "
                + "pointer, a pointer that may be NULL), and not so far that it leaves the object",
            "compute an index as a number, bound it, and add it to the pointer once")),
        Entry(fragments: ["invalid read from stack", "invalid indirect read from stack"], text: (
            "reading uninitialized stack",
            "the program reads stack bytes it never wrote (an uninitialized local, or a struct or array only partly "
                + "filled in, padding included); the kernel will not let uninitialized stack be read",
            "initialize the variable before reading it or passing its address to a helper "
                + "(`= {}` or __builtin_memset)")),
        Entry(fragments: ["invalid access to map value", "outside of the allowed memory range", "invalid access to memory",
                           "unbounded memory access", "min value is negative", "stack R", "invalid stack off",
                           "invalid write to stack", "invalid access to packet", "invalid bpf_context access"], text: (
            "access out of range",
            "the access may fall outside the object it points into: the verifier checks the offset plus the size "
                + "against the object's size (a map value's value_size, the stack frame, the context) for every value "
                + "the offset can have, and for a variable index that is its whole range as far as it knows",
            outOfRangeFix)),
        Entry(fragments: ["associated arena"], text: (
            "no arena association",
            "the program converts arena pointers (addr_space_cast) but refers to no arena map: the kernel ties a "
                + "program to an arena only when its instructions name the arena map",
            "declare a BPF_MAP_TYPE_ARENA map in the object and use it from the program, e.g. through "
                + "bpf_arena_alloc_pages(&arena, ...) or an __arena global")),
        Entry(fragments: ["dereference of modified ctx ptr", "variable ctx access"], text: (
            "modified context pointer",
            "the context pointer was moved before being dereferenced or passed to a helper: the kernel rewrites "
                + "context accesses at constant offsets from the original pointer, so that pointer must stay unmodified",
            "access context fields through the context pointer itself with constant offsets (`ctx->field`, "
                + "`ctx[2]`), choosing between fields with branches rather than by moving the pointer")),
        Entry(fragments: ["combined stack size of"], text: (
            "stack limit",
            "a chain of calls may use 512 bytes of stack in all (MAX_BPF_STACK), and the frames of one chain "
                + "add up to more",
            "make the large locals smaller, keep them in a per-CPU array map instead, or let the calls be inlined "
                + "(static functions without noinline) so that their frames can share space")),
    ]
}
