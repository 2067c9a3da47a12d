// globals.c: .data (initialized scalars, arrays, structs, strings), .bss (zero-initialized,
// including explicit = 0), .rodata (const), static and non-static globals, several
// programs sharing and updating globals across runs, and --set changing the initial
// values of .data and .bss variables before the first run.
// RUN: --set seed=1000 --set scale=-3 --set big=18446744073709551615 --prog init_check --prog accumulate --prog accumulate --prog summarize --get seed --get scale --get big --get counter --get total --get tiny --get narrow --get history_sum
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int seed = 42;                              /* .data, overridden by --set */
long scale;                                 /* .bss, overridden by --set */
unsigned long long big = 1;
static int counter = 0;                     /* .bss: an explicit zero */
long total;
signed char tiny = -128;
unsigned short narrow = 0xbeef;
static const int offsets[4] = { 1, 10, 100, 1000 }; /* .rodata */
static int history[4];
long history_sum;
struct settings { int mode; char name[6]; long limit; } settings = { 2, "fast", 1L << 33 };
char tag[8] = "tag";

SEC("syscall") int init_check(void *ctx)
{
	/* Everything the loader placed: the initializers and the --set values. */
	int ok = 0;
	ok += settings.mode == 2;
	ok += (settings.name[0] == 'f') * 2;
	ok += (settings.name[4] == 0) * 4;
	ok += (settings.limit == 8589934592L) * 8;
	ok += (tag[2] == 'g' && tag[3] == 0 && tag[7] == 0) * 16;
	ok += (counter == 0) * 32;
	ok += (history[3] == 0) * 64;
	ok += (tiny == -128) * 128;
	return ok;
}

SEC("syscall") int accumulate(void *ctx)
{
	history[counter & 3] = seed * (counter + 1);
	counter++;
	total += seed * scale + offsets[counter & 3];
	tiny++;
	narrow += 0x1111;
	big += 1;                               /* wraps from the --set maximum to 0 */
	return counter;
}

SEC("syscall") int summarize(void *ctx)
{
	long s = 0;
	for (int i = 0; i < 4; i++)
		s += history[i];
	history_sum = s;
	seed = (int)(s >> 1);
	settings.limit += s;
	return (int)(settings.limit >> 20) + counter;
}
