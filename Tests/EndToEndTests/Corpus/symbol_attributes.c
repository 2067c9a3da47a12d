// symbol_attributes.c: weak, hidden and used from any declaration of a function or variable,
// as clang applies them: STB_WEAK and STV_HIDDEN symbols, a hidden function verified in its
// caller's context (reading past its pointer parameter's first element, which a global
// function verified on its own may not), and `used` statics kept although nothing refers to them.
// RUN: --prog calls --prog pairs --get weak_value --get hidden_value
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

__attribute__((weak)) int weak_value = 3;
int hidden_value __attribute__((visibility("hidden"))) = 4;

__attribute__((visibility("hidden"))) int hidden_function(int x);
int hidden_function(int x)
{
	return x + hidden_value;
}

__attribute__((weak)) int weak_function(int x);
int weak_function(int x)
{
	return x * weak_value;
}

static int kept_function(int x) __attribute__((used));
static int kept_function(int x)
{
	return x - 1;
}

static int dropped_static = 5;
static int kept_static __attribute__((used)) = 6;

SEC("syscall") int calls(void *ctx)
{
	weak_value += 1;
	return hidden_function(1) * 100 + weak_function(2);
}

__attribute__((visibility("hidden"), noinline)) int pair_sum(int *p)
{
	return p[0] + p[1];
}

SEC("syscall") int pairs(void *ctx)
{
	int values[2] = { 20, 22 };
	return pair_sum(values);
}
