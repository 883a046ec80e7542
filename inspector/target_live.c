/*
 * target_live.c - pause a live process, copy what the walkers need, resume.
 *
 * Sequence: PTRACE_SEIZE + PTRACE_INTERRUPT every thread in /proc/PID/task,
 * re-listing until a pass finds every listed thread already held and
 * stopped; read /proc/PID/maps; copy the regions below with
 * process_vm_readv (fallback /proc/PID/mem); read each thread's %fs base
 * with PTRACE_GETREGS; PTRACE_DETACH every thread.  The walkers then run
 * on the copy while the process runs on.
 *
 * A process that changes while we seize it:
 *   - threads created or ending during the passes: a thread that ends
 *     before its stop is forgotten; the passes go on until one finds no
 *     thread it did not hold (a stopped thread creates none);
 *   - the process exits (or is killed): "process N exited while being
 *     inspected";
 *   - another thread execs: the exec kills the threads we hold and may move
 *     the exec'ing thread to the leader's tid.  We reap our dead threads as
 *     we go (see "Reaping"), let everything go, and start over on the new
 *     program, OPEN_ATTEMPTS times at most;
 *   - the main thread has ended (pthread_exit) but others run: its /proc
 *     entries have no memory, so maps and memory are read through a live
 *     thread (reader_thread).
 *
 * What is copied (readable, private mappings only; code and shared file
 * mappings are not heap and are read from their files when needed):
 *   - file-backed data (r-- / rw-): whole;
 *   - anonymous memory, [heap] and [stack]: the pages /proc/PID/pagemap says
 *     are present or swapped, zeros for the rest (what the kernel would
 *     supply), except the body of every glibc mmapped chunk: of those only
 *     the header page is copied, so a 1 GiB array costs 4 KiB.
 *
 * The plan (which pages those are) is made before the pause, from the maps,
 * pagemap and chunk headers as they are then; the destination buffers are
 * faulted in and file mappings read from their files at the same time.  In
 * the pause a mapping's plan is kept if its bounds are the same and every
 * 16 bytes the plan was made from (its witnesses) reads the same; else it
 * is made again there.  So the pause costs the copy, the pagemap and one
 * batched read of the witnesses, not a read per page.
 *
 * Invariants:
 *   - Never writes to the target: no ptrace poke or register-setting
 *     request, no remote memory write of any kind.  A signal that arrived
 *     while we held the thread in a signal-delivery-stop is handed back on
 *     detach.
 *   - The copy is made only while every live thread of the process is
 *     held and stopped.
 *   - Every exit path detaches: normal return, error return (release_all:
 *     also a tracee that had not stopped yet), exit(), fatal signals in the
 *     inspector (handlers detach, then re-raise).  If the inspector is
 *     SIGKILLed the kernel detaches for us.
 *   - Every wait is bounded (STOP_TIMEOUT_MS); nothing blocks on the target
 *     but PTRACE_SEIZE, which the reaping timer keeps from deadlocking.
 *   - A hold (target_live_hold, the REPL's `stop`) keeps every thread
 *     stopped between copies: target_open_live then copies without seizing
 *     again and leaves the threads held; target_live_release, exit() and
 *     the fatal-signal handlers (installed for as long as the hold lasts)
 *     let them go.
 */
#include "config.h"

#include "target.h"
#include "glibc_chunk.h"
#include "pagemap.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096ull
#define MAX_THREADS 65536
#define STOP_TIMEOUT_MS 5000

/* Threads we hold; global so the signal handlers can let them go. */
struct held_thread {
	pid_t tid;
	int pending_signal;		/* to re-inject on detach */
	int stopped;			/* its stop was reported: it cannot run, exec or
					 * exit by itself until we let it go */
	volatile sig_atomic_t ended;	/* reaped by us: it exited or was killed */
	volatile sig_atomic_t fatal;	/* ended by a signal or a nonzero exit status:
					 * the whole process is dying (an exec ends
					 * the other threads with status 0) */
	volatile sig_atomic_t lost;	/* no longer our tracee by this tid: an exec
					 * (see below) gave its task another tid */
};
static struct held_thread held[MAX_THREADS];
static volatile size_t nheld;
static const int fatal_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE,
				     SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
static struct sigaction saved_actions[sizeof fatal_signals / sizeof fatal_signals[0]];
static pid_t hold_pid;	/* >0: a hold keeps every thread of it stopped */

/* Async-signal-safe: only the ptrace system call. */
static void detach_all(void)
{
	while (nheld) {
		size_t i = nheld - 1;
		ptrace(PTRACE_DETACH, held[i].tid, 0, (void *)(long)held[i].pending_signal);
		nheld = i;
	}
}

static void detach_and_reraise(int sig)
{
	detach_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static sigset_t saved_mask;

/* A Ctrl-Z of the inspector must not freeze the target with it. */
static void block_job_control(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTSTP);
	sigaddset(&set, SIGTTIN);
	sigaddset(&set, SIGTTOU);
	sigprocmask(SIG_BLOCK, &set, &saved_mask);
}

