/* arena_compat_driver: runs the kernel's arena selftest objects (and our spin-lock program) on
 * libbpf 1.5, built from the kernel tarball, and prints what the kernel's prog_tests check, one
 * `key=value` per line, so that KernelCompatTests compares objects from swiftbpfcc and from clang
 * against the same expectations.
 *
 *   arena_compat_driver inspect OBJ             maps, programs with their decl tags, arena globals
 *   arena_compat_driver list OBJ CNT            arena_list_add, user-space walk, arena_list_del
 *   arena_compat_driver htab OBJ PROG           PROG fills the table; user space looks keys up
 *   arena_compat_driver atomics OBJ             each atomics program once, then every arena global
 *   arena_compat_driver verifier OBJ            each program on its own against its decl tags
 *   arena_compat_driver spinlock OBJ PROG THREADS RUNS
 *                                               PROG from THREADS threads on distinct CPUs
 *
 * Only `inspect` works without the kernel (libbpf opens the object without loading it).
 * Built with -I on the selftests directory: the list and table that the BPF programs build are
 * walked here with the selftests' own headers, compiled natively, as the prog_tests do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sys/user.h> /* PAGE_SIZE, which bpf_arena_htab.h uses */

#ifndef __weak
#define __weak __attribute__((weak))
#endif
#include "bpf_arena_htab.h"
#include "bpf_arena_list.h"

#define ARENA_SECTION ".addr_space.1"
#define TAG_PREFIX "comment:"

/* A global of the loaded object: its bytes in mapped memory and how its value prints. */
struct global {
	void *address;
	__u32 size;
	bool is_signed;
};

static const struct btf_type *resolve(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	return t;
}

static struct bpf_map *arena_map(struct bpf_object *obj)
{
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj)
		if (bpf_map__type(map) == BPF_MAP_TYPE_ARENA)
			return map;
	return NULL;
}

/* The memory behind the data section: the arena's mapping for `.addr_space.1` (libbpf 1.5
 * puts the arena globals at the arena's start), else the internal map libbpf names
 * "<object prefix><section>", which libbpf keeps mapped after the load. */
static void *section_memory(struct bpf_object *obj, const char *section)
{
	struct bpf_map *map;
	size_t size;
	if (strcmp(section, ARENA_SECTION) == 0) {
		map = arena_map(obj);
		return map ? bpf_map__initial_value(map, &size) : NULL;
	}
	size_t suffix = strlen(section);
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t length = strlen(name);
		if (bpf_map__is_internal(map) && length >= suffix && strcmp(name + length - suffix, section) == 0)
			return bpf_map__initial_value(map, &size);
	}
	return NULL;
}

/* Calls `visit` for each variable of the data section `section` (all sections when NULL). */
static int for_each_global(struct bpf_object *obj, const char *section,
			   int (*visit)(struct bpf_object *, const char *name, struct global, void *), void *context)
{
	const struct btf *btf = bpf_object__btf(obj);
	if (!btf)
		return -1;
	for (__u32 id = 1; id < btf__type_cnt(btf); id++) {
		const struct btf_type *sec = btf__type_by_id(btf, id);
		if (!btf_is_datasec(sec))
			continue;
		const char *sec_name = btf__name_by_offset(btf, sec->name_off);
		if (section && strcmp(sec_name, section) != 0)
			continue;
		char *memory = section_memory(obj, sec_name);
		const struct btf_var_secinfo *info = btf_var_secinfos(sec);
		for (__u16 i = 0; i < btf_vlen(sec); i++, info++) {
			const struct btf_type *var = btf__type_by_id(btf, info->type);
			if (!btf_is_var(var))
				continue;
			const struct btf_type *t = resolve(btf, var->type);
			struct global g = {
				.address = memory ? memory + info->offset : NULL,
				.size = info->size,
				.is_signed = t && btf_is_int(t) && (btf_int_encoding(t) & BTF_INT_SIGNED),
			};
			int status = visit(obj, btf__name_by_offset(btf, var->name_off), g, context);
			if (status)
				return status > 0 ? 0 : status;
		}
	}
	return 0;
}

struct lookup {
	const char *name;
	struct global found;
	bool is_found;
};

static int match_global(struct bpf_object *obj, const char *name, struct global g, void *context)
{
	struct lookup *lookup = context;
	(void)obj;
	if (strcmp(name, lookup->name) != 0)
		return 0;
	lookup->found = g;
	lookup->is_found = true;
	return 1;
}

