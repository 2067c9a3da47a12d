/* swiftbpf_arena.h: BPF arenas, for code that compiles natively and for BPF.
 *
 * An arena is memory shared by a BPF program and user space. Pointers into it are marked
 * `__arena` (address space 1); swiftbpfcc inserts the casts the verifier needs, so `cast_kern`
 * and `cast_user` are no-ops. Natively `__arena` is empty, pages come from the C heap, and
 * `can_loop` is always true: the same list or hash-table code runs on plain memory.
 *
 * Every macro is guarded, so libbpf's <bpf/bpf_helpers.h> may be included too.
 */
#ifndef SWIFTBPF_ARENA_H
#define SWIFTBPF_ARENA_H

#include <stddef.h>
#include <linux/types.h>
#include "swiftbpf.h"

#ifndef BPF_MAP_TYPE_ARENA
#define BPF_MAP_TYPE_ARENA 33
#endif
#ifndef BPF_F_MMAPABLE
#define BPF_F_MMAPABLE (1U << 10)
#endif
#ifndef NUMA_NO_NODE
#define NUMA_NO_NODE (-1)
#endif
#ifndef PAGE_SIZE
#define PAGE_SIZE 4096
#endif

/* BTF-defined map fields, as libbpf reads them: the value hides in the type. */
#ifndef __uint
#define __uint(name, val) int (*name)[val]
#endif
#ifndef __type
#define __type(name, val) __typeof__(val) *name
#endif
#ifndef __ulong
#define __swiftbpf_concat(a, b) a##b
#define __swiftbpf_unique(a, b) __swiftbpf_concat(a, b)
#define __ulong(name, val) enum { __swiftbpf_unique(__unique_value, __COUNTER__) = val } name
#endif

#if defined(__BPF__)

#define __arena __attribute__((address_space(1)))
#define __arena_global __attribute__((address_space(1)))
#ifndef __arg_arena
#define __arg_arena __attribute__((btf_decl_tag("arg:arena")))
#endif
#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif

/* The compiler casts every arena access itself. */
#define cast_kern(ptr)
#define cast_user(ptr)

/* may_goto: the kernel may end the loop at any time (after 8M iterations, or when time is up),
 * which lets the verifier accept loops whose bound it cannot prove. */
#ifndef can_loop
#define can_loop                                                                        \
	({                                                                              \
		__label__ l_break, l_continue;                                          \
		_Bool __ret = 1;                                                        \
		asm volatile goto("may_goto %l[l_break]" :::: l_break);                 \
		goto l_continue;                                                        \
	l_break:                                                                        \
		__ret = 0;                                                              \
	l_continue:;                                                                    \
		__ret;                                                                  \
	})
#endif
#ifndef __cond_break
#define __cond_break(expr)                                                              \
	({                                                                              \
		__label__ l_break, l_continue;                                          \
		asm volatile goto("may_goto %l[l_break]" :::: l_break);                 \
		goto l_continue;                                                        \
	l_break:                                                                        \
		expr;                                                                   \
	l_continue:;                                                                    \
	})
#endif
#ifndef cond_break
#define cond_break __cond_break(break)
#endif

/* The kernel's arena kfuncs (kernel/bpf/arena.c), resolved by name at load time. */
void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, __u32 page_cnt, int node_id,
				    __u64 flags) __ksym __weak;
void bpf_arena_free_pages(void *map, void __arena *ptr, __u32 page_cnt) __ksym __weak;

#else /* native */

#include <stdlib.h>
#include <string.h>

#define __arena
#define __arena_global
#define __arg_arena
#define cast_kern(ptr)
#define cast_user(ptr)
#define can_loop 1
#define cond_break ((void)0)

/* Arena pages are zeroed and page-aligned; so are these. */
static inline void *bpf_arena_alloc_pages(void *map, void *addr, __u32 page_cnt, int node_id, __u64 flags)
{
	(void)map; (void)addr; (void)node_id; (void)flags;
	void *p = aligned_alloc(PAGE_SIZE, (size_t)page_cnt * PAGE_SIZE);
	if (p)
		memset(p, 0, (size_t)page_cnt * PAGE_SIZE);
	return p;
}

static inline void bpf_arena_free_pages(void *map, void *ptr, __u32 page_cnt)
{
	(void)map; (void)page_cnt;
	free(ptr);
}

#endif /* __BPF__ */

#endif /* SWIFTBPF_ARENA_H */