static void install_safety_handlers(void)
{
	static int atexit_done;
	struct sigaction sa;
	size_t i;
	if (!atexit_done) {
		atexit(detach_all);
		atexit_done = 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = detach_and_reraise;
	sigfillset(&sa.sa_mask);
	for (i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
		sigaction(fatal_signals[i], &sa, &saved_actions[i]);
	block_job_control();
}

static void restore_handlers(void)
{
	size_t i;
	for (i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
		sigaction(fatal_signals[i], &saved_actions[i], NULL);
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
}

static int is_held(pid_t tid)
{
	size_t i;
	for (i = 0; i < nheld; i++)
		if (held[i].tid == tid && !held[i].ended && !held[i].lost)
			return 1;
	return 0;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The value of field KEY ("State", "TracerPid") of /proc/PID/status into
 * OUT; 0 on success. */
static int proc_status_field(pid_t pid, const char *key, char *out, size_t outlen)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	int found = -1;
	FILE *f;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && found && fgets(line, sizeof line, f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			snprintf(out, outlen, "%s", line + klen + 1 + strspn(line + klen + 1, " \t"));
			found = 0;
		}
	if (f)
		fclose(f);
	return found;
}

static char *permission_message(pid_t pid)
{
	char value[64];
	long scope = -1, tracer = 0;
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
	if (f) {
		if (fscanf(f, "%ld", &scope) != 1)
			scope = -1;
		fclose(f);
	}
	if (proc_status_field(pid, "TracerPid", value, sizeof value) == 0)
		tracer = atol(value);
	if (tracer > 0 && tracer != (long)getpid())
		return xasprintf("cannot attach to %d: permission denied: it is already "
				 "traced by process %ld (a debugger?); detach that first",
				 (int)pid, tracer);
	return xasprintf("cannot attach to %d: permission denied: tracing a process of "
			 "another user needs CAP_SYS_PTRACE (run as root or as its owner), and "
			 "Yama's /proc/sys/kernel/yama/ptrace_scope must allow it (%s)",
			 (int)pid, scope < 0 ? "Yama not present here" :
			 scope == 0 ? "it is 0: classic ptrace permissions" :
			 scope == 1 ? "it is 1: only descendants unless CAP_SYS_PTRACE" :
			 scope == 2 ? "it is 2: CAP_SYS_PTRACE required" :
				      "it is 3: attaching is disabled until reboot");
}

/* Set when a copy ends with exited_message(): target_open_live checks
 * that the process is really gone before saying so. */
static int said_exited;

static char *exited_message(pid_t pid)
{
	said_exited = 1;
	return xasprintf("process %d exited while being inspected", (int)pid);
}

#define PF_EXITING_FLAG 0x4u	/* task flag: in do_exit() */

/* Is thread TID of PID running on: there, not a zombie, not exiting? */
static int thread_alive(pid_t pid, pid_t tid)
{
	char path[96], buf[512], *p, state;
	unsigned flags;
	int fd, n;
	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = (int)read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	/* state ppid pgrp session tty_nr tpgid flags */
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %u", &state, &flags) != 2)
		return 0;
	return state != 'Z' && state != 'X' && state != 'x' && !(flags & PF_EXITING_FLAG);
}

/* Does some thread of PID run on?  A process whose main thread has ended
 * (pthread_exit) lives as long as another thread does. */
static int process_alive(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int alive;
	if (pid <= 0)
		return 0;
	if (thread_alive(pid, pid))
		return 1;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if (!(d = opendir(path)))
		return 0;
	for (alive = 0; !alive && (de = readdir(d));)
		alive = atoi(de->d_name) > 0 && thread_alive(pid, (pid_t)atoi(de->d_name));
	closedir(d);
	return alive;
}

/* The thread whose /proc entries and memory we read: the main thread, or,
 * once that has ended, a held (else any) thread still alive; 0 if none. */
static pid_t reader_thread(pid_t pid)
{
	char path[64];
	struct dirent *de;
	pid_t tid = 0;
	size_t i;
	DIR *d;
	if (thread_alive(pid, pid))
		return pid;
	for (i = 0; i < nheld; i++)
		if (held[i].stopped && !held[i].ended && !held[i].lost)
			return held[i].tid;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if (!(d = opendir(path)))
		return 0;
	while (!tid && (de = readdir(d)))
		if (atoi(de->d_name) > 0 && thread_alive(pid, (pid_t)atoi(de->d_name)))
			tid = (pid_t)atoi(de->d_name);
	closedir(d);
	return tid;
}

/*
 * Reaping.  A traced thread that ends stays a zombie until its tracer
 * reaps it, and an exec (de_thread) waits, holding the target's
 * cred_guard_mutex, until every other thread is reaped.  PTRACE_SEIZE
 * takes that mutex: seizing a thread while an exec waits for a thread we
 * hold would deadlock (kernel behaviour, not a bug of ours to wait out).
 * So ended held threads are reaped as we go: after each pass, while we
 * wait for a stop, and, during a PTRACE_SEIZE that takes longer than
 * REAP_TICK_US, from a SIGALRM handler (the attach restarts by itself
 * after the handler: -ERESTARTNOINTR).
 */
#define REAP_TICK_US 10000

/* Async-signal-safe: only waitid.  Marks held threads that ended (reaped)
 * or are no longer ours by their tid (ECHILD: an exec moved the task to
 * another tid, or released the old leader). */
static void reap_ended_threads(void)
{
	int saved_errno = errno;
	size_t i, n = nheld;
	for (i = 0; i < n; i++) {
		siginfo_t si;
		if (held[i].ended || held[i].lost)
			continue;
		si.si_pid = 0;
		if (waitid(P_PID, (id_t)held[i].tid, &si, WEXITED | WNOHANG | __WALL) == 0) {
			if (si.si_pid != held[i].tid)
				continue;
			held[i].fatal = si.si_code != CLD_EXITED || si.si_status != 0;
			held[i].ended = 1;
		} else if (errno == ECHILD) {
			held[i].lost = 1;
		}
	}
	errno = saved_errno;
}

static void reap_on_tick(int sig)
{
	(void)sig;
	reap_ended_threads();
}

static struct sigaction saved_alarm_action;

static void install_reaper(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = reap_on_tick;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &saved_alarm_action);
}

static void remove_reaper(void)
{
	sigaction(SIGALRM, &saved_alarm_action, NULL);
}

/* PTRACE_SEIZE of TID, reaping from the timer if it blocks. */
static long seize_reaping(pid_t tid)
{
	struct itimerval tick = { { 0, REAP_TICK_US }, { 0, REAP_TICK_US } }, off;
	long r;
	int saved_errno;
	memset(&off, 0, sizeof off);
	setitimer(ITIMER_REAL, &tick, NULL);
	r = ptrace(PTRACE_SEIZE, tid, 0, 0);
	saved_errno = errno;
	setitimer(ITIMER_REAL, &off, NULL);
	errno = saved_errno;
	return r;
}

/* Is TID already traced by us (the task an exec gave a new tid)? */
static int traced_by_us(pid_t tid)
{
	char value[64];
	return proc_status_field(tid, "TracerPid", value, sizeof value) == 0 &&
	       atol(value) == (long)getpid();
}

/* Wait until H reports its stop.  Returns 0 if it stopped, 1 if it ended
 * or was lost first, or -1 with *ERR set. */
static int wait_for_stop(pid_t pid, struct held_thread *h, char **err)
{
	struct timespec t0;
	unsigned polls = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int status;
		pid_t r = waitpid(h->tid, &status, __WALL | WNOHANG);
		if (r == h->tid && WIFSTOPPED(status)) {
			/* With PTRACE_SEIZE every event-0 stop is a real
			 * signal-delivery-stop (SIGTRAP and SIGSTOP included):
			 * hand the signal back on detach. */
			if ((status >> 16) == 0)
				h->pending_signal = WSTOPSIG(status);
			h->stopped = 1;
			return 0;
		}
		if (r == h->tid) {	/* exited or killed before it stopped */
			h->fatal = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
			h->ended = 1;
		} else if (r < 0 && errno == ECHILD) {
			h->lost = !h->ended;	/* reaped meanwhile, or its tid changed */
		} else if (r < 0 && errno != EINTR) {
			*err = xasprintf("cannot wait for thread %d of process %d: %s", (int)h->tid,
					 (int)pid, strerror(errno));
			return -1;
		}
		if (h->ended || h->lost)
			return 1;
		if (ms_since(&t0) > STOP_TIMEOUT_MS) {
			*err = xasprintf("thread %d of process %d did not stop within %d ms "
					 "(uninterruptible sleep?)", (int)h->tid, (int)pid,
					 STOP_TIMEOUT_MS);
			return -1;
		}
		if (++polls % 50 == 0) {	/* every 10 ms */
			reap_ended_threads();	/* an exec may wait for us */
			/* a main thread that ended while others run stays a
			 * zombie that reports nothing until the last one ends */
			if (h->tid == pid && !thread_alive(pid, pid))
				h->ended = 1;
		}
		usleep(200);
	}
}

#define EPERM_RETRIES 5

/* PTRACE_SEIZE of TID.  Returns 1 if it is ours (newly, or already: the
 * task an exec moved to this tid), 0 if it ended meanwhile, -1 with *ERR
 * set.  EPERM is retried: a thread an exec is killing, or the old leader
 * an exec replaces, refuses for a moment. */
static int attach_thread(pid_t pid, pid_t tid, char **err)
{
	int attempt;
	for (attempt = 0; seize_reaping(tid) < 0; attempt++) {
		int e = errno;
		if (e == ESRCH || (e == EPERM && !thread_alive(pid, tid)))
			return 0;
		if (e == EPERM && traced_by_us(tid))
			return 1;
		if (e != EPERM) {
			*err = xasprintf("cannot attach to %d: %s", (int)pid, strerror(e));
			return -1;
		}
		if (attempt == EPERM_RETRIES) {
			*err = process_alive(pid) ? permission_message(pid) : exited_message(pid);
			return -1;
		}
		sleep_ms(1);
	}
	return 1;
}

enum seized { SEIZE_FAILED = -1, SEIZE_ZOMBIE_LEADER, SEIZE_HELD, SEIZE_ENDED };

/* Seize and interrupt TID.  SEIZE_HELD: held and stopped; SEIZE_ENDED: it
 * ended (or was lost) first, having run during this pass;
 * SEIZE_ZOMBIE_LEADER: TID is the main thread, ended for good (the others
 * may run on); SEIZE_FAILED: *ERR set. */
static enum seized seize_thread(pid_t pid, pid_t tid, char **err)
{
	int r;
	if (nheld >= MAX_THREADS) {
		*err = xasprintf("process %d has more than %d threads", (int)pid, MAX_THREADS);
		return SEIZE_FAILED;
	}
	if ((r = attach_thread(pid, tid, err)) < 0)
		return SEIZE_FAILED;
	if (r == 0)
		return tid == pid ? SEIZE_ZOMBIE_LEADER : SEIZE_ENDED;
	held[nheld] = (struct held_thread){ tid, 0, 0, 0, 0, 0 };
	nheld++;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0 && errno != ESRCH) {
		*err = xasprintf("cannot interrupt thread %d: %s", (int)tid, strerror(errno));
		return SEIZE_FAILED;
	}
	r = wait_for_stop(pid, &held[nheld - 1], err);
	return r < 0 ? SEIZE_FAILED : r == 0 ? SEIZE_HELD : SEIZE_ENDED;
}

