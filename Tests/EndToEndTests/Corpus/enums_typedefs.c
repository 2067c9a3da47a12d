// enums_typedefs.c: enums with implicit, explicit, repeated and negative enumerators,
// enumerators used in constant expressions (array sizes, case labels), enum variables
// in arithmetic and comparisons, sizeof an enum; typedefs of scalars, of a typedef, of
// structs, of pointers and of arrays.
// RUN: --prog enums --prog typedefs --get color_sum --get level --get typed_total --get matrix_trace
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

enum color { RED, GREEN, BLUE, COLOR_COUNT };
enum weird { W_NEG = -3, W_NEXT, W_SAME = W_NEG, W_BIG = 1000, W_AFTER };
typedef enum { LOW = 1, MEDIUM = 4, HIGH = 16 } level_t;

typedef int length_t;
typedef length_t distance_t;             /* a typedef of a typedef */
typedef struct { distance_t x, y; } vec_t;
typedef vec_t *vec_ptr;
typedef int matrix_t[3][3];
typedef unsigned long long counter_t;

int weights[COLOR_COUNT] = { [RED] = 3, [GREEN] = 5, [BLUE] = 7 };
level_t current = MEDIUM;
vec_t origin = { -1, 2 };
matrix_t identity = { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };

int color_sum;
int level;
counter_t typed_total;
int matrix_trace;

static int score(enum color c)
{
	switch (c) {
	case BLUE: return 300;
	case RED: return 100;
	case GREEN: return 200;
	case COLOR_COUNT: break;
	}
	return -1;
}

SEC("syscall") int enums(void *ctx)
{
	int s = 0;
	for (enum color c = RED; c < COLOR_COUNT; c++)
		s += weights[c] * score(c);
	color_sum = s;
	enum weird w = W_NEXT;
	int mixed = w + W_AFTER + W_SAME * 10 + (W_NEG == W_SAME) * 100000;
	current = current * 4 == HIGH ? HIGH : LOW;
	level = current + (current > MEDIUM) * 100;
	return mixed + (int)sizeof(enum color) * 1000000;
}

static distance_t manhattan(vec_ptr a, vec_ptr b)
{
	distance_t dx = a->x - b->x, dy = a->y - b->y;
	return (dx < 0 ? -dx : dx) + (dy < 0 ? -dy : dy);
}

SEC("syscall") int typedefs(void *ctx)
{
	vec_t p = { 4, -6 };
	vec_ptr q = &origin;
	length_t d = manhattan(&p, q);
	matrix_t m;
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			m[i][j] = identity[i][j] * (i + 2) + j;
	matrix_trace = m[0][0] + m[1][1] + m[2][2];
	counter_t total = 0;
	for (counter_t k = 1; k <= 10; k++)
		total += k * k * 1000000000ull;
	typed_total = total;
	return d + (int)sizeof(matrix_t) * 100 + (int)sizeof(vec_ptr) * 100000;
}
