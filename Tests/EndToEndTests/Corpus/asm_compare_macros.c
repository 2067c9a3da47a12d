// asm_compare_macros.c: comparisons made by asm goto templates that a macro joins from string
// literals and its stringified operator ("if %[a] " #OP " %[b] goto %l[hit]", or "s" #OP for a
// signed left side), the shape of bpf_experimental.h's bpf_cmp_unlikely/bpf_cmp_likely (these
// macros are our own). The form is chosen by compile-time tests that must fold before code is
// generated: __builtin_strcmp on the stringified operator, the signedness of the left side's
// type, the size of the right side; the forms not chosen ("s==", or a likely form whose asm is
// no instruction at all) must vanish. Every operator, unsigned and signed, against registers and
// 32-bit immediates, with values at the 32- and 64-bit boundaries; pairs alternate between the
// unlikely form (jump when the comparison holds) and the likely one (jump when it fails). An asm
// label on a declaration in a body with asm statements is no asm statement.
// RUN: --prog unsigned_registers --prog signed_registers --prog unsigned_immediates --prog signed_immediates --get u_eq --get u_ne --get u_lt --get u_le --get u_gt --get u_ge --get u_and --get s_eq --get s_ne --get s_lt --get s_le --get s_gt --get s_ge --get s_and --get ui_eq --get ui_ne --get ui_lt --get ui_le --get ui_gt --get ui_ge --get ui_and --get si_eq --get si_ne --get si_lt --get si_le --get si_gt --get si_ge --get si_and
#include <stdbool.h>
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