/* One pass over /proc/PID/task: seize every thread not held yet.  Returns
 * how many threads that were not held ran during the pass (newly stopped,
 * or ended meanwhile: either may have created a thread the listing
 * missed), or -1 with *ERR set. */
static int seize_pass(pid_t pid, char **err)
{
	char path[64];
	struct dirent *de;
	int found = 0;
	DIR *d;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if (!(d = opendir(path))) {
		*err = nheld ? exited_message(pid) : xasprintf("no such process: %d", (int)pid);
		return -1;
	}
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		enum seized r;
		if (tid <= 0 || is_held(tid))
			continue;
		if ((r = seize_thread(pid, tid, err)) == SEIZE_FAILED) {
			closedir(d);
			return -1;
		}
		found += r != SEIZE_ZOMBIE_LEADER;
	}
	closedir(d);
	return found;
}

/* What the held threads that are gone say about the process. */
enum gone {
	GONE_NONE,		/* none, or only threads that ended before they stopped */
	GONE_AMBIGUOUS,		/* a stopped one ended with status 0: exit(0), or an exec */
	GONE_EXEC,		/* one was lost: its task changed tid, only an exec does that */
	GONE_DYING		/* one ended by a signal or a nonzero status */
};

/* Drop the held threads that ended or were lost (none can be detached),
 * and say what that means: a stopped thread cannot end by itself, so only
 * an exit of the whole process or an exec by another thread ends it. */
static enum gone forget_ended_threads(void)
{
	enum gone verdict = GONE_NONE, g;
	size_t i, kept = 0;
	reap_ended_threads();
	for (i = 0; i < nheld; i++) {
		if (!held[i].ended && !held[i].lost) {
			held[kept++] = held[i];
			continue;
		}
		g = held[i].fatal ? GONE_DYING : held[i].lost ? GONE_EXEC :
		    held[i].stopped ? GONE_AMBIGUOUS : GONE_NONE;
		if (g > verdict)
			verdict = g;
	}
	nheld = kept;
	return verdict;
}

enum stop_result { STOP_FAILED = -1, STOP_DONE = 0, STOP_EXEC = 1 };

#define SETTLE_POLLS 100	/* 1 ms apart */
#define DEAD_POLLS 3		/* dead on this many polls in a row: it exited */
#define ALIVE_POLLS 10		/* alive on this many in a row: it exec'd */

/* A stopped thread ended with status 0: the process exited, or another
 * thread exec'd.  An exiting process is dead (every thread a zombie or
 * exiting) within moments and stays so; an exec'ing one lives on, though
 * /proc may show no live thread for an instant while the exec swaps tids.
 * So decide on a run of polls that agree. */
static enum stop_result exit_or_exec(pid_t pid, char **err)
{
	int i, dead = 0, alive = 0;
	for (i = 0; i < SETTLE_POLLS; i++) {
		if (process_alive(pid)) {
			dead = 0;
			if (++alive == ALIVE_POLLS)
				return STOP_EXEC;
		} else {
			alive = 0;
			if (++dead == DEAD_POLLS)
				break;
		}
		sleep_ms(1);
	}
	if (dead < DEAD_POLLS)
		return STOP_EXEC;
	*err = exited_message(pid);
	return STOP_FAILED;
}

/* The STOP_ result for what forget_ended_threads found. */
static enum stop_result judge_gone(pid_t pid, enum gone g, char **err)
{
	switch (g) {
	case GONE_NONE:
		return STOP_DONE;
	case GONE_EXEC:
		return STOP_EXEC;
	case GONE_DYING:
		*err = exited_message(pid);
		return STOP_FAILED;
	default:
		return exit_or_exec(pid, err);
	}
}

/* Every thread of PID stopped.  Passes over /proc/PID/task repeat until
 * one finds every listed thread already held: all threads are then
 * stopped, and a stopped thread can neither create a thread nor exec, so
 * none can appear after.  Threads ending while we seize them are normal
 * (thread_churn); a stopped one ending means an exit or an exec. */
