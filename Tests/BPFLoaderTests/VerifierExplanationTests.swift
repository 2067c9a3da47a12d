import Testing
@testable import BPFLoader

/// The fold of a BPF_LOG_LEVEL2 log: each state goes to the instruction it follows, and a path's
/// whole state to the instruction it arrives at.
@Suite struct VerifierWalkTests {
    /// Part of a real log (6.18): a loop calling a subprogram, with precision tracking between an
    /// instruction and its state, a path taken back to the loop's head, and a pruned path.
    static let log = """
        0: R1=ctx() R10=fp0
        ; for (int i = 0; i < limit && i < 3; i++) @ u.c:7
        8: (6d) if r2 s> r1 goto pc+15        ; R1=scalar(smin=umin=smin32=umin32=1,var_off=(0x0; 0x7fffffff)) R2=1
        12: (85) call pc+12
        caller:
         R6=0 R7=scalar(id=1,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R8=0 R10=fp0
        callee:
         frame1: R1=0 R2=1 R10=fp0
        25: frame1: R1=0 R2=1 R10=fp0
        25: (bf) r0 = r1                      ; frame1: R0=0 R1=0
        17: (25) if r1 > 0x1 goto pc+6
        mark_precise: frame0: last_idx 17 first_idx 25 subseq_idx -1 
        mark_precise: frame0: regs=r1 stack= before 16: (77) r1 >>= 32
        17: R1=0
        18: (07) r6 += 1                      ; R6=1

        from 23 to 11: R0=0 R1=1 R6=1 R10=fp0
        11: R0=0 R1=1 R6=1 R10=fp0
        ; s += sq(i); @ u.c:8
        11: (bf) r1 = r6                      ; R1=1 R6=1

        from 8 to 24: safe
        processed 56 insns (limit 1000000) max_states_per_insn 1 total_states 5 peak_states 5 mark_read 0

        """

    @Test func statesGoToTheirInstructions() {
        let walk = verifierWalk(Self.log)
        #expect(walk[0] == nil, "0 has an arrival state but no instruction line here")
        // The state after an instruction; one whose variable offset holds "; " too.
        #expect(walk[8] == [VerifierVisit(arrival: nil, arrivedFrom: nil,
                                           after: "R1=scalar(smin=umin=smin32=umin32=1,var_off=(0x0; 0x7fffffff)) R2=1")])
        // A call into a subprogram prints no state of its own.
        #expect(walk[12] == [VerifierVisit(arrival: nil, arrivedFrom: nil, after: nil)])
        // The callee starts with its whole state, in its frame.
        #expect(walk[25] == [VerifierVisit(arrival: "frame1: R1=0 R2=1 R10=fp0", arrivedFrom: nil, after: "frame1: R0=0 R1=0")])
        // Precision tracking came between instruction 17 and its state.
        #expect(walk[17] == [VerifierVisit(arrival: nil, arrivedFrom: nil, after: "R1=0")])
        #expect(walk[18]?.first?.after == "R6=1")
        // The path back to the loop's head, with where it came from.
        #expect(walk[11] == [VerifierVisit(arrival: "R0=0 R1=1 R6=1 R10=fp0", arrivedFrom: 23, after: "R1=1 R6=1")])
        // A pruned path visits nothing.
        #expect(walk[24] == nil)
    }

    @Test func commonReasonsAreExplained() {
        #expect(RejectionExplanation(reason: "R0 invalid mem access 'map_value_or_null'")?.rule == "unchecked pointer that may be NULL")
        #expect(RejectionExplanation(reason: "R1 invalid mem access 'scalar'")?.rule == "dereferencing a number")
        #expect(RejectionExplanation(reason: "invalid access to map value, value_size=64 off=120 size=8")?.rule
                == "access out of range")
        #expect(RejectionExplanation(reason: "invalid read from stack off -16+0 size 8")?.rule == "reading uninitialized stack")
        #expect(RejectionExplanation(reason: "R1 pointer arithmetic on map_value_or_null prohibited, null-check it first")?.rule
                == "unchecked pointer that may be NULL")
        #expect(RejectionExplanation(reason: "unknown opcode 8d") == nil)
    }
}
