/* swiftbpf.h: the project's header for BPF C.
 *
 * A program that includes it compiles both natively (cc) and for BPF (swiftbpfcc or
 * clang -target bpf), so the same source can be run both ways and the results compared.
 * Every definition is guarded so that libbpf's <bpf/bpf_helpers.h> may be included too,
 * before or after this header.
 */
#ifndef SWIFTBPF_H
#define SWIFTBPF_H

/* Places a function or variable in the named ELF section: "syscall" for a
 * BPF_PROG_TYPE_SYSCALL program, "license" for the license string. `used` keeps
 * the symbol even when nothing in the file refers to it. */
#ifndef SEC
#define SEC(name) __attribute__((section(name), used))
#endif

#endif /* SWIFTBPF_H */
