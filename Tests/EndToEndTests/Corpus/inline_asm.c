// inline_asm.c: GCC-style asm in BPF's assembly syntax, each next to the C that computes the same
// value natively: a cpufreq-style clamp ("+r" with an "i" bound and a relative goto), several
// outputs with an early clobber, an input tied to an output, LLVM's "w" (32-bit) registers,
// clobbered registers holding nothing live across the asm, a "memory" clobber with an atomic add
// in asm, labels and local labels inside asm, asm goto to C labels, raw instruction bytes chosen
// with .ifc on the allocated register, and operands that live on the stack around the asm.
// <linux/ip.h> brings x86 asm in asm/swab.h's static inline functions, which nothing calls.
// RUN: --prog clamps --prog outputs --prog clobbers --prog memory --prog loops --prog gotos --prog raw --prog pressure --get clamped --get pair --get tied --get low --get survivors --get counter --get sum --get taken --get negated --get spread
#include <linux/ip.h>
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

long clamped;
long pair;
long tied;
unsigned int low;
long survivors;
unsigned long counter = 5;
long sum;
long taken;
long negated;
long spread;
long inputs[8] = { 3, -4, 5, 100, 7, -8, 9, 1000 };

/* At most 10: the clamp cpufreq-style BPF programs write by hand. */
static long clamp(long x)
{
#ifdef __bpf__
	asm volatile("if %0 <= %[max] goto +1\n%0 = %[max]\n" : "+r"(x) : [max] "i"(10));
#else
	if ((unsigned long)x > 10)
		x = 10;
#endif
	return x;
}

SEC("syscall") int clamps(void *ctx)
{
	long total = 0;
	for (int i = 0; i < 8; i++)
		total = total * 16 + clamp(inputs[i] & 0xff);
	clamped = total;
	return clamp(inputs[3]) + sizeof(struct iphdr);
}

SEC("syscall") int outputs(void *ctx)
{
	long a, b, x = inputs[0], y = inputs[3];
	unsigned int w = (unsigned int)inputs[1];
#ifdef __bpf__
	/* b is written before y is read: "=&r" keeps them apart. */
	asm("%1 = %2\n%1 *= 3\n%0 = %3\n%0 -= %1" : "=r"(a), "=&r"(b) : "r"(x), "r"(y));
	asm("%0 <<= 4; %0 |= %2" : "=r"(tied) : "0"(y), "i"(9));
	asm("%0 += %1" : "+w"(w) : "w"(7u));
#else
	b = x * 3;
	a = y - b;
	tied = y << 4 | 9;
	w += 7;
#endif
	pair = a * 1000 + b;
	low = w;
	return a;
}

static long keep(long v) { return v + 1; }

SEC("syscall") int clobbers(void *ctx)
{
	long a = keep(inputs[0]), b = keep(inputs[1]), c = keep(inputs[2]), d = keep(inputs[4]);
#ifdef __bpf__
	asm volatile("r0 = 0; r1 = 0; r2 = 0; r3 = 0; r4 = 0; r5 = 0" ::: "r0", "r1", "r2", "r3", "r4", "r5");
#endif
	survivors = ((a * 31 + b) * 31 + c) * 31 + d;
	return (int)survivors;
}

SEC("syscall") int memory(void *ctx)
{
	counter = counter + 1;
#ifdef __bpf__
	asm volatile("lock *(u64 *)(%0 + 0) += %1" :: "r"(&counter), "r"(10L) : "memory");
#else
	counter += 10;
#endif
	counter = counter * 2;
	return (int)counter;
}

SEC("syscall") int loops(void *ctx)
{
	long s = 0, n = 6;
#ifdef __bpf__
	/* A counted loop with a numeric local label, and a named label for the exit. */
	asm volatile("%0 = 0\n"
		     "1: %0 += %1\n"
		     "%1 -= 1\n"
		     "if %1 == 0 goto done\n"
		     "goto 1b\n"
		     "done:"
		     : "=&r"(s), "+r"(n));
#else
	for (; n; n--)
		s += n;
#endif
	sum = s * 100 + n;
	return (int)s;
}

static int above(long v, long limit)
{
#ifdef __bpf__
	asm goto("if %0 s> %1 goto %l[yes]" :: "r"(v), "r"(limit) :: yes);
	return 0;
yes:
	return 1;
#else
	return v > limit;
#endif
}

SEC("syscall") int gotos(void *ctx)
{
	int n = 0;
	for (int i = 0; i < 8; i++)
		n = n * 2 + above(inputs[i], 6);
	taken = n;
	return n;
}

/* `reg = -reg` written as raw bytes, the register byte chosen by comparing the operand's name,
 * the shape of bpf_experimental.h's bpf_addr_space_cast. */
#ifdef __bpf__
#define raw_negate(var)                                                                            \
	asm volatile(".byte 0x87;"                                                                 \
		     ".ifc %[reg], r0; .byte 0x00; .endif; .ifc %[reg], r1; .byte 0x01; .endif;"   \
		     ".ifc %[reg], r2; .byte 0x02; .endif; .ifc %[reg], r3; .byte 0x03; .endif;"   \
		     ".ifc %[reg], r4; .byte 0x04; .endif; .ifc %[reg], r5; .byte 0x05; .endif;"   \
		     ".ifc %[reg], r6; .byte 0x06; .endif; .ifc %[reg], r7; .byte 0x07; .endif;"   \
		     ".ifc %[reg], r8; .byte 0x08; .endif; .ifc %[reg], r9; .byte 0x09; .endif;"   \
		     ".short 0; .long 0"                                                           \
		     : [reg] "+r"(var))
#else
#define raw_negate(var) ((var) = -(var))
#endif

SEC("syscall") int raw(void *ctx)
{
	long a = inputs[2], b = keep(inputs[6]);
	raw_negate(a);
	raw_negate(b);
	negated = a * 100 + b;
	return (int)a;
}

/* More values live across a call than r6-r9 hold: some asm operands come from the stack. */
SEC("syscall") int pressure(void *ctx)
{
	long a = inputs[0] * 3, b = inputs[1] * 5, c = inputs[2] * 7, d = inputs[3] * 11;
	long e = inputs[4] * 13, f = inputs[5] * 17, g = inputs[6] * 19, h = inputs[7] * 23;
	long k = keep(a + h);
	long s;
#ifdef __bpf__
	asm("%0 = %1; %0 += %2; %0 *= 2; %0 += %3; %0 += %4; %0 *= 2; %0 += %5; %0 += %6; %0 ^= %7"
	    : "=&r"(s) : "r"(a), "r"(b), "r"(c), "r"(d), "r"(e), "r"(f), "r"(g));
#else
	s = (((a + b) * 2 + c + d) * 2 + e + f) ^ g;
#endif
	spread = s * 7 + k + h;
	return (int)s;
}
