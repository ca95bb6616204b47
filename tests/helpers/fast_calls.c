/* fast_calls OP...: syscalls with chosen arguments, for the argument filter tests.
 *
 *   g:A0[,A1...]      getppid with these argument registers (it ignores them);
 *                     values in C syntax, negative ones as 64-bit two's complement
 *   w:FD:TEXT         write(FD, TEXT, strlen(TEXT))
 *   i:A0[,A1...]      getppid through int 0x80 (i386 ABI) with ebx, ecx, ... (5 at most)
 *   rep:N:A0          N getppid calls with a0 = A0; prints "elapsed NS"
 *   wait:PATH         print "waiting", then wait (10 s at most) until PATH exists
 *   listen            install a seccomp filter with its own listener (a USER_NOTIF
 *                     rule on kexec_load); prints "listen ret=FD" or "listen ret=-ERRNO"
 *
 * Each g, w and i call prints "NAME ret=R" on stdout (one write). */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t num(const char *s, char **end)
{
	if (s[0] == '-')
		return (uint64_t)strtoll(s, end, 0);
	return strtoull(s, end, 0);
}

static void parse_args(const char *s, uint64_t a[6])
{
	char *end;
	for (int i = 0; i < 6 && *s; i++) {
		a[i] = num(s, &end);
		s = *end == ',' ? end + 1 : end;
	}
}

static long raw6(long nr, const uint64_t a[6])
{
	long ret;
	register uint64_t r10 __asm__("r10") = a[3];
	register uint64_t r8 __asm__("r8") = a[4];
	register uint64_t r9 __asm__("r9") = a[5];
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static long int80(long nr, const uint64_t a[6])
{
	long ret;
	__asm__ volatile("push %%rbp\n\tmov %7, %%rbp\n\tint $0x80\n\tpop %%rbp"
			 : "=a"(ret)
			 : "a"(nr), "b"(a[0]), "c"(a[1]), "d"(a[2]), "S"(a[3]), "D"(a[4]), "g"(a[5])
			 : "memory");
	return ret;
}

static void report(const char *name, long ret)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "%s ret=%ld\n", name, ret);
	if (write(1, buf, (size_t)n) < 0)
		exit(3);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *op = argv[i];
		uint64_t a[6] = {0};
		if (!strncmp(op, "g:", 2)) {
			parse_args(op + 2, a);
			report("getppid", raw6(SYS_getppid, a));
		} else if (!strncmp(op, "i:", 2)) {
			parse_args(op + 2, a);
			report("getppid32", int80(64, a));
		} else if (!strncmp(op, "w:", 2)) {
			char *end;
			a[0] = num(op + 2, &end);
			const char *text = *end == ':' ? end + 1 : "";
			a[1] = (uint64_t)(uintptr_t)text;
			a[2] = strlen(text);
			long r = raw6(SYS_write, a);
			report("write", r);
		} else if (!strncmp(op, "rep:", 4)) {
			char *end;
			long n = strtol(op + 4, &end, 0);
			a[0] = *end == ':' ? num(end + 1, &end) : 0;
			struct timespec t0, t1;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			for (long k = 0; k < n; k++)
				raw6(SYS_getppid, a);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			printf("elapsed %lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL +
						     (t1.tv_nsec - t0.tv_nsec));
			fflush(stdout);
		} else if (!strcmp(op, "listen")) {
			struct sock_filter f[] = {
			    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_kexec_load, 0, 1),
			    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
			    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
			};
			struct sock_fprog prog = {4, f};
			prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
			long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
					 SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
			report("listen", r < 0 ? -errno : r);
		} else if (!strncmp(op, "wait:", 5)) {
			report("waiting", 0);
			for (int k = 0; k < 1000 && access(op + 5, F_OK) < 0; k++)
				usleep(10000);
		} else {
			fprintf(stderr, "fast_calls: unknown op %s\n", op);
			return 2;
		}
	}
	return 0;
}
