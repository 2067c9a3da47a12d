#include "bpf_syscall.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

long swiftbpf_bpf(int cmd, void *attr, unsigned int size) {
    return syscall(SYS_bpf, cmd, attr, size);
}

int swiftbpf_errno(void) { return errno; }
