/* The syscall ABI promises that the argument registers survive a syscall (only
 * rax, rcx and r11 change; int 0x80 changes only eax). Compilers rely on it for
 * inline syscalls. A hook that changes arguments must not leak its values into
 * the program's registers.
 *
 * proc_regs   calls getppid with syscall and with int $0x80, with known values in the
 *             argument registers, and prints the registers afterwards:
 *             "syscall ret R regs A B C D E F" and "int80 ret R regs A B C D E F"
 */
#include <stdio.h>

int main(void)
{
	register long rdi __asm__("rdi") = 0x1001;
	register long rsi __asm__("rsi") = 0x1002;
	register long rdx __asm__("rdx") = 0x1003;
	register long r10 __asm__("r10") = 0x1004;
	register long r8 __asm__("r8") = 0x1005;
	register long r9 __asm__("r9") = 0x1006;
	long rax = 110; /* getppid */
	__asm__ volatile("syscall"
			 : "+a"(rax), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
			 :
			 : "rcx", "r11", "memory");
	long s[7] = {rax, rdi, rsi, rdx, r10, r8, r9};
	printf("syscall ret %ld regs %lx %lx %lx %lx %lx %lx\n", s[0], s[1], s[2], s[3], s[4], s[5],
	       s[6]);

	long eax = 64; /* i386 getppid */
	long ebx = 0x2001, ecx = 0x2002, edx = 0x2003, esi = 0x2004, edi = 0x2005;
	__asm__ volatile("push %%rbp\n\t"
			 "mov $0x2006, %%ebp\n\t"
			 "int $0x80\n\t"
			 "mov %%rbp, %%r8\n\t"
			 "pop %%rbp"
			 : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx), "+S"(esi), "+D"(edi),
			   "=r"(r8)
			 :
			 : "memory");
	printf("int80 ret %ld regs %lx %lx %lx %lx %lx %lx\n", eax, ebx, ecx, edx, esi, edi,
	       (long)r8);
	return 0;
}
