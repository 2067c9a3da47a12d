// pointer_globals.c: global pointers initialized with addresses, as clang compiles them: a static
// pointer nothing writes, and a const one, are folded to the object they point to (`*p` reads g;
// no pointer the loader would have to relocate is left in the data); a table of strings nothing
// uses is dropped; a static pointer that is written keeps its storage (initialized to NULL).
// RUN: --prog reads --prog writes --get sum --get target
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

struct point {
	int x, y;
};

int target = 5;
int table[4] = { 10, 20, 30, 40 };
struct point origin = { 3, 4 };
static const char greeting[] = "hello";

static int *to_target = &target;
static int *into_table = &table[1];
static int *const whole_table = table;
static struct point *to_origin = &origin;
static const int *to_y = &origin.y;
static const char *message = "bpf";
static const char *to_greeting = greeting + 1;
static const char *unused_names[] = { "zero", "one", "two" };
static int *later = 0;
long sum;

SEC("syscall") int reads(void *ctx)
{
	static int *local_pointer = &table[3];

	sum = *to_target + into_table[1] + whole_table[0] * 2 + to_origin->x * 100 + *to_y * 1000
	      + message[2] * 10000L + *to_greeting * 1000000L + *local_pointer;
	return (to_target == &target) + (into_table - table) * 10;
}

SEC("syscall") int writes(void *ctx)
{
	*to_target += 1;
	to_origin->y = 9;
	/* The verifier forgets what a pointer stored in a map points to: compare it only. */
	later = &target;
	return *to_y + (later != 0) * 10;
}
