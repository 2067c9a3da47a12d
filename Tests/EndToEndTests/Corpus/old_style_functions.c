// old_style_functions.c: definitions without prototypes, as older BPF code has them: `int f()`
// with no parameters, and K&R parameter declarations (`int g(a, b) char a; long b; { }`), whose
// arguments arrive promoted to int and which convert them to the declared narrower types
// themselves, static (inlined) and global (a sub-program of its own).
// RUN: --prog calls --get narrowed --get flags
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

long narrowed;
int flags;

static int seven()
{
	return 7;
}

static long mixed(a, b, c) char a; long b; unsigned short c;
{
	return a * 100000L + b * 10 + c;
}

static int truth(flag, small) _Bool flag; unsigned char small;
{
	return flag * 1000 + small;
}

int scaled(value, factor) short value; int factor;
{
	return value * factor;
}

SEC("syscall") int calls(void *ctx)
{
	volatile int wide = 0x12345;
	volatile int big = 300;

	narrowed = mixed(wide, 4L, wide) + mixed(-3, -5L, -1);
	flags = truth(wide, big) + truth(0, 255) * 10000;
	return seven() + scaled(wide, 3);
}
