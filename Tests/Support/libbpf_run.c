/* libbpf_run: the reference runner for the end-to-end tests, built on the system libbpf.
 *
 *   libbpf_run OBJ [--prog NAME]... [--set VAR=VALUE]... [--get VAR]... [--describe NAME]...
 *
 * Same command line and output as `swiftbpf run`: --set changes the initial value of a
 * global before the object is loaded; each --prog runs that program (BPF_PROG_TYPE_SYSCALL,
 * a raw tracepoint given twelve zero arguments, or a packet program given a zeroed 64-byte
 * packet) once with bpf_prog_test_run_opts, in the order given, printing
 * "NAME retval=R"; then each --get prints "VAR=VALUE" read back from the global's map.
 * Each --describe prints "NAME type=T attach=A": the program type the kernel reports for the
 * loaded program and the expected attach type libbpf gave it, as libbpf names them (a number
 * where libbpf has no name).
 * Globals are found through the object's BTF: the VAR's DATASEC names the internal
 * map (.data, .bss, .rodata) and gives the offset and size inside its value.
 * It checks the test corpus (objects from clang) and checks that libbpf accepts the
 * objects our compiler writes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

enum { MAX_ARGS = 256 };

/* Where a global lives: which internal map, at which offset, how it prints. */
struct global {
	struct bpf_map *map;
	__u32 offset;
	__u32 size;
	bool is_signed;
};

/* Strips typedefs and qualifiers, which do not change how a value prints. */
static const struct btf_type *resolve(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	while (t && (btf_is_typedef(t) || btf_is_const(t) || btf_is_volatile(t) || btf_is_restrict(t)))
		t = btf__type_by_id(btf, t->type);
	return t;
}

static struct bpf_map *map_for_datasec(struct bpf_object *obj, const char *secname)
{
	struct bpf_map *map;
	size_t suffix = strlen(secname);
	/* libbpf names internal maps "<object-prefix><section>", e.g. "prog.bss". */
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t len = strlen(name);
		if (bpf_map__is_internal(map) && len >= suffix && strcmp(name + len - suffix, secname) == 0)
			return map;
	}
	return NULL;
}

static int find_global(struct bpf_object *obj, const char *name, struct global *out)
{
	const struct btf *btf = bpf_object__btf(obj);
	if (!btf) {
		fprintf(stderr, "libbpf_run: object has no BTF, cannot find global '%s'\n", name);
		return -1;
	}
	__u32 count = btf__type_cnt(btf);
	for (__u32 id = 1; id < count; id++) {
		const struct btf_type *sec = btf__type_by_id(btf, id);
		if (!btf_is_datasec(sec))
			continue;
		const struct btf_var_secinfo *vsi = btf_var_secinfos(sec);
		for (__u16 i = 0; i < btf_vlen(sec); i++, vsi++) {
			const struct btf_type *var = btf__type_by_id(btf, vsi->type);
			if (!btf_is_var(var) || strcmp(btf__name_by_offset(btf, var->name_off), name) != 0)
				continue;
			const char *secname = btf__name_by_offset(btf, sec->name_off);
			out->map = map_for_datasec(obj, secname);
			if (!out->map) {
				fprintf(stderr, "libbpf_run: no map for section %s of global '%s'\n", secname, name);
				return -1;
			}
			out->offset = vsi->offset;
			out->size = vsi->size;
			const struct btf_type *t = resolve(btf, var->type);
			out->is_signed = false;
			if (t && btf_is_int(t))
				out->is_signed = (btf_int_encoding(t) & BTF_INT_SIGNED) != 0;
			else if (t && (btf_is_enum(t) || btf_is_enum64(t)))
				out->is_signed = btf_kflag(t);
			else if (!t || !btf_is_ptr(t)) {
				fprintf(stderr, "libbpf_run: global '%s' is not an integer, enum or pointer\n", name);
				return -1;
			}
			if (out->size != 1 && out->size != 2 && out->size != 4 && out->size != 8) {
				fprintf(stderr, "libbpf_run: global '%s' has size %u\n", name, out->size);
				return -1;
			}
			return 0;
		}
	}
	fprintf(stderr, "libbpf_run: no global named '%s' in the object's BTF\n", name);
	return -1;
}

/* Reads a little-endian integer of `size` bytes, sign-extending it if asked. */
static int64_t load_int(const unsigned char *p, __u32 size, bool is_signed)
{
	uint64_t v = 0;
	memcpy(&v, p, size);
	if (is_signed && size < 8) {
		uint64_t sign = 1ull << (size * 8 - 1);
		v = (v ^ sign) - sign;
	}
	return (int64_t)v;
}