/* The loaded object's global `name`, which must exist and be mapped. */
static void *global_address(struct bpf_object *obj, const char *name)
{
	struct lookup lookup = {.name = name};
	for_each_global(obj, NULL, match_global, &lookup);
	if (!lookup.is_found || !lookup.found.address) {
		fprintf(stderr, "arena_compat_driver: no mapped global '%s'\n", name);
		exit(1);
	}
	return lookup.found.address;
}

static int64_t global_value(struct global g)
{
	uint64_t v = 0;
	memcpy(&v, g.address, g.size < 8 ? g.size : 8);
	if (g.is_signed && g.size < 8) {
		uint64_t sign = 1ull << (g.size * 8 - 1);
		v = (v ^ sign) - sign;
	}
	return (int64_t)v;
}

static int print_global(struct bpf_object *obj, const char *name, struct global g, void *context)
{
	(void)obj;
	(void)context;
	if (!g.address || g.size > 8)
		return 0;
	if (g.is_signed)
		printf("%s=%" PRId64 "\n", name, global_value(g));
	else
		printf("%s=%" PRIu64 "\n", name, (uint64_t)global_value(g));
	return 0;
}

static struct bpf_object *open_object(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "arena_compat_driver: libbpf cannot open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return obj;
}

static void load(struct bpf_object *obj, const char *path)
{
	int err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "arena_compat_driver: libbpf cannot load %s: %s\n", path, strerror(-err));
		exit(1);
	}
}

static struct bpf_object *load_object(const char *path)
{
	struct bpf_object *obj = open_object(path);
	load(obj, path);
	return obj;
}

static struct bpf_program *program(struct bpf_object *obj, const char *name)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, name);
	if (!prog) {
		fprintf(stderr, "arena_compat_driver: no program named '%s'\n", name);
		exit(1);
	}
	return prog;
}

/* Runs the program once with BPF_PROG_TEST_RUN and prints `NAME retval=R`. */
static int test_run(struct bpf_program *prog)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts)) {
		fprintf(stderr, "arena_compat_driver: running '%s' failed: %s\n", bpf_program__name(prog),
			strerror(errno));
		exit(1);
	}
	printf("%s retval=%d\n", bpf_program__name(prog), (int)opts.retval);
	return (int)opts.retval;
}

/* The text of each `comment:` decl tag on the BTF function `func`, in BTF order. */
static int function_tags(const struct btf *btf, const char *func, const char **tags, int capacity)
{
	int count = 0;
	for (__u32 id = 1; id < btf__type_cnt(btf); id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!btf_is_decl_tag(t) || btf_decl_tag(t)->component_idx != -1)
			continue;
		const struct btf_type *target = btf__type_by_id(btf, t->type);
		const char *text = btf__name_by_offset(btf, t->name_off);
		if (!btf_is_func(target) || strcmp(btf__name_by_offset(btf, target->name_off), func) != 0 ||
		    strncmp(text, TAG_PREFIX, strlen(TAG_PREFIX)) != 0 || count == capacity)
			continue;
		tags[count++] = text + strlen(TAG_PREFIX);
	}
	return count;
}

static const char *map_type_name(enum bpf_map_type type)
{
	const char *name = libbpf_bpf_map_type_str(type);
	return name ? name : "?";
}

static int inspect(const char *path)
{
	struct bpf_object *obj = open_object(path);
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj) {
		/* Internal maps are named after the object's file name, which differs between objects. */
		if (bpf_map__is_internal(map))
			continue;
		printf("map %s type=%s flags=%#x max_entries=%u map_extra=%#llx\n", bpf_map__name(map),
		       map_type_name(bpf_map__type(map)), bpf_map__map_flags(map), bpf_map__max_entries(map),
		       (unsigned long long)bpf_map__map_extra(map));
	}
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) {
		printf("program %s section=%s type=%s\n", bpf_program__name(prog), bpf_program__section_name(prog),
		       libbpf_bpf_prog_type_str(bpf_program__type(prog)));
		const char *tags[64];
		int count = function_tags(bpf_object__btf(obj), bpf_program__name(prog), tags, 64);
		for (int i = 0; i < count; i++)
			printf("tag %s %s\n", bpf_program__name(prog), tags[i]);
	}
	const struct btf *btf = bpf_object__btf(obj);
	for (__u32 id = 1; btf && id < btf__type_cnt(btf); id++) {
		const struct btf_type *sec = btf__type_by_id(btf, id);
		if (!btf_is_datasec(sec) || strcmp(btf__name_by_offset(btf, sec->name_off), ARENA_SECTION) != 0)
			continue;
		const struct btf_var_secinfo *info = btf_var_secinfos(sec);
		for (__u16 i = 0; i < btf_vlen(sec); i++, info++)
			printf("arena global %s size=%u\n",
			       btf__name_by_offset(btf, btf__type_by_id(btf, info->type)->name_off), info->size);
	}
	bpf_object__close(obj);
	return 0;
}

