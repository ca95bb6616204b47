/* getppid through the i386 ABI (int 0x80, eax = 64), then natively. */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(64L) : "memory");
	printf("%ld %ld\n", r, (long)syscall(SYS_getppid));
	return r == getppid() ? 0 : 1;
}