static enum stop_result stop_all_threads(pid_t pid, char **err)
{
	enum stop_result res = STOP_DONE;
	int passes = 0, found = 1;
	install_reaper();
	while (found) {
		found = seize_pass(pid, err);
		if (found < 0) {
			res = STOP_FAILED;
			break;
		}
		if ((res = judge_gone(pid, forget_ended_threads(), err)) != STOP_DONE)
			break;
		if (++passes > 1000) {
			*err = xasprintf("process %d keeps creating threads; cannot stop it",
					 (int)pid);
			res = STOP_FAILED;
			break;
		}
	}
	remove_reaper();
	if (res == STOP_DONE && !nheld) {
		*err = exited_message(pid);
		res = STOP_FAILED;
	}
	return res;
}

/* Let go of everything: the held threads, and any tracee of ours that had
 * not stopped yet (an exec'ing thread we seized under its former tid
 * stops later as PID).  Bounded: STOP_TIMEOUT_MS. */
static void release_all(pid_t pid)
{
	struct timespec t0;
	reap_ended_threads();
	detach_all();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < STOP_TIMEOUT_MS) {
		int status;
		pid_t r = waitpid(-1, &status, __WALL | WNOHANG);
		if (r < 0 && errno != EINTR)
			return;		/* ECHILD: no tracee left */
		if (r > 0 && WIFSTOPPED(status))
			ptrace(PTRACE_DETACH, r, 0,
			       (void *)(long)((status >> 16) ? 0 : WSTOPSIG(status)));
		if (r == 0) {	/* a tracee still running: only PID can be one */
			if (!traced_by_us(pid))
				return;
			ptrace(PTRACE_INTERRUPT, pid, 0, 0);
			usleep(200);
		}
	}
}

static char *read_text_file(const char *path)
{
	size_t len = 0, cap = 65536;
	char *buf = xmalloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 4096)
			buf = xrealloc(buf, cap *= 2);
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

/* Copier: process_vm_readv with fallback to /proc/PID/mem. */
struct copier {
	pid_t pid;
	int memfd;		/* -1 until needed */
	int use_memfd;
};

static int copy_span(struct copier *c, uint64_t addr, unsigned char *out, size_t len)
{
	while (len) {
		ssize_t n;
		if (!c->use_memfd) {
			struct iovec local = { out, len };
			struct iovec remote = { (void *)(uintptr_t)addr, len };
			n = process_vm_readv(c->pid, &local, 1, &remote, 1, 0);
			if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
				c->use_memfd = 1;
				continue;
			}
		} else {
			if (c->memfd < 0) {
				char path[64];
				snprintf(path, sizeof path, "/proc/%d/mem", (int)c->pid);
				c->memfd = open(path, O_RDONLY | O_CLOEXEC);
				if (c->memfd < 0)
					return -1;
			}
			n = pread(c->memfd, out, len, (off_t)addr);
		}
		if (n <= 0)
			return -1;
		addr += (uint64_t)n;
		out += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A run of pages of one mapping to copy. */
struct span {
	uint64_t start, end;
};

/* 16 bytes of the process that a plan relies on: a chunk header. */
struct witness {
	uint64_t addr;
	uint64_t words[2];
};

/* How to copy one mapping: the spans to copy (the rest are bodies of glibc
 * mmapped chunks), and every 16 bytes read to find those bodies (their
 * headers, and where memalign could have moved a header to).  A plan made
 * before the pause still holds during it if every witness reads the same:
 * then the pause costs one batched read, not one per page. */
struct plan {
	struct span *spans;
	size_t nspans, spans_cap;
	struct witness *witnesses;
	size_t nwitnesses, witnesses_cap;
	int unverifiable;	/* a read failed: the plan cannot be checked */
};

/* A destination buffer for one mapping: anonymous memory the size of the
 * mapping, so untouched pages read as zero and cost nothing.  For a file
 * mapping, its first FILE_PAGES pages were read from the file before the
 * pause: only those the process has its own copy of are then copied. */
struct dest {
	uint64_t start, end;
	unsigned char *buf;
	size_t file_pages;
	struct plan plan;	/* made before the pause */
};

static unsigned char *map_buffer(struct target *t, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		warnx_("out of memory for a %zu-byte copy", len);
		exit(2);	/* exit handlers detach */
	}
	target_own_mapping(t, p, len);
	return p;
}

/* Is page I to be copied from the process?  Not if pagemap says it has no
 * contents of its own: reading it would fault it in there (the zero page
 * into anonymous memory, the file's page into a file mapping's RSS). */
static int page_wanted(const uint64_t *pagemap, size_t i)
{
	return !pagemap || pagemap_has_contents(pagemap[i]);
}

/* Fault in BUF's pages for the wanted pages of [start,end) of the mapping
 * at MAP_START, so that copying into them during the pause costs no page
 * faults on our side. */
static void prefault(unsigned char *buf, uint64_t map_start, uint64_t start, uint64_t end,
		     const uint64_t *pagemap)
{
	size_t i = (start - map_start) / PAGE, last = (end - map_start) / PAGE;
	while (i < last) {
		size_t j = i;
		if (!page_wanted(pagemap, i)) {
			i++;
			continue;
		}
		while (j < last && page_wanted(pagemap, j))
			j++;
#ifdef MADV_POPULATE_WRITE
		if (madvise(buf + i * PAGE, (j - i) * PAGE, MADV_POPULATE_WRITE) == 0) {
			i = j;
			continue;
		}
#endif
		for (; i < j; i++)
			((volatile unsigned char *)buf)[i * PAGE] = 0;
	}
}

/* Copy the wanted pages of [start,end) into BUF (which mirrors the mapping
 * at MAP_START) and add the readable runs as regions.  A span that fails is
 * retried page by page; unreadable pages are left out, never invented. */
static void copy_range(struct target *t, struct copier *c, unsigned char *buf,
		       uint64_t map_start, uint64_t start, uint64_t end,
		       const uint64_t *pagemap)
{
	size_t first = (start - map_start) / PAGE, last = (end - map_start) / PAGE, i = first;
	unsigned char *ok = xcalloc(last - first + 1, 1);
	while (i < last) {
		size_t j = i;
		int want = page_wanted(pagemap, i);
		while (j < last && page_wanted(pagemap, j) == want)
			j++;
		if (!want || copy_span(c, map_start + i * PAGE, buf + i * PAGE, (j - i) * PAGE) == 0)
			memset(ok + (i - first), 1, j - i);
		else
			for (size_t k = i; k < j; k++)
				ok[k - first] = copy_span(c, map_start + k * PAGE, buf + k * PAGE,
							  PAGE) == 0;
		i = j;
	}
	for (i = first; i < last;) {
		size_t j = i;
		if (!ok[i - first]) {
			i++;
			continue;
		}
		while (j < last && ok[j - first])
			j++;
		target_add_region(t, map_start + i * PAGE, map_start + j * PAGE, buf + i * PAGE);
		i = j;
	}
	free(ok);
}

