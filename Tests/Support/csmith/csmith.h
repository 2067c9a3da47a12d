/* csmith.h for swiftbpfcc's csmith tests: stands in for csmith's own header so that one csmith
 * program builds both natively and for BPF.
 *
 * csmith's header prints a CRC of every global; BPF has no printf, so the checksum folds into the
 * global csmith_result instead, which the test reads after the program ran. The integer types
 * come from the compiler's predefined macros, since glibc's <stdint.h> and <limits.h> pull in
 * headers no BPF build has. The safe arithmetic is csmith's own, without its floating-point
 * functions (`safe_math_int.h`, made from csmith's safe_math.h when the test starts).
 */
#ifndef SWIFTBPF_CSMITH_H
#define SWIFTBPF_CSMITH_H

typedef __INT8_TYPE__ int8_t;
typedef __INT16_TYPE__ int16_t;
typedef __INT32_TYPE__ int32_t;
typedef __INT64_TYPE__ int64_t;
typedef __UINT8_TYPE__ uint8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;

#define INT8_MAX __INT8_MAX__
#define INT16_MAX __INT16_MAX__
#define INT32_MAX __INT32_MAX__
#define INT64_MAX __INT64_MAX__
#define INT8_MIN (-INT8_MAX - 1)
#define INT16_MIN (-INT16_MAX - 1)
#define INT32_MIN (-INT32_MAX - 1)
#define INT64_MIN (-INT64_MAX - 1)
#define UINT8_MAX __UINT8_MAX__
#define UINT16_MAX __UINT16_MAX__
#define UINT32_MAX __UINT32_MAX__
#define UINT64_MAX __UINT64_MAX__
#define INT_MAX __INT_MAX__
#define INT_MIN (-INT_MAX - 1)
#define UINT_MAX (INT_MAX * 2U + 1U)
#define NULL ((void *)0)

/* csmith prints the index of each array element it folds in only when asked; never here. */
#define printf(...) 0

#define STATIC static
#define UNDEFINED(value) (value)
#define LOG_INDEX
#define LOG_EXEC
#define FUNC_NAME(name) (safe_##name)
#include "safe_math_int.h"

static uint64_t crc32_context = 0xFFFFFFFFUL;
uint64_t csmith_result;

static void crc32_gentab(void)
{
}

/* Not a CRC: a 64-bit multiplicative mix, so that every value and its order count. */
static void transparent_crc(uint64_t value, char *name, int print)
{
	crc32_context = (crc32_context ^ value) * 0x100000001b3ULL;
	crc32_context ^= crc32_context >> 29;
}

static void transparent_crc_bytes(char *bytes, int count, char *name, int print)
{
	for (int i = 0; i < count; i++)
		transparent_crc((unsigned char)bytes[i], name, print);
}

static void platform_main_begin(void)
{
}

static void platform_main_end(uint64_t crc, int print)
{
	csmith_result = crc;
}

#endif /* SWIFTBPF_CSMITH_H */
