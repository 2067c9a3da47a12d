// arena_stack_main.c: runs arena_stack.c natively (its arena pages come from the heap) and prints
// what `swiftbpf run` prints.
#include <stdio.h>
#include <stdlib.h>
#include "arena_stack.c"

int main(int argc, char **argv)
{
	if (argc > 1)
		n = atoi(argv[1]);
	printf("push retval=%d\n", push(NULL));
	printf("pop_all retval=%d\n", pop_all(NULL));
	printf("sum=%ld\n", sum);
	return 0;
}
