/*
 * nolibc - a program without any C library.
 *
 * Its _start loops on raw nanosleep system calls.  Built twice: with
 * -nostdlib -static (no interpreter, no libc) and with -nostdlib -pie (the
 * dynamic loader is mapped but libc.so.6 is not).  The inspector must
 * refuse both with "does not use glibc" (exit 2) and leave them running.
 * Build with -fno-stack-protector: there is no TLS for a stack canary.
 */
#include <asm/unistd.h>

struct timespec_raw {
	long sec, nsec;
};

static const char ready[] = "READY\n";
static struct timespec_raw tick = { 0, 10000000 };

static long syscall3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile ("syscall"
			  : "=a" (ret)
			  : "a" (nr), "D" (a), "S" (b), "d" (c)
			  : "rcx", "r11", "memory");
	return ret;
}

void _start(void);

void _start(void)
{
	syscall3(__NR_write, 1, (long)ready, sizeof(ready) - 1);
	for (;;)
		syscall3(__NR_nanosleep, (long)&tick, 0, 0);
}