struct elem {
	struct arena_list_node node;
	__u64 value;
};

/* The list's sum, walked from user space through the arena's mapping. */
static long long walk_sum(struct arena_list_head *head)
{
	struct elem __arena *n;
	long long sum = 0;
	list_for_each_entry(n, head, node)
		sum += n->value;
	return sum;
}

static int list(const char *path, int count)
{
	struct bpf_object *obj = load_object(path);
	*(int *)global_address(obj, "cnt") = count;
	test_run(program(obj, "arena_list_add"));
	printf("skip=%d\n", *(bool *)global_address(obj, "skip"));
	struct arena_list_head *head = *(struct arena_list_head **)global_address(obj, "list_head");
	printf("user_sum_after_add=%lld\n", walk_sum(head));
	printf("arena_sum_after_add=%ld\n", *(long *)global_address(obj, "arena_sum"));
	printf("test_val=%d\n", *(int *)global_address(obj, "test_val"));
	test_run(program(obj, "arena_list_del"));
	printf("user_sum_after_del=%lld\n", walk_sum(head));
	printf("list_sum=%d\n", *(int *)global_address(obj, "list_sum"));
	printf("arena_sum_after_del=%ld\n", *(long *)global_address(obj, "arena_sum"));
	bpf_object__close(obj);
	return 0;
}

static int htab(const char *path, const char *prog_name)
{
	struct bpf_object *obj = load_object(path);
	/* Faults in the arena's first page from user space before the program allocates more. */
	*(volatile int *)bpf_map__initial_value(arena_map(obj), &(size_t){0}) = 0x55aa;
	test_run(program(obj, prog_name));
	printf("skip=%d\n", *(bool *)global_address(obj, "skip"));
	struct htab *table = *(struct htab **)global_address(obj, "htab_for_user");
	printf("buckets=%s\n", table && table->buckets ? "mapped" : "null");
	for (int key = 0; table && table->buckets && key < 16; key += 4)
		printf("lookup %d=%d\n", key, htab_lookup_elem(table, key));
	bpf_object__close(obj);
	return 0;
}

static int atomics(const char *path)
{
	static const char *const programs[] = {"add", "sub", "and", "or", "xor", "cmpxchg", "xchg", "uaf"};
	struct bpf_object *obj = open_object(path);
	/* Whether the compiler had what the tests need: the prog_test reads it before the load. */
	printf("skip_tests=%d\n", *(bool *)global_address(obj, "skip_tests"));
	load(obj, path);
	*(__u32 *)global_address(obj, "pid") = (__u32)getpid();
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
		test_run(program(obj, programs[i]));
	for_each_global(obj, ARENA_SECTION, print_global, NULL);
	bpf_object__close(obj);
	return 0;
}

/* What the decl tags of one program expect, as the kernel's test_loader reads them. */
struct expectation {
	bool failure;
	bool has_retval;
	int retval;
	int log_level;
	const char *messages[16];
	int message_count;
};

static struct expectation expectation_of(const struct btf *btf, const char *func)
{
	struct expectation e = {0};
	const char *tags[64];
	int count = function_tags(btf, func, tags, 64);
	for (int i = 0; i < count; i++) {
		const char *t = tags[i];
		if (strcmp(t, "test_expect_failure") == 0)
			e.failure = true;
		else if (strncmp(t, "test_retval=", 12) == 0)
			e.has_retval = true, e.retval = (int)strtol(t + 12, NULL, 0);
		else if (strncmp(t, "test_log_level=", 15) == 0)
			e.log_level = (int)strtol(t + 15, NULL, 0);
		else if (strncmp(t, "test_expect_msg=", 16) == 0 && e.message_count < 16) {
			/* "test_expect_msg=COUNTER=TEXT": the counter only orders the tags. */
			const char *text = strchr(t + 16, '=');
			e.messages[e.message_count++] = text ? text + 1 : t + 16;
		}
	}
	return e;
}

