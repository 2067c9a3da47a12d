// hello_main.c: runs hello.c natively and prints what `swiftbpf run` prints.
#include <stdio.h>
#include <stdlib.h>
#include "hello.c"

int main(int argc, char **argv)
{
	if (argc > 1)
		n = atoi(argv[1]);
	printf("hello retval=%d\n", hello(NULL));
	printf("sum=%ld\n", sum);
	return 0;
}