/* Read the first 16 bytes of every wanted page of M in batched iovecs. */
static uint64_t (*read_page_headers(struct copier *c, const struct target_mapping *m,
				    const uint64_t *pagemap))[2]
{
	size_t npages = (m->end - m->start) / PAGE, i = 0;
	uint64_t (*hdr)[2] = xcalloc(npages, sizeof *hdr);
	struct iovec local[1024], remote[1024];
	while (i < npages) {
		size_t n = 0, first = i;
		for (; i < npages && n < 1024; i++) {
			if (!page_wanted(pagemap, i))
				continue;
			local[n] = (struct iovec){ hdr[i], 16 };
			remote[n] = (struct iovec){ (void *)(uintptr_t)(m->start + i * PAGE), 16 };
			n++;
		}
		if (n && !c->use_memfd &&
		    process_vm_readv(c->pid, local, n, remote, n, 0) == (ssize_t)(n * 16))
			continue;
		for (size_t k = first; k < i; k++)	/* fallback: one by one */
			if (page_wanted(pagemap, k))
				copy_span(c, m->start + k * PAGE, (unsigned char *)hdr[k], 16);
	}
	return hdr;
}

static void add_span(struct plan *p, uint64_t start, uint64_t end)
{
	*ARRAY_PUSH(p->spans, p->nspans, p->spans_cap) = (struct span){ start, end };
}

static void add_witness(struct plan *p, struct witness w)
{
	*ARRAY_PUSH(p->witnesses, p->nwitnesses, p->witnesses_cap) = w;
}

static void plan_free(struct plan *p)
{
	free(p->spans);
	free(p->witnesses);
	*p = (struct plan){ 0 };
}

/* For an mmapped chunk at PAGE spanning LEN bytes (header HDR0): the
 * address of its real header if memalign moved it (see glibc_chunk.h),
 * else 0.  Every place looked at becomes a witness of plan P: a plain
 * chunk and a memaligned one of the same span have the same HDR0. */
static uint64_t memaligned_header(struct copier *c, const struct target_mapping *m,
				  const uint64_t *pagemap, uint64_t page, uint64_t len,
				  const uint64_t hdr0[2], struct plan *p)
{
	uint64_t offs[64], words[64][2] = { { 0 } }, found = 0;
	uint64_t tail = len - (hdr0[0] + (hdr0[1] & ~CHUNK_FLAGS));
	struct iovec local[64], remote[64];
	unsigned i, k = 0, n;
	if (hdr0[0] != 0)
		return 0;	/* already the moved header */
	n = mmapped_memalign_offsets(page, len, offs);
	for (i = 0; i < n; i++) {
		/* a page without contents reads as zeros: not read (that
		 * would fault it in), and no header */
		if (!page_wanted(pagemap, (page + offs[i] - m->start) / PAGE))
			continue;
		local[k] = (struct iovec){ words[i], 16 };
		remote[k] = (struct iovec){ (void *)(uintptr_t)(page + offs[i]), 16 };
		k++;
	}
	if (k && process_vm_readv(c->pid, local, k, remote, k, 0) != (ssize_t)(k * 16)) {
		p->unverifiable = 1;
		return 0;
	}
	for (i = 0; i < n; i++) {
		add_witness(p, (struct witness){ page + offs[i], { words[i][0], words[i][1] } });
		if (!found && is_memaligned_header(offs[i], words[i][0], words[i][1], len, tail))
			found = page + offs[i];
	}
	return found;
}

/* Plan anonymous mapping M: all of it but the bodies of glibc mmapped
 * chunks (their header page is kept, and the page of the real header of a
 * memaligned one). */
static void plan_anonymous(struct copier *c, const struct target_mapping *m,
			   const uint64_t *pagemap, struct plan *p)
{
	uint64_t (*hdr)[2] = read_page_headers(c, m, pagemap);
	size_t npages = (m->end - m->start) / PAGE, i = 0;
	uint64_t run = m->start, moved;
	while (i < npages) {
		uint64_t page = m->start + i * PAGE;
		/* any glibc version: tail 0, or 16 from 2.43 on */
		uint64_t len = mmapped_chunk_span(hdr[i][0], hdr[i][1], page, m->end, PAGE, 0);
		if (!len)
			len = mmapped_chunk_span(hdr[i][0], hdr[i][1], page, m->end, PAGE, 16);
		if (!len) {
			i++;
			continue;
		}
		add_span(p, run, page + PAGE);
		add_witness(p, (struct witness){ page, { hdr[i][0], hdr[i][1] } });
		moved = memaligned_header(c, m, pagemap, page, len, hdr[i], p) & ~(PAGE - 1);
		if (moved > page)
			add_span(p, moved, moved + PAGE);
		run = page + len;
		i += len / PAGE;
	}
	if (run < m->end)
		add_span(p, run, m->end);
	free(hdr);
}

/* Does the file mapped at M start with the ELF magic?  Decided by the
 * first mapping of the same file (its offset-0 one), read from the file. */
static int is_elf_file_mapping(const struct target *t, const struct target_mapping *m)
{
	char magic[4];
	size_t i;
	int fd, elf;
	const char *path = m->path;
	for (i = 0; i < t->nmaps; i++)
		if (t->maps[i].inode == m->inode && !strcmp(t->maps[i].path, path) &&
		    t->maps[i].offset == 0 && (t->maps[i].prot & TARGET_PROT_EXEC))
			return 1;	/* a mapped executable or library */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	elf = pread(fd, magic, 4, 0) == 4 && !memcmp(magic, "\177ELF", 4);
	close(fd);
	return elf;
}

static int is_special(const char *path)
{
	return !strcmp(path, "[vvar]") || !strcmp(path, "[vsyscall]") ||
	       !strcmp(path, "[vdso]") || !strcmp(path, "[vvar_vclock]");
}

static int is_anonymous(const struct target_mapping *m)
{
	return !m->path[0] || m->path[0] == '[';
}

/* Anonymous memory, and the data (not code) of ELF files: their .data,
 * .bss and .rodata hold allocator state, type objects and names.  Other
 * read-only file mappings (locale archives, mapped data files) are not
 * copied: they can be huge and hold no heap. */
static int should_copy(const struct target_mapping *m, const struct target *t)
{
	if (!(m->prot & TARGET_PROT_READ) || m->shared || is_special(m->path))
		return 0;
	if (is_anonymous(m))
		return 1;
	return !(m->prot & TARGET_PROT_EXEC) &&
	       ((m->prot & TARGET_PROT_WRITE) || is_elf_file_mapping(t, m));
}

/* M's pagemap if it is anonymous memory (whose pages are copied only if
 * they have contents), else NULL. */