/* Loads each program on its own (with all maps) and checks the verifier's verdict, its log's
 * expected messages (in order) and the return value against the program's decl tags. Prints
 * `NAME: ok` or `NAME: FAIL why` per program. */
static int verifier(const char *path)
{
	struct bpf_object *probe = open_object(path);
	const char *names[64];
	int count = 0;
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, probe)
		if (count < 64)
			names[count++] = strdup(bpf_program__name(prog));
	bpf_object__close(probe);

	static char log[16 << 20];
	for (int i = 0; i < count; i++) {
		struct bpf_object *obj = open_object(path);
		struct expectation e = expectation_of(bpf_object__btf(obj), names[i]);
		bpf_object__for_each_program(prog, obj)
			bpf_program__set_autoload(prog, strcmp(bpf_program__name(prog), names[i]) == 0);
		prog = program(obj, names[i]);
		log[0] = 0;
		bpf_program__set_log_buf(prog, log, sizeof(log));
		bpf_program__set_log_level(prog, e.log_level ? e.log_level : 1);
		int err = bpf_object__load(obj);
		const char *failure = NULL;
		char why[512];
		if (e.failure != (err != 0)) {
			snprintf(why, sizeof(why), "verifier %s, expected %s", err ? "rejected" : "accepted",
				 e.failure ? "rejection" : "acceptance");
			failure = why;
		}
		const char *cursor = log;
		for (int m = 0; !failure && m < e.message_count; m++) {
			const char *found = strstr(cursor, e.messages[m]);
			if (!found) {
				snprintf(why, sizeof(why), "log lacks '%s' (in order)", e.messages[m]);
				failure = why;
			} else {
				cursor = found + strlen(e.messages[m]);
			}
		}
		if (!failure && !err && e.has_retval) {
			int retval = test_run(prog);
			if (retval != e.retval) {
				snprintf(why, sizeof(why), "retval %d, expected %d", retval, e.retval);
				failure = why;
			}
		}
		/* The log's end holds the verifier's reason; its beginning can be megabytes of states. */
		size_t length = strlen(log);
		const char *tail = length > 4000 ? log + length - 4000 : log;
		if (failure)
			printf("%s: FAIL %s\n--- verifier log (end)\n%s\n---\n", names[i], failure, tail);
		else
			printf("%s: ok\n", names[i]);
		bpf_object__close(obj);
	}
	return 0;
}

struct runner {
	int prog_fd;
	int cpu;
	int runs;
	int failures;
};

static void *run_on_cpu(void *context)
{
	struct runner *r = context;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		r->failures++;
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	for (int i = 0; i < r->runs; i++)
		if (bpf_prog_test_run_opts(r->prog_fd, &opts) || opts.retval != 0)
			r->failures++;
	return NULL;
}

static int spinlock(const char *path, const char *prog_name, int threads, int runs)
{
	struct bpf_object *obj = load_object(path);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct runner runners[64];
	pthread_t ids[64];
	if (threads > 64)
		threads = 64;
	printf("cpus=%ld\n", cpus);
	for (int i = 0; i < threads; i++) {
		runners[i] = (struct runner){bpf_program__fd(program(obj, prog_name)), (int)(i % cpus), runs, 0};
		pthread_create(&ids[i], NULL, run_on_cpu, &runners[i]);
	}
	int failures = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(ids[i], NULL);
		failures += runners[i].failures;
	}
	printf("failed_runs=%d\n", failures);
	for_each_global(obj, NULL, print_global, NULL);
	bpf_object__close(obj);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: arena_compat_driver inspect|list|htab|atomics|verifier|spinlock OBJ [ARGS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *command = argv[1], *path = argv[2];
	if (strcmp(command, "inspect") == 0 && argc == 3)
		return inspect(path);
	if (strcmp(command, "list") == 0 && argc == 4)
		return list(path, atoi(argv[3]));
	if (strcmp(command, "htab") == 0 && argc == 4)
		return htab(path, argv[3]);
	if (strcmp(command, "atomics") == 0 && argc == 3)
		return atomics(path);
	if (strcmp(command, "verifier") == 0 && argc == 3)
		return verifier(path);
	if (strcmp(command, "spinlock") == 0 && argc == 6)
		return spinlock(path, argv[3], atoi(argv[4]), atoi(argv[5]));
	return usage();
}
