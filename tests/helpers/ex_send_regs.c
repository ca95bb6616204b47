/* Writes "GET /original HTTP/1.0\n" to stdout with a raw write syscall and
 * says on stderr whether the argument registers still hold its own buffer
 * and length afterwards, as the kernel guarantees natively (used by the
 * net-sender example test: a hook's changed arguments must not leak back). */
#include <stdio.h>
#include <string.h>

int main(void)
{
	static const char msg[] = "GET /original HTTP/1.0\n";
	long ret, len = (long)strlen(msg), rdx_after;
	const char *rsi_after;
	__asm__ volatile("syscall"
			 : "=a"(ret), "=S"(rsi_after), "=d"(rdx_after)
			 : "a"(1L), "D"(1L), "S"(msg), "d"(len)
			 : "rcx", "r11", "memory");
	fprintf(stderr, "ret=%ld buf=%s len=%s\n", ret, rsi_after == msg ? "same" : "changed",
		rdx_after == len ? "same" : "changed");
	return 0;
}
