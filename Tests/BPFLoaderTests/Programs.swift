// C programs the loader tests build twice: as BPF with clang-19 and natively with cc. The native
// build prints what the kernel run must reproduce, in swiftbpf's output format.

enum Programs {
    static let prelude = """
        #define SEC(name) __attribute__((section(name), used))
        char _license[] SEC("license") = "GPL";

        """

    static let compute = prelude + """
        SEC("syscall") int collatz(void *ctx) {
            unsigned long n = 27;
            int steps = 0;
            while (n != 1 && steps < 1000) {
                n = (n & 1) ? 3 * n + 1 : n / 2;
                steps++;
            }
            return steps;
        }

        SEC("syscall") int negative(void *ctx) {
            volatile int x = -5, y = 3;
            return x * y - (y << 4);
        }
        """

    /// A hidden global function reading past its `int *` parameter's first element: valid only in
    /// its caller's context (as static), which is how libbpf verifies hidden functions.
    static let hiddenFunction = prelude + """
        __attribute__((visibility("hidden"), noinline)) int pair_sum(int *p) { return p[0] + p[1]; }

        SEC("syscall") int sums(void *ctx) {
            int values[2] = { 20, 22 };
            return pair_sum(values);
        }
        """

    static let hiddenFunctionDriver = """
        int main(void) {
            printf("sums retval=%d\\n", sums(0));
            return 0;
        }
        """

    static let computeDriver = """
        int main(void) {
            printf("collatz retval=%d\\n", collatz(0));
            printf("negative retval=%d\\n", negative(0));
            return 0;
        }
        """

    static let globals = prelude + """
        #ifndef LIMIT
        #define LIMIT 10
        #endif
        int counter = 5;
        long long total;
        unsigned char flag;
        const volatile int limit = LIMIT;
        static int hidden = -7;
        const volatile unsigned long big = 0xfffffffffffffff0UL;
        short delta = -3;
        unsigned int mask = 0xfffffff0u;

        SEC("syscall") int bump(void *ctx) {
            counter += limit;
            hidden -= 2;
            total = (long long)counter * -1000000007LL;
            flag = 200;
            return hidden;
        }

        SEC("syscall") int again(void *ctx) {
            counter *= 2;
            delta -= counter;
            mask |= (unsigned)limit;
            return counter + delta + (int)(big & 0xff);
        }
        """

    static let globalsDriver = """
        int main(void) {
            printf("bump retval=%d\\n", bump(0));
            printf("again retval=%d\\n", again(0));
            printf("counter=%d\\ntotal=%lld\\nflag=%u\\nlimit=%d\\nbig=%lu\\ndelta=%d\\nmask=%u\\n",
                   counter, total, flag, limit, big, delta, mask);
            return 0;
        }
        """
    static let globalsVariables = ["counter", "total", "flag", "limit", "big", "delta", "mask"]

    static let subprograms = prelude + """
        static __attribute__((noinline)) int square(int x) { return x * x; }

        __attribute__((noinline)) int sum_squares(int n) {
            int s = 0;
            for (int i = 1; i <= n && i < 100; i++)
                s += square(i);
            return s;
        }

        static __attribute__((noinline)) int twice(int x) { return sum_squares(x) * 2 + square(x); }

        int calls;

        SEC("syscall") int entry_a(void *ctx) {
            calls++;
            return twice(5) - square(3);
        }

        SEC("syscall") int entry_b(void *ctx) {
            calls += 10;
            return sum_squares(7);
        }
        """

    static let subprogramsDriver = """
        int main(void) {
            printf("entry_a retval=%d\\n", entry_a(0));
            printf("entry_b retval=%d\\n", entry_b(0));
            printf("calls=%d\\n", calls);
            return 0;
        }
        """

    /// An arena map, an `__arena` global and the bpf_arena_alloc_pages kfunc. The native build
    /// stands in calloc for the kfunc.
    static let arena = prelude + """
        #define __uint(name, val) int (*name)[val]
        #ifdef __bpf__
        #define __arena __attribute__((address_space(1)))
        extern void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, unsigned int page_cnt,
                                                   int node_id, unsigned long long flags) __attribute__((section(".ksyms")));
        #else
        #include <stdlib.h>
        #define __arena
        static void *bpf_arena_alloc_pages(void *map, void *addr, unsigned int pages, int node, unsigned long long flags) {
            return calloc(pages, 4096);
        }
        #endif
        struct {
            __uint(type, 33);
            __uint(map_flags, 1 << 10);
            __uint(max_entries, 4);
        } arena SEC(".maps");
        int __arena in_arena = 40;
        long result;

        SEC("syscall") int arena_prog(void *ctx) {
            long __arena *page = bpf_arena_alloc_pages(&arena, 0, 1, -1, 0);
            if (!page)
                return -1;
            for (int i = 0; i < 8; i++)
                page[i] = i * in_arena;
            in_arena += (int)page[3];
            result = page[7] - in_arena;
            return in_arena;
        }
        """

    static let arenaDriver = """
        int main(void) {
            printf("arena_prog retval=%d\\n", arena_prog(0));
            printf("result=%ld\\n", result);
            return 0;
        }
        """

    /// Dereferences a scalar: the verifier must reject line 5 of this file.
    static let rejected = """
        int idx;
        __attribute__((section("syscall"))) int bad(void *ctx) {
            int arr[4] = {1, 2, 3, 4};
            int *p = (int *)(long)idx;
            return *p + arr[1];
        }
        char _license[] __attribute__((section("license"))) = "GPL";
        """
}