static uint64_t *anonymous_pagemap(struct copier *c, const struct target_mapping *m)
{
	return is_anonymous(m) ? pagemap_read(c->pid, m->start, m->end) : NULL;
}

/* Plan the copy of M (PAGEMAP: see anonymous_pagemap). */
static void plan_mapping(struct copier *c, const struct target_mapping *m,
			 const uint64_t *pagemap, struct plan *p)
{
	*p = (struct plan){ 0 };
	if (!is_anonymous(m) || (m->path[0] && strncmp(m->path, "[anon:", 6)))
		/* files, [heap], [stack]: never hold mmapped chunks ([anon:...] may) */
		add_span(p, m->start, m->end);
	else
		plan_anonymous(c, m, pagemap, p);
}

/* Does plan P of M still hold: does every witness read the same now?  On
 * a page without contents it reads as zeros and is not read. */
static int plan_still_holds(struct copier *c, const struct target_mapping *m,
			    const uint64_t *pagemap, const struct plan *p)
{
	struct iovec local[1024], remote[1024];
	uint64_t words[1024][2];
	const struct witness *read[1024];
	size_t i = 0, k, n;
	if (!p->spans || p->unverifiable)
		return 0;
	while (i < p->nwitnesses) {
		for (n = 0; i < p->nwitnesses && n < 1024; i++) {
			const struct witness *w = &p->witnesses[i];
			if (w->addr < m->start || w->addr + 16 > m->end)
				return 0;
			if (!page_wanted(pagemap, (w->addr - m->start) / PAGE)) {
				if (w->words[0] || w->words[1])
					return 0;
				continue;
			}
			read[n] = w;
			local[n] = (struct iovec){ words[n], 16 };
			remote[n] = (struct iovec){ (void *)(uintptr_t)w->addr, 16 };
			n++;
		}
		if (n && process_vm_readv(c->pid, local, n, remote, n, 0) != (ssize_t)(n * 16))
			return 0;
		for (k = 0; k < n; k++)
			if (memcmp(words[k], read[k]->words, 16))
				return 0;
	}
	return 1;
}

/* Read file mapping M from its file into BUF (before the pause: the file
 * gives what the process would read in every page it has not written or
 * faulted in).  Returns how many leading pages now hold that (the page the
 * file ends in counts: the kernel zero-fills its tail), 0 if the file at
 * M's path is not the one mapped. */
static size_t read_mapped_file(unsigned char *buf, const struct target_mapping *m)
{
	size_t len = m->end - m->start, done = 0;
	struct stat st;
	ssize_t n = 0;
	int fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_ino != m->inode) {
		close(fd);
		return 0;
	}
	while (done < len && (n = pread(fd, buf + done, len - done, (off_t)(m->offset + done))) > 0)
		done += (size_t)n;
	close(fd);
	return n == 0 ? (done + PAGE - 1) / PAGE : done / PAGE;	/* EOF, or an error */
}

/* Before the pause: one destination per mapping we expect to copy, with
 * the pages we expect to fill already faulted in, and file mappings read
 * from their files. */
static struct dest *prepare_destinations(struct target *t, struct copier *c,
					 const struct target *pre, size_t *ndest)
{
	struct dest *d = xcalloc(pre->nmaps ? pre->nmaps : 1, sizeof *d);
	size_t i, k, n = 0;
	for (i = 0; i < pre->nmaps; i++) {
		const struct target_mapping *m = &pre->maps[i];
		uint64_t *pagemap;
		struct plan *p = &d[n].plan;
		if (!should_copy(m, pre))
			continue;
		d[n] = (struct dest){ m->start, m->end, map_buffer(t, m->end - m->start), 0,
				      { 0 } };
		if (!is_anonymous(m))
			d[n].file_pages = read_mapped_file(d[n].buf, m);
		pagemap = anonymous_pagemap(c, m);
		plan_mapping(c, m, pagemap, p);
		for (k = 0; k < p->nspans; k++)
			prefault(d[n].buf, m->start, p->spans[k].start + d[n].file_pages * PAGE,
				 p->spans[k].end, pagemap);
		free(pagemap);
		n++;
	}
	*ndest = n;
	return d;
}

/* The buffer prepared for M (with how many of its pages were read from
 * its file, and the plan made for it), or a new one with no plan. */
static unsigned char *destination_for(struct target *t, struct dest *d, size_t ndest,
				      const struct target_mapping *m, size_t *file_pages,
				      struct plan *plan)
{
	size_t i;
	*file_pages = 0;
	*plan = (struct plan){ 0 };
	for (i = 0; i < ndest; i++)
		if (d[i].start == m->start && d[i].end == m->end && d[i].buf) {
			unsigned char *buf = d[i].buf;
			d[i].buf = NULL;
			if (!is_anonymous(m))
				*file_pages = d[i].file_pages;
			*plan = d[i].plan;
			d[i].plan = (struct plan){ 0 };
			return buf;
		}
	return map_buffer(t, m->end - m->start);
}

/* Copy file mapping M into BUF, whose first FILE_PAGES pages already hold
 * the file: of those only the pages the process has its own copy of (or
 * the file page faulted in, which is the same); all of the rest.  Returns
 * M's pagemap, or NULL if unreadable (everything is then copied). */
static uint64_t *copy_file_mapping(struct target *t, struct copier *c, unsigned char *buf,
				   const struct target_mapping *m, size_t file_pages)
{
	uint64_t *pagemap = pagemap_read(c->pid, m->start, m->end);
	uint64_t split = pagemap ? m->start + file_pages * PAGE : m->start;
	if (split > m->start)
		copy_range(t, c, buf, m->start, m->start, split, pagemap);
	if (split < m->end)
		copy_range(t, c, buf, m->start, split, m->end, NULL);
	return pagemap;
}

#define PAGEMAP_PIECE (1u << 20)	/* entries read at a time: 8 MiB */

/* Set BITS for the resident private anonymous pages among entries
 * [FIRST, FIRST + N) of PAGEMAP. */
static void mark_resident(uint8_t *bits, const uint64_t *pagemap, size_t first, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (pagemap_counts_in_rss_anon(pagemap[i]))
			bits[(first + i) / 8] |= (uint8_t)(1u << ((first + i) % 8));
}

/* Which pages of M are resident private anonymous memory, from its
 * pagemap (PAGEMAP may be NULL: it is then read here, in pieces, so a
 * huge sparse mapping costs one bit per page, not eight bytes). */