static int set_global(struct bpf_object *obj, const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	if (!eq) {
		fprintf(stderr, "libbpf_run: --set wants VAR=VALUE, got '%s'\n", assignment);
		return -1;
	}
	char name[256];
	snprintf(name, sizeof(name), "%.*s", (int)(eq - assignment), assignment);
	struct global g;
	if (find_global(obj, name, &g))
		return -1;
	char *end;
	errno = 0;
	uint64_t value = eq[1] == '-' ? (uint64_t)strtoll(eq + 1, &end, 0) : strtoull(eq + 1, &end, 0);
	if (errno || *end || end == eq + 1) {
		fprintf(stderr, "libbpf_run: bad value in --set %s\n", assignment);
		return -1;
	}
	size_t size;
	const void *initial = bpf_map__initial_value(g.map, &size);
	if (!initial || g.offset + g.size > size) {
		fprintf(stderr, "libbpf_run: global '%s' lies outside its map's initial value\n", name);
		return -1;
	}
	unsigned char *copy = malloc(size);
	if (!copy)
		return -1;
	memcpy(copy, initial, size);
	memcpy(copy + g.offset, &value, g.size); /* little-endian: the low bytes */
	int err = bpf_map__set_initial_value(g.map, copy, size);
	free(copy);
	if (err)
		fprintf(stderr, "libbpf_run: cannot set initial value of '%s': %s\n", name, strerror(-err));
	return err;
}

static int get_global(struct bpf_object *obj, const char *name)
{
	struct global g;
	if (find_global(obj, name, &g))
		return -1;
	__u32 value_size = bpf_map__value_size(g.map);
	unsigned char *value = calloc(1, value_size);
	__u32 key = 0;
	if (!value)
		return -1;
	if (bpf_map_lookup_elem(bpf_map__fd(g.map), &key, value)) {
		fprintf(stderr, "libbpf_run: lookup in map %s failed: %s\n", bpf_map__name(g.map), strerror(errno));
		free(value);
		return -1;
	}
	int64_t v = load_int(value + g.offset, g.size, g.is_signed);
	free(value);
	if (g.is_signed)
		printf("%s=%" PRId64 "\n", name, v);
	else
		printf("%s=%" PRIu64 "\n", name, (uint64_t)v);
	return 0;
}

static int run_program(struct bpf_object *obj, const char *name)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, name);
	if (!prog) {
		fprintf(stderr, "libbpf_run: no program named '%s'\n", name);
		return -1;
	}
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	/* A raw tracepoint's context is its arguments, as many as a BPF function takes at most. */
	__u64 arguments[12] = {0};
	unsigned char packet[64] = {0};
	switch (bpf_program__type(prog)) {
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
		opts.ctx_in = arguments;
		opts.ctx_size_in = sizeof(arguments);
		break;
	case BPF_PROG_TYPE_XDP:
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_SOCKET_FILTER:
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_FLOW_DISSECTOR:
	case BPF_PROG_TYPE_LWT_IN:
	case BPF_PROG_TYPE_LWT_OUT:
	case BPF_PROG_TYPE_LWT_XMIT:
		opts.data_in = packet;
		opts.data_size_in = sizeof(packet);
		break;
	default:
		break;
	}
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts)) {
		fprintf(stderr, "libbpf_run: running '%s' failed: %s\n", name, strerror(errno));
		return -1;
	}
	printf("%s retval=%d\n", name, (int)opts.retval);
	return 0;
}

static int describe_program(struct bpf_object *obj, const char *name)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, name);
	if (!prog) {
		fprintf(stderr, "libbpf_run: no program named '%s'\n", name);
		return -1;
	}
	struct bpf_prog_info info;
	__u32 length = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &length)) {
		fprintf(stderr, "libbpf_run: no information on '%s': %s\n", name, strerror(errno));
		return -1;
	}
	const char *type = libbpf_bpf_prog_type_str(info.type);
	enum bpf_attach_type attach = bpf_program__expected_attach_type(prog);
	const char *attach_name = libbpf_bpf_attach_type_str(attach);
	printf("%s type=%s", name, type ? type : "unknown");
	if (attach_name)
		printf(" attach=%s\n", attach_name);
	else
		printf(" attach=%d\n", (int)attach);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: libbpf_run OBJ [--prog NAME]... [--set VAR=VALUE]... [--get VAR]... [--describe NAME]...\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc - 2 > 2 * MAX_ARGS)
		return usage();

	const char *progs[MAX_ARGS], *sets[MAX_ARGS], *gets[MAX_ARGS], *describes[MAX_ARGS];
	int nprogs = 0, nsets = 0, ngets = 0, ndescribes = 0;
	for (int i = 2; i < argc; i += 2) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--prog") == 0)
			progs[nprogs++] = argv[i + 1];
		else if (strcmp(argv[i], "--set") == 0)
			sets[nsets++] = argv[i + 1];
		else if (strcmp(argv[i], "--get") == 0)
			gets[ngets++] = argv[i + 1];
		else if (strcmp(argv[i], "--describe") == 0)
			describes[ndescribes++] = argv[i + 1];
		else
			return usage();
	}

	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "libbpf_run: cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	int status = 1;
	for (int i = 0; i < nsets; i++)
		if (set_global(obj, sets[i]))
			goto out;
	if (bpf_object__load(obj)) {
		fprintf(stderr, "libbpf_run: cannot load %s: %s\n", argv[1], strerror(errno));
		goto out;
	}
	for (int i = 0; i < nprogs; i++)
		if (run_program(obj, progs[i]))
			goto out;
	for (int i = 0; i < ngets; i++)
		if (get_global(obj, gets[i]))
			goto out;
	for (int i = 0; i < ndescribes; i++)
		if (describe_program(obj, describes[i]))
			goto out;
	status = 0;
out:
	fflush(stdout);
	bpf_object__close(obj);
	return status;
}