#ifdef __bpf__
/* ==, != and & compare bits: they have no signed form. */
#define compares_bits(OP)                                                                          \
	(__builtin_strcmp(#OP, "==") == 0 || __builtin_strcmp(#OP, "!=") == 0 ||                  \
	 __builtin_strcmp(#OP, "&") == 0)
#define signed_type(T) ((T)-1 < (T)0)

/* Jumps to `hit` when `left JUMP right` holds; the result is `jumped` then, its negation if not. */
#define asm_jump(left, JUMP, RIGHT_CONSTRAINT, right, jumped)                                      \
	({                                                                                         \
		__label__ hit;                                                                     \
		bool result_ = jumped;                                                             \
		asm volatile goto("if %[a] " JUMP " %[b] goto %l[hit]"                             \
				  :: [a] "r"(left), [b] RIGHT_CONSTRAINT(right) :: hit);           \
		result_ = !(jumped);                                                               \
	hit:                                                                                       \
		result_;                                                                           \
	})

/* A right side of 8 bytes goes in a register ("i" would truncate it to 32 bits), a smaller
 * one may be an immediate. */
#define jump_when(L, OP, R, jumped)                                                                \
	({                                                                                         \
		typeof(L) left_ = (L);                                                             \
		typeof(R) right_ = (R);                                                            \
		bool taken_;                                                                       \
		if (compares_bits(OP) || !signed_type(typeof(left_))) {                            \
			if (sizeof(right_) == 8)                                                   \
				taken_ = asm_jump(left_, #OP, "r", right_, jumped);                \
			else                                                                       \
				taken_ = asm_jump(left_, #OP, "ri", right_, jumped);               \
		} else {                                                                           \
			if (sizeof(right_) == 8)                                                   \
				taken_ = asm_jump(left_, "s" #OP, "r", right_, jumped);            \
			else                                                                       \
				taken_ = asm_jump(left_, "s" #OP, "ri", right_, jumped);           \
		}                                                                                  \
		taken_;                                                                            \
	})

#define cmp_unlikely(L, OP, R) jump_when(L, OP, R, true)

/* The branch goes the other way: jump on the opposite comparison. */
#define cmp_likely(L, OP, R)                                                                       \
	({                                                                                         \
		bool holds_ = false;                                                               \
		if (__builtin_strcmp(#OP, "==") == 0)                                              \
			holds_ = jump_when(L, !=, R, false);                                       \
		else if (__builtin_strcmp(#OP, "!=") == 0)                                         \
			holds_ = jump_when(L, ==, R, false);                                       \
		else if (__builtin_strcmp(#OP, "<") == 0)                                          \
			holds_ = jump_when(L, >=, R, false);                                       \
		else if (__builtin_strcmp(#OP, "<=") == 0)                                         \
			holds_ = jump_when(L, >, R, false);                                        \
		else if (__builtin_strcmp(#OP, ">") == 0)                                          \
			holds_ = jump_when(L, <=, R, false);                                       \
		else if (__builtin_strcmp(#OP, ">=") == 0)                                         \
			holds_ = jump_when(L, <, R, false);                                        \
		else                                                                               \
			asm volatile("r0 " #OP " is no comparison the likely form inverts");       \
		holds_;                                                                            \
	})
#else
#define cmp_unlikely(L, OP, R) (!!((L) OP (R)))
#define cmp_likely(L, OP, R) (!!((L) OP (R)))
#endif

/* The 32- and 64-bit boundaries, unsigned and signed. */
unsigned long values[8] = {
	0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff,
};

unsigned long u_eq, u_ne, u_lt, u_le, u_gt, u_ge, u_and;
unsigned long s_eq, s_ne, s_lt, s_le, s_gt, s_ge, s_and;
unsigned long ui_eq, ui_ne, ui_lt, ui_le, ui_gt, ui_ge, ui_and;
unsigned long si_eq, si_ne, si_lt, si_le, si_gt, si_ge, si_and;

/* Bit i*8+j: values[i] OP values[j], by the unlikely form for even i+j, the likely one for odd. */
#define PAIRS(TYPE, OP, mask)                                                                      \
	do {                                                                                       \
		unsigned long bits_ = 0;                                                           \
		for (int i = 0; i < 8; i++) {                                                      \
			for (int j = 0; j < 8; j++) {                                              \
				TYPE a = (TYPE)values[i], b = (TYPE)values[j];                     \
				bool holds = (i + j) & 1 ? cmp_likely(a, OP, b) : cmp_unlikely(a, OP, b); \
				bits_ |= (unsigned long)holds << (i * 8 + j);                      \
			}                                                                          \
		}                                                                                  \
		mask = bits_;                                                                      \
	} while (0)

/* Bit i*5+k: values[i] OP the k-th 32-bit constant, alternating the forms likewise. */
#define WITH_CONSTANT(TYPE, OP, i, k, constant, bits)                                              \
	do {                                                                                       \
		TYPE a = (TYPE)values[i];                                                          \
		bool holds = (i + k) & 1 ? cmp_likely(a, OP, constant) : cmp_unlikely(a, OP, constant); \
		bits |= (unsigned long)holds << (i * 5 + k);                                       \
	} while (0)
#define CONSTANTS(TYPE, OP, mask)                                                                  \
	do {                                                                                       \
		unsigned long bits_ = 0;                                                           \
		for (int i = 0; i < 8; i++) {                                                      \
			WITH_CONSTANT(TYPE, OP, i, 0, -1, bits_);                                  \
			WITH_CONSTANT(TYPE, OP, i, 1, 0, bits_);                                   \
			WITH_CONSTANT(TYPE, OP, i, 2, 1, bits_);                                   \
			WITH_CONSTANT(TYPE, OP, i, 3, 0x7fffffff, bits_);                          \
			WITH_CONSTANT(TYPE, OP, i, 4, -0x7fffffff - 1, bits_);                     \
		}                                                                                  \
		mask = bits_;                                                                      \
	} while (0)

/* `&` has no likely form (there is no jump on a clear bit): only the unlikely one. */
#define AND_PAIRS(TYPE, mask)                                                                      \
	do {                                                                                       \
		unsigned long bits_ = 0;                                                           \
		for (int i = 0; i < 8; i++)                                                        \
			for (int j = 0; j < 8; j++) {                                              \
				TYPE a = (TYPE)values[i], b = (TYPE)values[j];                     \
				bits_ |= (unsigned long)cmp_unlikely(a, &, b) << (i * 8 + j);      \
			}                                                                          \
		mask = bits_;                                                                      \
	} while (0)

SEC("syscall") int unsigned_registers(void *ctx)
{
	extern unsigned long values_by_symbol[8] asm("values") __attribute__((unused));
	PAIRS(unsigned long, ==, u_eq);
	PAIRS(unsigned long, !=, u_ne);
	PAIRS(unsigned long, <, u_lt);
	PAIRS(unsigned long, <=, u_le);
	PAIRS(unsigned long, >, u_gt);
	PAIRS(unsigned long, >=, u_ge);
	AND_PAIRS(unsigned long, u_and);
	return 0;
}

SEC("syscall") int signed_registers(void *ctx)
{
	PAIRS(long, ==, s_eq);
	PAIRS(long, !=, s_ne);
	PAIRS(long, <, s_lt);
	PAIRS(long, <=, s_le);
	PAIRS(long, >, s_gt);
	PAIRS(long, >=, s_ge);
	AND_PAIRS(long, s_and);
	return 0;
}

SEC("syscall") int unsigned_immediates(void *ctx)
{
	CONSTANTS(unsigned long, ==, ui_eq);
	CONSTANTS(unsigned long, !=, ui_ne);
	CONSTANTS(unsigned long, <, ui_lt);
	CONSTANTS(unsigned long, <=, ui_le);
	CONSTANTS(unsigned long, >, ui_gt);
	CONSTANTS(unsigned long, >=, ui_ge);
	unsigned long bits = 0;
	for (int i = 0; i < 8; i++) {
		unsigned long a = values[i];
		bits |= (unsigned long)cmp_unlikely(a, &, 0x7fffffff) << (i * 2);
		bits |= (unsigned long)cmp_unlikely(a, &, -0x7fffffff - 1) << (i * 2 + 1);
	}
	ui_and = bits;
	return 0;
}

SEC("syscall") int signed_immediates(void *ctx)
{
	CONSTANTS(long, ==, si_eq);
	CONSTANTS(long, !=, si_ne);
	CONSTANTS(long, <, si_lt);
	CONSTANTS(long, <=, si_le);
	CONSTANTS(long, >, si_gt);
	CONSTANTS(long, >=, si_ge);
	unsigned long bits = 0;
	for (int i = 0; i < 8; i++) {
		long a = (long)values[i];
		bits |= (unsigned long)cmp_unlikely(a, &, 1) << (i * 2);
		bits |= (unsigned long)cmp_unlikely(a, &, -1) << (i * 2 + 1);
	}
	si_and = bits;
	return 0;
}
