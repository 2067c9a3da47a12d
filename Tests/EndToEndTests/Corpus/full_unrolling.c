// full_unrolling.c: loops whose trip count follows from what is known on the way in, in the
// shapes full unrolling meets: two induction variables tested against each other, a counter
// and a bound kept in memory (a global, a stack array), a scan of a const string until its NUL
// by index and by pointer, a step that is not one, a branch on the counter inside the body, a
// break on data, nested loops, more than sixteen trips, and loops that run zero times or once.
// Unoptimized, the index read back from the global counter is unbounded for the verifier.
// O0: fails verifier rejected program 'in_memory': .* out of bounds
// RUN: --prog two_counters --prog in_memory --prog const_scans --prog shapes --prog nested --get g_counter --get meet --get scanned --get shaped --get grid_sum --get broke
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

const char greeting[] = "hello, unroll";
const unsigned short weights[24] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4 };
int data[12] = { 7, -3, 12, 0, 5, 99, -40, 8, 1, 2, 3, 4 };

int g_counter;
long meet;
unsigned long scanned;
long shaped;
long grid_sum;
int broke;

SEC("syscall") int two_counters(void *ctx)
{
	long t = 0;
	int i, j;

	for (i = 0, j = 11; i < j; i++, j -= 2)
		t = t * 7 + data[i] * j;
	meet = t * 100 + i * 10 + j;
	return 0;
}

SEC("syscall") int in_memory(void *ctx)
{
	int bounds[3];
	unsigned char squares[24];
	long s = 0;

	bounds[0] = 2;
	bounds[1] = 21;
	bounds[2] = bounds[1] - bounds[0];
	for (g_counter = bounds[0]; g_counter < bounds[1]; g_counter++)
		squares[g_counter] = (unsigned char)(g_counter * g_counter);
	for (int k = bounds[0]; k < bounds[1]; k += 3)
		s += squares[k] + data[k & 7];
	return (int)(s + bounds[2]);
}

SEC("syscall") int const_scans(void *ctx)
{
	unsigned long n = 0, sum = 0;
	const char *p;

	while (greeting[n])
		n++;
	for (p = greeting; *p; p++)
		sum = sum * 31 + *p;
	for (int k = 0; k < 24; k++)
		sum += weights[k] * (k + 1);
	scanned = sum * 16 + n;
	return 0;
}

SEC("syscall") int shapes(void *ctx)
{
	long s = 0;
	int k;

	for (k = 40; k > 0; k -= 7) {
		if (k == 26)
			s += 1000;
		else
			s += data[k & 7] * k;
	}
	for (k = 0; k < 0; k++)
		s += 5;
	for (k = 3; k < 4; k++)
		s += data[k] + 17;
	broke = -1;
	for (k = 0; k < 12; k++) {
		if (data[k] < -10) {
			broke = k;
			break;
		}
		s += data[k];
	}
	shaped = s;
	return 0;
}

SEC("syscall") int nested(void *ctx)
{
	int grid[4][5];
	long s = 0;

	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 5; c++)
			grid[r][c] = r * 10 + c + data[r + c];
	for (int r = 0; r < 4; r++)
		for (int c = r; c < 5; c++)
			s = s * 3 + grid[r][c];
	grid_sum = s;
	return 0;
}
