/* A statically linked program for getExeInfo (tests/test_accessors.py): calls
 * getppid() once and exits 0. */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	syscall(SYS_getppid);
	return 0;
}