static void record_residency(struct target *t, struct copier *c, const struct target_mapping *m,
			     const uint64_t *pagemap)
{
	size_t npages = (m->end - m->start) / PAGE, done;
	struct target_residency *r;
	uint8_t *bits;
	if (!m->prot)
		return;	/* PROT_NONE reservations hold nothing resident */
	bits = xcalloc(npages / 8 + 1, 1);
	if (pagemap) {
		mark_resident(bits, pagemap, 0, npages);
	} else {
		for (done = 0; done < npages; done += PAGEMAP_PIECE) {
			size_t n = npages - done < PAGEMAP_PIECE ? npages - done : PAGEMAP_PIECE;
			uint64_t start = m->start + done * PAGE, *pm;
			if (!(pm = pagemap_read(c->pid, start, start + n * PAGE))) {
				free(bits);
				return;
			}
			mark_resident(bits, pm, done, n);
			free(pm);
		}
	}
	r = ARRAY_PUSH(t->residency, t->nresidency, t->residency_cap);
	*r = (struct target_residency){ m->start, m->end, bits };
}

/* RssAnon of /proc/PID/status, in bytes (0 if unreadable). */
static uint64_t read_rss_anon(pid_t pid)
{
	char value[64];
	unsigned long long kb;
	if (proc_status_field(pid, "RssAnon", value, sizeof value) < 0 ||
	    sscanf(value, "%llu", &kb) != 1)
		return 0;
	return (uint64_t)kb * 1024;
}

/* During the pause: copy M into its destination, by the plan made before
 * the pause if it still holds, else by a new one.  Returns M's pagemap if
 * it was read (for the residency), else NULL. */
static uint64_t *copy_mapping(struct target *t, struct copier *c, struct dest *d, size_t ndest,
			      const struct target_mapping *m)
{
	uint64_t *pagemap;
	struct plan plan;
	size_t k, file_pages;
	unsigned char *buf = destination_for(t, d, ndest, m, &file_pages, &plan);
	if (file_pages) {
		plan_free(&plan);
		return copy_file_mapping(t, c, buf, m, file_pages);
	}
	pagemap = anonymous_pagemap(c, m);
	if (plan.spans)
		t->plans_made++;
	else
		t->plans_missing++;
	if (plan_still_holds(c, m, pagemap, &plan)) {
		t->plans_held++;
	} else {
		plan_free(&plan);
		plan_mapping(c, m, pagemap, &plan);
	}
	for (k = 0; k < plan.nspans; k++)
		copy_range(t, c, buf, m->start, plan.spans[k].start, plan.spans[k].end, pagemap);
	plan_free(&plan);
	return pagemap;
}

/* During the pause: copy every mapping (see copy_mapping) and note the
 * residency of every private mapping. */
static void copy_mappings(struct target *t, struct copier *c, struct dest *d, size_t ndest)
{
	size_t i;
	t->have_residency = t->residency_owned = 1;
	for (i = 0; i < t->nmaps; i++) {
		const struct target_mapping *m = &t->maps[i];
		uint64_t *pagemap = should_copy(m, t) ? copy_mapping(t, c, d, ndest, m) : NULL;
		if (!m->shared && !is_special(m->path))
			record_residency(t, c, m, pagemap);
		free(pagemap);
	}
	t->rss_anon = read_rss_anon(c->pid);
}

/* Destinations prepared for mappings that were gone at the pause. */
static void release_unused(struct dest *d, size_t ndest)
{
	size_t i;
	for (i = 0; i < ndest; i++) {
		if (d[i].buf)
			madvise(d[i].buf, d[i].end - d[i].start, MADV_DONTNEED);
		plan_free(&d[i].plan);
	}
	free(d);
}

static void read_thread_pointers(struct target *t)
{
	size_t i;
	t->threads = xcalloc(nheld, sizeof *t->threads);
	for (i = 0; i < nheld; i++) {
		struct user_regs_struct regs;
		t->threads[i].tid = held[i].tid;
		if (ptrace(PTRACE_GETREGS, held[i].tid, 0, &regs) == 0)
			t->threads[i].fs_base = regs.fs_base;
	}
	t->nthreads = nheld;
}

/* The state letter of /proc/PID/status ('R', 'S', 'Z', ...), or 0. */
static char process_state(pid_t pid)
{
	char value[64];
	return proc_status_field(pid, "State", value, sizeof value) == 0 ? value[0] : 0;
}

/* Did the pause catch a program its dynamic loader is still starting (as
 * right after an exec): its only thread running the loader's code?  Then
 * libc may be unmapped, half mapped or not relocated yet.  (It may also be
 * a lazy binding or a dlopen: a retry costs little.)  Call while held. */
static int paused_in_loader(const struct target *t)
{
	struct user_regs_struct regs;
	const struct target_mapping *m;
	const char *base;
	if (nheld != 1 || ptrace(PTRACE_GETREGS, held[0].tid, 0, &regs) < 0)
		return 0;
	m = target_mapping_at(t, regs.rip);
	if (!m || !(m->prot & TARGET_PROT_EXEC))
		return 0;
	base = strrchr(m->path, '/');
	return !strncmp(base ? base + 1 : m->path, "ld-linux", 8);
}

/* Is PID one we can seize: alive, not a zombie, not ourselves? */
static int check_seizable(pid_t pid, char **err)
{
	if (pid <= 0 || !process_state(pid))
		*err = xasprintf("no such process: %d", (int)pid);
	else if (!process_alive(pid))
		*err = xasprintf("process %d has exited (a zombie waiting for its parent): "
				 "no memory left to inspect", (int)pid);
	else if (pid == getpid())
		*err = xasprintf("cannot inspect myself (pid %d)", (int)pid);
	else
		return 0;
	return -1;
}

#define OPEN_ATTEMPTS 5	/* pauses an exec may cut short before we give up */

static char *keeps_execing_message(pid_t pid)
{
	return xasprintf("process %d keeps executing new programs (execve): %d attempts "
			 "to pause it were each cut short by an exec", (int)pid, OPEN_ATTEMPTS);
}

/* /proc/TID/maps into T (maps_text and maps); 0, or -1 with *ERR set. */
static int read_maps(struct target *t, pid_t pid, pid_t tid, char **err)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)tid);
	t->maps_text = tid > 0 ? read_text_file(path) : NULL;
	if (!t->maps_text || !*t->maps_text) {
		*err = exited_message(pid);
		return -1;
	}
	if (target_parse_maps(t, t->maps_text) < 0) {
		*err = xasprintf("cannot parse /proc/%d/maps", (int)pid);
		return -1;
	}
	return 0;
}

static char *read_exe_link(pid_t tid)
{
	char path[64], exe[4096];
	ssize_t n;
	snprintf(path, sizeof path, "/proc/%d/exe", (int)tid);
	n = readlink(path, exe, sizeof exe - 1);
	return xstrdup(n > 0 ? (exe[n] = 0, exe) : "");
}

#define MAPS_READS 4	/* tries at reading the maps of a running process */

/* The maps of running process PID as read through thread TID, or NULL.
 * A process that maps and unmaps while its maps are read (a page at a
 * time) can give lines that overlap: read again. */
