/* native_driver.h: the native side of the end-to-end tests.
 *
 * The test harness writes a tiny driver per corpus file:
 *
 *     #include "Corpus/xyz.c"          (so static globals and functions are visible)
 *     #include "native_driver.h"
 *     int main(void) { counter = 5; SWIFTBPF_RUN(a); SWIFTBPF_RUN(b); SWIFTBPF_GET(total); return 0; }
 *
 * and compares its output with `swiftbpf run OBJ --set counter=5 --prog a --prog b --get total`:
 * one line "NAME retval=R" per program run, then one line "VAR=VALUE" per global, printed as a
 * signed or unsigned decimal according to the variable's type (pointers and _Bool unsigned).
 */
#ifndef SWIFTBPF_NATIVE_DRIVER_H
#define SWIFTBPF_NATIVE_DRIVER_H

#include <stdint.h>
#include <stdio.h>

/* Programs take the context pointer; the corpus never reads it, as BPF runs them without one. */
#define SWIFTBPF_RUN(name) printf("%s retval=%d\n", #name, (int)name((void *)0))

/* Enums match their compatible integer type; pointers fall to default and print unsigned. */
#define SWIFTBPF_IS_SIGNED(v) _Generic((v),                                              \
	char: ((char)-1 < 0), signed char: 1, short: 1, int: 1, long: 1, long long: 1,   \
	default: 0)

#define SWIFTBPF_GET(var)                                                                 \
	do {                                                                              \
		if (SWIFTBPF_IS_SIGNED(var))                                              \
			printf("%s=%lld\n", #var, (long long)(intptr_t)(var));            \
		else                                                                      \
			printf("%s=%llu\n", #var, (unsigned long long)(uintptr_t)(var));  \
	} while (0)

#endif /* SWIFTBPF_NATIVE_DRIVER_H */
