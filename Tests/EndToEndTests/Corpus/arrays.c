// arrays.c: one-, two- and three-dimensional arrays, local and global, with full,
// partial (rest zero) and designated initializers; indexing with computed indices; an
// array decaying to a pointer to its first element and to a row pointer; sizeof of arrays
// and of rows; arrays of long and char; copying an array element by element.
// RUN: --prog one_dim --prog matrix --prog three_dim --prog one_dim --get trace --get row_sum --get col_max --get cube_sum --get partial_tail --get rows
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int primes[10] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29 };
int partial[6] = { 1, 2 };                 /* the rest are zero */
long designated[5] = { [3] = -30, [1] = 10 };
int grid[3][4] = { { 1, 2, 3, 4 }, { 5, 6, 7, 8 }, { 9, 10, 11, 12 } };
char cube[2][3][4];

int trace;
long row_sum;
int col_max;
int cube_sum;
int partial_tail;
unsigned long rows;

static int sum_row(int *row, int n)
{
	int s = 0;
	for (int i = 0; i < n; i++)
		s += row[i];
	return s;
}

SEC("syscall") int one_dim(void *ctx)
{
	int local[10];
	for (int i = 0; i < 10; i++)
		local[i] = primes[9 - i] * (i + 1);
	int copy[10];
	for (int i = 0; i < 10; i++)
		copy[i] = local[i];
	primes[0] += 1;                        /* the second run sees 3 */
	partial_tail = partial[5] + partial[1] + (int)designated[3] + (int)designated[1] + (int)designated[4];
	return copy[0] + copy[9] + sum_row(primes, 10) + (int)(sizeof(local) / sizeof(local[0]));
}

SEC("syscall") int matrix(void *ctx)
{
	int m[4][4] = { { 0 } };
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			m[i][j] = (i + 1) * 10 + j - (i == j) * 50;
	int t = 0;
	for (int i = 0; i < 4; i++)
		t += m[i][i];
	trace = t;
	long s = 0;
	for (int i = 0; i < 3; i++)
		s = s * 100 + sum_row(grid[i], 4);
	row_sum = s;
	int best = 0;
	for (int j = 0; j < 4; j++) {
		int c = 0;
		for (int i = 0; i < 3; i++)
			c += grid[i][j] * (j + 1);
		if (c > best)
			best = c;
	}
	col_max = best;
	int (*row)[4] = &grid[1];              /* a pointer to a whole row */
	rows = sizeof(grid) / sizeof(grid[0]) * 100 + sizeof(grid[0]) + sizeof(*row);
	return (*row)[2] + row[1][3] + *(*(grid + 2) + 1) + m[3][0];
}

SEC("syscall") int three_dim(void *ctx)
{
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 3; j++)
			for (int k = 0; k < 4; k++)
				cube[i][j][k] = (char)(i * 100 + j * 10 + k - 60);
	int s = 0;
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 3; j++)
			for (int k = 0; k < 4; k++)
				s += cube[i][j][k] * (k + 1);
	cube_sum = s;
	return cube[1][2][3] + (int)sizeof(cube[1]) * 100 + (int)sizeof(cube[0][0]) * 10000;
}