static struct target *read_running_maps(pid_t tid)
{
	char path[64];
	int i;
	snprintf(path, sizeof path, "/proc/%d/maps", (int)tid);
	for (i = 0; tid > 0 && i < MAPS_READS; i++) {
		struct target *pre = xcalloc(1, sizeof *pre);
		pre->maps_text = read_text_file(path);
		if (pre->maps_text && target_parse_maps(pre, pre->maps_text) == 0)
			return pre;
		target_free(pre);
	}
	return NULL;
}

/* Before the pause: destinations for the copy, from the maps as they are
 * now (see prepare_destinations). */
static struct dest *prepare_copy(struct target *t, pid_t pid, size_t *ndests)
{
	struct copier c = { reader_thread(pid), -1, 0 };
	struct target *pre = read_running_maps(c.pid);
	struct dest *dests = NULL;
	*ndests = 0;
	if (pre) {
		dests = prepare_destinations(t, &c, pre, ndests);
		target_free(pre);
	}
	if (c.memfd >= 0)
		close(c.memfd);
	return dests;
}

/* During the pause: exe, maps, memory and thread pointers, read through a
 * live thread (reader_thread). */
static int copy_paused(struct target *t, pid_t pid, struct dest *dests, size_t ndests,
		       char **err)
{
	struct copier c = { reader_thread(pid), -1, 0 };
	int r = -1;
	free(t->exe);
	t->exe = read_exe_link(c.pid);	/* now: an exec may have changed it */
	if (read_maps(t, pid, c.pid, err) == 0) {
		copy_mappings(t, &c, dests, ndests);
		read_thread_pointers(t);
		r = 0;
	}
	if (c.memfd >= 0)
		close(c.memfd);
	return r;
}

enum again { AGAIN_NO, AGAIN_EXEC, AGAIN_LOADER };

/* One pause and copy.  NULL with *AGAIN set if an exec cut it short
 * (AGAIN_EXEC), or, unless ACCEPT_LOADER, if it caught a program in its
 * dynamic loader (AGAIN_LOADER): try again. */
static struct target *open_live_once(pid_t pid, int reuse, int accept_loader,
				     enum again *again, char **err)
{
	struct target *t = xcalloc(1, sizeof *t);
	struct timespec t0;
	struct dest *dests;
	size_t ndests;
	enum stop_result stop = STOP_DONE;
	int in_loader;

	t->kind = TARGET_LIVE;
	t->pid = pid;
	dests = prepare_copy(t, pid, &ndests);
	if (!reuse)
		install_safety_handlers();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!reuse && (stop = stop_all_threads(pid, err)) != STOP_DONE)
		goto fail;
	if (copy_paused(t, pid, dests, ndests, err) < 0)
		goto fail;
	/* all were stopped: only SIGKILL (the whole process) ends one now */
	if ((stop = judge_gone(pid, forget_ended_threads(), err)) != STOP_DONE)
		goto fail;
	in_loader = !reuse && !accept_loader && paused_in_loader(t);
	if (!reuse) {
		detach_all();
		restore_handlers();
	}
	t->pause_seconds = ms_since(&t0) / 1000.0;
	release_unused(dests, ndests);
	if (in_loader) {
		*again = AGAIN_LOADER;
		target_free(t);
		return NULL;
	}
	if (target_finish_regions(t) < 0) {
		*err = xasprintf("internal error: overlapping copied regions");
		target_free(t);
		return NULL;
	}
	return t;
fail:
	release_all(pid);	/* a failed copy also ends a hold: never leave it stopped */
	restore_handlers();
	hold_pid = 0;
	release_unused(dests, ndests);
	target_free(t);
	*again = stop == STOP_EXEC ? AGAIN_EXEC : AGAIN_NO;
	return NULL;
}

/* Pause PID, copy what the walkers need, let it go.  An exec racing the
 * pause makes it start over (the new program is then what is copied), and
 * so does a pause that caught a single-threaded program in its dynamic
 * loader (just exec'd: libc may not be mapped or relocated yet).  On the
 * last attempt such a copy is kept, unless execs were seen: then the
 * process keeps exec'ing and we say so. */
/* After a copy that ended with "exited": is the process in fact still
 * running, everything let go?  Asked twice, a few ms apart. */
static int still_running(pid_t pid)
{
	if (!process_alive(pid))
		return 0;
	sleep_ms(5);
	return process_alive(pid);
}

struct target *target_open_live(pid_t pid, char **err)
{
	int reuse = hold_pid > 0 && hold_pid == pid && nheld > 0;
	int attempt, saw_exec = 0;

	if (!reuse && check_seizable(pid, err) < 0)
		return NULL;
	if (hold_pid > 0 && nheld && !reuse) {
		*err = xasprintf("cannot copy process %d while holding process %d", (int)pid,
				 (int)hold_pid);
		return NULL;
	}
	for (attempt = 1;; attempt++) {
		enum again again = AGAIN_NO;
		struct target *t;
		said_exited = 0;
		t = open_live_once(pid, reuse, attempt == OPEN_ATTEMPTS && !saw_exec, &again, err);
		if (!t && again == AGAIN_NO && said_exited && !reuse && attempt < OPEN_ATTEMPTS &&
		    still_running(pid)) {
			free(*err);	/* a false alarm (seen once in 100 runs on a */
			*err = NULL;	/* loaded machine): it lives on, so try again */
			continue;
		}
		if (t || again == AGAIN_NO)
			return t;
		saw_exec |= again == AGAIN_EXEC;
		if (attempt == OPEN_ATTEMPTS) {
			*err = keeps_execing_message(pid);
			return NULL;
		}
		sleep_ms(2L * attempt);	/* time for the new program's loader */
	}
}

int target_live_hold(pid_t pid, char **err)
{
	int attempt;
	if (hold_pid == pid && nheld)
		return 0;
	if (hold_pid) {
		*err = xasprintf("already holding process %d", (int)hold_pid);
		return -1;
	}
	if (check_seizable(pid, err) < 0)
		return -1;
	for (attempt = 1;; attempt++) {
		enum stop_result r;
		install_safety_handlers();
		r = stop_all_threads(pid, err);
		if (r == STOP_DONE)
			break;
		release_all(pid);
		restore_handlers();
		if (r == STOP_FAILED)
			return -1;
		if (attempt == OPEN_ATTEMPTS) {
			*err = keeps_execing_message(pid);
			return -1;
		}
		sleep_ms(2L * attempt);
	}
	hold_pid = pid;
	return 0;
}

void target_live_release(void)
{
	if (!hold_pid)
		return;
	forget_ended_threads();	/* reap threads killed while held (SIGKILL) */
	detach_all();
	restore_handlers();
	hold_pid = 0;
}

pid_t target_live_held(void)
{
	if (hold_pid && !nheld)	/* let go by a handler or a failed copy */
		hold_pid = 0;
	return hold_pid;
}
