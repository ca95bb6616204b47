/* i386 syscalls through int $0x80 from 64-bit code, for tests/test_process.py.
 * Only syscalls with integer arguments (pointers would need 32-bit addresses).
 *
 * proc_int80   prints "getppid R", "getpid R", "native getpid R" and
 *              "socketcall R" (i386 socketcall(SYS_BIND=2, NULL): -EFAULT natively) and
 *              "bind R" (i386 bind(-1, NULL, 0), nr 361: -EBADF natively)
 */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static long int80(long nr, long a0, long a1)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a0), "c"(a1) : "memory");
	return ret;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("getppid %ld\n", int80(64, 0, 0));
	printf("getpid %ld\n", int80(20, 0, 0));
	printf("native getpid %ld\n", (long)syscall(SYS_getpid));
	printf("socketcall %ld\n", int80(102, 2, 0));
	printf("bind %ld\n", int80(361, -1, 0));
	return 0;
}
