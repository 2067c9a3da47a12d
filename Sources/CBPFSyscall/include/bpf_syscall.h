#ifndef SWIFTBPF_BPF_SYSCALL_H
#define SWIFTBPF_BPF_SYSCALL_H

// Swift cannot call the variadic syscall(2); this is the one non-variadic door into bpf().
// Returns the syscall's result; on failure returns -1 and leaves errno set.
long swiftbpf_bpf(int cmd, void *attr, unsigned int size);

// errno of the calling thread, read right after a failed call.
int swiftbpf_errno(void);

#endif
