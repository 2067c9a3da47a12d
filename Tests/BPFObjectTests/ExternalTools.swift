// Runs the real toolchain (llvm-objdump-19, llvm-readelf-19, bpftool, cc with libbpf) on what the
// tests write, so the checks are those of the tools BPF developers use, not our own reader.

import Foundation
import Testing
import ToolTestSupport

/// A fresh directory for one test's files.
func makeScratchDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("bpfobject-tests-\(name)-\(ProcessInfo.processInfo.processIdentifier)")
    try? FileManager.default.removeItem(at: url)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes bytes to `directory/name` and returns the path.
func writeFile(_ bytes: [UInt8], named name: String, in directory: URL) throws -> String {
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}

/// A small C program over Debian's libbpf 1.1: opens an object, lists its programs and maps, and
/// with `load PROG` loads it into the kernel and test-runs PROG, printing `retval N`.
let libbpfCheckerSource = #"""
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

static int print_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
    if (level == LIBBPF_DEBUG)
        return 0;
    return vfprintf(stderr, format, args);
}

int main(int argc, char **argv)
{
    libbpf_set_print(print_libbpf);
    struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
    long err = libbpf_get_error(obj);
    if (err) {
        printf("open-error %ld\n", err);
        return 1;
    }
    struct bpf_program *prog;
    bpf_object__for_each_program(prog, obj)
        printf("program %s section %s insns %zu\n", bpf_program__name(prog),
               bpf_program__section_name(prog), bpf_program__insn_cnt(prog));
    struct bpf_map *map;
    bpf_object__for_each_map(map, obj)
        printf("map %s type %d value_size %u\n", bpf_map__name(map), bpf_map__type(map),
               bpf_map__value_size(map));
    if (argc < 4 || strcmp(argv[2], "load") != 0)
        return 0;
    err = bpf_object__load(obj);
    if (err) {
        printf("load-error %ld\n", err);
        return 1;
    }
    prog = bpf_object__find_program_by_name(obj, argv[3]);
    if (!prog) {
        printf("no program %s\n", argv[3]);
        return 1;
    }
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
    if (err) {
        printf("run-error %ld\n", err);
        return 1;
    }
    printf("retval %u\n", opts.retval);
    bpf_object__close(obj);
    return 0;
}
"""#

/// Compiles the libbpf checker into `directory`; returns the executable's path.
func buildLibbpfChecker(in directory: URL) throws -> String {
    let source = directory.appendingPathComponent("checker.c")
    try Data(libbpfCheckerSource.utf8).write(to: source)
    let executable = directory.appendingPathComponent("checker").path
    let result = try runTool(["cc", "-Wall", "-o", executable, source.path, "-lbpf"])
    #expect(result.status == 0, "cc failed: \(result.stderr)")
    return executable
}
