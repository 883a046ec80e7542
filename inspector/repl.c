/*
 * repl.c - heapinspect -i: a prompt on one target.
 *
 * The session keeps one target (a copy of a live process, or a snapshot
 * file) and its heap model; every report command renders that model, and
 * `refresh` replaces both with a new copy (pause, copy, resume).  Besides
 * the command-line subcommands (same options) the prompt has refresh,
 * stop/cont (hold the process stopped across commands), x, who, chunk,
 * save, diff, more, help and quit.
 *
 * Invariants:
 *   - The process runs between commands unless `stop` holds it, and it is
 *     let go on every way out: quit, end of input, a failed copy, exit()
 *     and fatal signals (target_live.c's handlers, installed while a hold
 *     lasts).  SIGINT never ends the session.
 *   - Commands that read the model run in a forked child: Ctrl-C (SIGINT,
 *     forwarded to the child when it did not come from the terminal) ends
 *     the child only, so an interrupted render leaves no half-updated state
 *     behind, and a crash in a renderer ends that command, not the session.
 *     The child never touches the process (it is not its tracer).
 *   - refresh runs in the session itself: SIGINT is blocked while the
 *     process is paused (the copy is short and must end with the resume),
 *     and an interrupted refresh keeps the previous copy.
 *   - History (terminal input only) is appended to
 *     $XDG_STATE_HOME/heapinspect/history (default ~/.local/state/...);
 *     snapshots are saved to .../heapinspect/snapshots/NAME.himg.
 *   - Colour (the prompt only) on a terminal, never with NO_COLOR set.
 */
#include "config.h"

#include "repl.h"
#include "analyze.h"
#include "commands.h"
#include "diff.h"
#include "json.h"
#include "model.h"
#include "target.h"
#include "util.h"
#include "who.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#define HISTORY_MAX 1000
#define XDUMP_DEFAULT 64
#define XDUMP_MAX (1ull << 20)
#define PAGE_ROWS_DEFAULT 50
#define WHO_ARRAYS_MAX 20

struct session {
	const char *operand;		/* the PID or the snapshot file */
	struct target_source source;
	pid_t pid;			/* a live process, else 0 */
	const char *debuginfo_path;
	struct target *t;
	struct heap_model *m;
	time_t taken;			/* when t was copied or read */
	char *snap_dir;			/* NULL: no state directory */
	char *history_file;		/* NULL: no history kept */
	int tty;			/* input from a terminal: readline */
	int out_tty;			/* output to a terminal: listings page */
	int colour;
	/* `more`: the last paged listing (its words) and where it goes on */
	char **more_argv;
	int more_argc;
	uint64_t more_next, more_limit;
	int done;
};

/* ---- signals ---------------------------------------------------------------- */

static volatile sig_atomic_t got_sigint, got_sigwinch, got_sigtstp;
static volatile pid_t child_pid;	/* the command running, else 0 */

static void on_sigint(int sig)
{
	int e = errno;
	(void)sig;
	got_sigint = 1;
	if (child_pid > 0)
		kill(child_pid, SIGINT);	/* not from the terminal: pass it on */
	errno = e;
}

static void on_flag_signal(int sig)
{
	if (sig == SIGWINCH)
		got_sigwinch = 1;
	else
		got_sigtstp = 1;
}

static void set_handler(int sig, void (*fn)(int), int flags, struct sigaction *old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, old);
}

static void block_sigint(int block)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* After a hold began or ended (target_live.c changes the mask and the
 * handlers): ours for SIGINT, SIGINT unblocked, job control blocked
 * exactly while a hold lasts (a Ctrl-Z must not freeze us with the
 * process stopped). */
static void settle_signals(void)
{
	sigset_t jc;
	set_handler(SIGINT, on_sigint, SA_RESTART, NULL);
	sigemptyset(&jc);
	sigaddset(&jc, SIGTSTP);
	sigaddset(&jc, SIGTTIN);
	sigaddset(&jc, SIGTTOU);
	sigprocmask(target_live_held() ? SIG_BLOCK : SIG_UNBLOCK, &jc, NULL);
	block_sigint(0);
}

/* ---- words ------------------------------------------------------------------- */

/* Split LINE into words after a first word ARGV0: blanks separate, '...'
 * is literal, "..." takes \" and \\, a backslash elsewhere escapes the
 * next character.  Returns the number of words (ARGV0 included) and a
 * NULL-terminated *ARGV, or -1 on an unterminated quote. */
static int split_words(const char *line, const char *argv0, char ***argv)
{
	size_t n = 0, cap = 0, len = strlen(line);
	char **words = NULL, *buf;
	const char *p = line;
	*ARRAY_PUSH(words, n, cap) = xstrdup(argv0);
	while (*p) {
		size_t o = 0;
		int quote = 0;
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			break;
		buf = xmalloc(len + 1);
		for (; *p; p++) {
			if (quote == '\'') {
				if (*p == '\'')
					quote = 0;
				else
					buf[o++] = *p;
			} else if (quote == '"') {
				if (*p == '"')
					quote = 0;
				else if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					buf[o++] = *++p;
				else
					buf[o++] = *p;
			} else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
				break;
			} else if (*p == '\'' || *p == '"') {
				quote = *p;
			} else if (*p == '\\' && p[1]) {
				buf[o++] = *++p;
			} else {
				buf[o++] = *p;
			}
		}
		buf[o] = 0;
		*ARRAY_PUSH(words, n, cap) = buf;
		if (quote) {
			*ARRAY_PUSH(words, n, cap) = NULL;
			for (size_t i = 0; words[i]; i++)
				free(words[i]);
			free(words);
			return -1;
		}
	}
	*ARRAY_PUSH(words, n, cap) = NULL;
	*argv = words;
	return (int)n - 1;
}

static void free_words(char **argv)
{
	size_t i;
	for (i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static char **copy_words(int argc, char **argv)
{
	char **w = xcalloc((size_t)argc + 1, sizeof *w);
	int i;
	for (i = 0; i < argc; i++)
		w[i] = xstrdup(argv[i]);
	return w;
}

/* Is WORD option NAME (--NAME, --NAME=..., or an abbreviation)? */
static int is_option(const char *word, const char *name)
{
	size_t len;
	if (strncmp(word, "--", 2) || !word[2])
		return 0;
	word += 2;
	len = strcspn(word, "=");
	return !strncmp(word, name, len);
}

/* ---- the commands' table ---------------------------------------------------- */

struct repl_command {
	const char *name, *args, *help;
};

/* The report commands (cli.c parses them, the renderers draw them). */
static const struct repl_command report_commands[] = {
	{ "summary", "", "arenas, per-state totals, tcaches, mallinfo2 figures, top pins" },
	{ "arenas", "", "every arena and its heaps" },
	{ "chunks", "[FILTERS]", "every chunk with its state (a page: --limit, --offset, more)" },
	{ "bins", "", "every non-empty fastbin and bin, with its chunks" },
	{ "tcache", "", "every thread's tcache, with its entries" },
	{ "mmapped", "", "every mmapped chunk" },
	{ "mp", "", "malloc parameters (mp_): thresholds and counters" },
	{ "pymalloc", "", "CPython's pymalloc: arenas, pools and blocks per size class" },
	{ "pyarenas", "", "pymalloc arenas, emptiest first, with what keeps them" },
	{ "types", "", "live Python objects per type, largest first" },
	{ "obj", "ADDR", "what lives at ADDR: mapping, chunk, pymalloc block, object" },
	{ "arrays", "[FILTERS]", "live NumPy arrays by bytes held (a page, as chunks)" },
	{ "array", "ADDR", "one NumPy array" },
	{ "views", "", "NumPy views that keep a much larger base buffer alive" },
	{ "explain", "", "why the process is this big, and what pins its memory" },
	{ "map", "", "the heap drawn as a map (--svg FILE: also as SVG)" },
};

static const struct repl_command session_commands[] = {
	{ "refresh", "", "copy the process again (pause, copy, resume); a snapshot: read it again" },
	{ "stop", "", "hold the process stopped across commands (refresh copies it as held)" },
	{ "cont", "", "let a held process run again (the default between commands)" },
	{ "x", "ADDR [N]", "N bytes (default 64) at ADDR from the copy: hex and text; ?? = not copied" },
	{ "who", "ADDR", "mapping, chunk, pymalloc pool/block, object and NumPy arrays at ADDR" },
	{ "chunk", "ADDR", "the glibc chunk holding ADDR: state, arena, size, usable bytes" },
	{ "save", "NAME", "save the copy as snapshot NAME (or to a path, if NAME has a '/')" },
	{ "diff", "NAME [NAME]", "what changed from snapshot NAME to the copy (or to a 2nd snapshot)" },
	{ "more", "", "the next page of the last chunks or arrays listing" },
	{ "help", "[CMD]", "this list, or one command and its options" },
	{ "quit", "", "leave (also exit, or end of input); the process runs on" },
};


static const struct repl_command *find_command(const char *name)
{
	size_t i;
	for (i = 0; i < NELEM(report_commands); i++)
		if (!strcmp(report_commands[i].name, name))
			return &report_commands[i];
	for (i = 0; i < NELEM(session_commands); i++)
		if (!strcmp(session_commands[i].name, name))
			return &session_commands[i];
	return NULL;
}

static int is_report_command(const char *name)
{
	return command_parse(name) >= 0 && strcmp(name, "diff") != 0;
}

/* Options of the command line that make no sense on a prompt line. */
static int option_is_cli_only(const char *opt)
{
	static const char *const only[] = { "image", "core", "exe", "dump-image", "save",
					    "interactive",
					    "debuginfo-path", "no-debuginfo", "version" };
	size_t i;
	for (i = 0; i < NELEM(only); i++)
		if (!strcmp(opt, only[i]))
			return 1;
	return 0;
}

/* Does option OPT (without "--") apply to command CMD? */
static int option_applies(const char *opt, const char *cmd)
{
	static const struct {
		const char *opt, *cmds;
	} only[] = {
		{ "arena", " chunks " },	 { "state", " chunks " },
		{ "max-size", " chunks " },	 { "from", " chunks " },
		{ "to", " chunks " },		 { "min-size", " chunks arrays " },
		{ "dtype", " arrays " },	 { "owner", " arrays " },
		{ "limit", " chunks arrays " }, { "offset", " chunks arrays " },
		{ "svg", " map " },
	};
	char key[64];
	size_t i;
	if (option_is_cli_only(opt))
		return 0;
	if (!strcmp(cmd, "diff"))
		return !strcmp(opt, "json");
	if (!is_report_command(cmd))
		return 0;
	snprintf(key, sizeof key, " %s ", cmd);
	for (i = 0; i < NELEM(only); i++)
		if (!strcmp(opt, only[i].opt))
			return strstr(only[i].cmds, key) != NULL;
	return 1;	/* json, help */
}

/* ---- paths ------------------------------------------------------------------- */

static int mkdir_p(const char *path)
{
	char *p = xstrdup(path), *s;
	int r = 0;
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			r = -1;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		r = -1;
	free(p);
	return r;
}

/* $XDG_STATE_HOME/heapinspect (an absolute XDG_STATE_HOME only, as the
 * XDG spec says), else ~/.local/state/heapinspect; NULL without a home. */
static char *state_dir(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	if (x && x[0] == '/')
		return xasprintf("%s/heapinspect", x);
	if (home && home[0])
		return xasprintf("%s/.local/state/heapinspect", home);
	return NULL;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* Where snapshot NAME lives: NAME itself if it has a '/', else
 * SNAPDIR/NAME.himg.  NULL (with a message) if there is no such place. */
static char *snapshot_path(const struct session *s, const char *name)
{
	if (strchr(name, '/'))
		return xstrdup(name);
	if (!name[0] || !strcmp(name, ".") || !strcmp(name, "..")) {
		warnx_("'%s' is not a snapshot name", name);
		return NULL;
	}
	if (!s->snap_dir) {
		warnx_("no state directory (neither XDG_STATE_HOME nor HOME is set): "
		       "give a path with a '/'");
		return NULL;
	}
	return xasprintf("%s/%s%s", s->snap_dir, name, has_suffix(name, ".himg") ? "" : ".himg");
}

/* ---- running a command in a child -------------------------------------------- */

typedef int (*command_fn)(struct session *s, void *arg);

/* Run FN in a forked child, so that Ctrl-C ends it and not the session.
 * Returns 0 if it succeeded, 1 if it was interrupted, -1 if it failed. */
static int run_command(struct session *s, command_fn fn, void *arg)
{
	int status, r;
	pid_t pid;
	fflush(stdout);
	fflush(stderr);
	block_sigint(1);
	got_sigint = 0;
	pid = fork();
	if (pid < 0) {	/* no memory for a child: run it here, uninterruptible */
		block_sigint(0);
		r = fn(s, arg);
		fflush(stdout);
		return r ? -1 : 0;
	}
	if (pid == 0) {
		set_handler(SIGINT, SIG_DFL, 0, NULL);
		set_handler(SIGPIPE, SIG_DFL, 0, NULL);
		block_sigint(0);
		r = fn(s, arg);
		if (fflush(stdout) != 0)
			r = 1;
		_exit(r ? 1 : 0);
	}
	child_pid = pid;
	block_sigint(0);	/* a Ctrl-C meanwhile reaches the child now */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	child_pid = 0;
	if (got_sigint || (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT)) {
		got_sigint = 0;
		fprintf(stderr, "\ninterrupted\n");
		return 1;
	}
	if (WIFSIGNALED(status)) {
		warnx_("the command ended by signal %d (%s); the session goes on",
		       WTERMSIG(status), strsignal(WTERMSIG(status)));
		return -1;
	}
	return WEXITSTATUS(status) ? -1 : 0;
}

/* ---- copying ----------------------------------------------------------------- */

static void print_copy(const struct session *s)
{
	char b[64], when[32];
	strftime(when, sizeof when, "%H:%M:%S", localtime(&s->taken));
	if (s->source.kind != TARGET_LIVE)
		printf("%s %s: process %d (%s), %s held, read at %s\n",
		       s->source.kind == TARGET_CORE ? "core" : "snapshot", s->operand,
		       (int)s->t->pid, s->t->exe[0] ? s->t->exe : "?",
		       human_size(s->t->bytes_copied, b, sizeof b), when);
	else
		printf("process %d (%s): %s copied at %s, paused %.3f s; %s\n", (int)s->pid,
		       s->t->exe[0] ? s->t->exe : "?", human_size(s->t->bytes_copied, b, sizeof b),
		       when, s->t->pause_seconds,
		       target_live_held() ? "held stopped (cont lets it run)" : "running again");
	if (s->m->ndiags)
		printf("%zu diagnostic%s (listed after each report)\n", s->m->ndiags,
		       s->m->ndiags == 1 ? "" : "s");
}

/* Copy (or read) the target into a new model.  FIRST: at start, when the
 * default SIGINT (die) is still in place.  Returns 0, or -1 with the old
 * copy kept. */
static int load(struct session *s, int first)
{
	struct target *t;
	struct heap_model *m;
	char *err = NULL;
	if (!first) {
		block_sigint(1);	/* the pause must end with the resume */
		got_sigint = 0;
	}
	t = open_target(&s->source, &err);
	if (!first)
		settle_signals();	/* a Ctrl-C during the copy is seen now */
	if (!t) {
		warnx_("%s", err);
		free(err);
		return -1;
	}
	m = got_sigint ? NULL : analyze_target(t, s->debuginfo_path, &err);
	if (!m && !got_sigint) {
		warnx_("%s", err);
		free(err);
		target_free(t);
		return -1;
	}
	if (got_sigint) {
		got_sigint = 0;
		model_free(m);
		target_free(t);
		fprintf(stderr, "\ninterrupted: the previous copy is kept\n");
		return -1;
	}
	model_free(s->m);
	target_free(s->t);
	s->t = t;
	s->m = m;
	s->taken = time(NULL);
	return 0;
}

static void cmd_refresh(struct session *s)
{
	pid_t held = target_live_held();
	if (load(s, 0) == 0)
		print_copy(s);
	else if (held && !target_live_held())
		printf("process %d is no longer held\n", (int)held);
}

static void cmd_stop(struct session *s)
{
	char *err = NULL;
	if (!s->pid) {
		warnx_("stop: %s is a %s, not a live process", s->operand,
		       s->source.kind == TARGET_CORE ? "core file" : "snapshot");
		return;
	}
	if (target_live_held()) {
		printf("process %d is already stopped\n", (int)s->pid);
		return;
	}
	block_sigint(1);
	if (target_live_hold(s->pid, &err) < 0) {
		settle_signals();
		warnx_("%s", err);
		free(err);
		return;
	}
	settle_signals();
	printf("process %d stopped: it stays stopped until cont, quit or end of input "
	       "(refresh copies it as it is)\n", (int)s->pid);
}

static void cmd_cont(struct session *s)
{
	if (!target_live_held()) {
		printf("%s is not held\n", s->pid ? "the process" : "a snapshot");
		return;
	}
	target_live_release();
	settle_signals();
	printf("process %d runs again\n", (int)s->pid);
}

/* ---- report commands ---------------------------------------------------------- */

static int child_report(struct session *s, void *arg)
{
	const struct options *o = arg;
	if (o->report.command == CMD_OBJ)
		address_describe(s->t, s->m, o->report.address);
	(o->json ? render_json : render_text)(stdout, s->m, &o->report);
	return 0;
}

/* Rows a listing would have (its filters passed). */
static uint64_t listing_rows(const struct heap_model *m, const struct report *r)
{
	uint64_t n = 0;
	size_t i;
	if (r->command == CMD_CHUNKS) {
		for (i = 0; i < m->nchunks; i++)
			n += (uint64_t)chunk_filter_match(&r->filter, &m->chunks[i]);
	} else {
		for (i = 0; i < m->np.narrays; i++)
			n += (uint64_t)array_filter_match(&r->arrays, &m->np.arrays[i]);
	}
	return n;
}

static uint64_t page_rows(void)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 10)
		return ws.ws_row - 4u;
	return PAGE_ROWS_DEFAULT;
}

/* A report command: ARGV as on the command line, without the target.
 * FROM_MORE: the words come from `more` (keep the listing it continues). */
static void cmd_report(struct session *s, int argc, char **argv, int from_more)
{
	struct options o;
	int i, paged, explicit_limit = 0;
	if (cli_parse(argc, argv, &o, 0) != 0)
		return;	/* a usage error (reported), or --help (printed) */
	if (o.image || o.core || o.exe || o.dump_image || o.interactive || o.debuginfo_path) {
		warnx_("--image, --core, --exe, --save, --dump-image, --debuginfo-path and -i "
		       "belong on the "
		       "command line (here: save NAME, diff NAME)");
		return;
	}
	if (o.report.command == CMD_DIFF) {
		warnx_("diff: the form here is diff NAME [NAME] [--json]");
		return;
	}
	for (i = 1; i < argc; i++)
		explicit_limit |= is_option(argv[i], "limit");
	paged = !o.json && (o.report.command == CMD_CHUNKS || o.report.command == CMD_ARRAYS);
	if (paged && !explicit_limit && s->out_tty)
		o.report.limit = page_rows();
	if (paged && !from_more) {
		free_words(s->more_argv);
		s->more_argv = copy_words(argc, argv);
		s->more_argc = argc;
	}
	if (run_command(s, child_report, &o) == 0 && paged && o.report.limit) {
		uint64_t rows = listing_rows(s->m, &o.report);
		s->more_next = o.report.offset + o.report.limit;
		s->more_limit = o.report.limit;
		if (s->more_next < rows && s->tty)
			printf("(more: the next %llu)\n",
			       (unsigned long long)(rows - s->more_next < s->more_limit ?
						    rows - s->more_next : s->more_limit));
	} else if (paged) {
		s->more_next = 0;	/* all shown, or failed: more starts over */
		s->more_limit = 0;
	}
}

static void cmd_more(struct session *s)
{
	char off[32], lim[32];
	char **argv;
	int i;
	if (!s->more_argv) {
		printf("more: no chunks or arrays listing to go on with\n");
		return;
	}
	if (!s->more_limit) {
		printf("more: the last listing was shown whole\n");
		return;
	}
	snprintf(off, sizeof off, "--offset=%llu", (unsigned long long)s->more_next);
	snprintf(lim, sizeof lim, "--limit=%llu", (unsigned long long)s->more_limit);
	argv = xcalloc((size_t)s->more_argc + 3, sizeof *argv);
	for (i = 0; i < s->more_argc; i++)
		argv[i] = s->more_argv[i];
	argv[i++] = off;
	argv[i++] = lim;
	argv[i] = NULL;
	cmd_report(s, i, argv, 1);
	free(argv);
}

/* ---- x, who, chunk -------------------------------------------------------------- */

struct xdump {
	uint64_t addr, n;
};

static const char *mapping_name(const struct target_mapping *mp)
{
	return mp->path[0] ? mp->path : "(anonymous)";
}

static void print_mapping_line(const struct target *t, uint64_t addr)
{
	const struct target_mapping *mp = target_mapping_at(t, addr);
	if (!mp) {
		printf("0x%llx: not mapped in this process\n", (unsigned long long)addr);
		return;
	}
	printf("0x%llx: in mapping 0x%llx-0x%llx %c%c%c%c %s\n", (unsigned long long)addr,
	       (unsigned long long)mp->start, (unsigned long long)mp->end,
	       mp->prot & TARGET_PROT_READ ? 'r' : '-', mp->prot & TARGET_PROT_WRITE ? 'w' : '-',
	       mp->prot & TARGET_PROT_EXEC ? 'x' : '-', mp->shared ? 's' : 'p', mapping_name(mp));
}

/* The copied byte at A, with the region looked up only when A leaves the
 * last one.  Returns 1 and *B, or 0 if not held. */
static int byte_at(const struct target *t, uint64_t a, const struct target_region **cache,
		   unsigned char *b)
{
	if (!*cache || a < (*cache)->start || a >= (*cache)->end)
		*cache = target_region_at(t, a);
	if (!*cache)
		return 0;
	*b = (*cache)->bytes[a - (*cache)->start];
	return 1;
}

static int child_x(struct session *s, void *arg)
{
	const struct xdump *x = arg;
	const struct target_region *reg = NULL;
	uint64_t off, missing = 0, unmapped = 0;
	print_mapping_line(s->t, x->addr);
	for (off = 0; off < x->n; off += 16) {
		char text[17];
		unsigned i;
		printf("0x%012llx ", (unsigned long long)(x->addr + off));
		for (i = 0; i < 16; i++) {
			uint64_t a = x->addr + off + i;
			unsigned char b;
			text[i] = ' ';
			if (off + i >= x->n) {
				printf("   ");
			} else if (byte_at(s->t, a, &reg, &b)) {
				printf(" %02x", b);
				text[i] = b >= 0x20 && b < 0x7f ? (char)b : '.';
			} else {
				printf(" ??");
				text[i] = '?';
				missing++;
				if (!target_mapping_at(s->t, a))
					unmapped++;
			}
			if (i == 7)
				putchar(' ');
		}
		text[16] = 0;
		printf("  |%s|\n", text);
	}
	if (missing)
		printf("?? = not in the copy: %llu of %llu bytes (%s)\n",
		       (unsigned long long)missing, (unsigned long long)x->n,
		       unmapped == missing ? "not mapped" :
		       unmapped ? "partly not mapped, the rest mapped but not copied" :
				  "mapped but not copied: code, shared and non-ELF file mappings, "
				  "and the bodies of mmapped chunks past their first page, are not copied");
	return 0;
}

static int parse_address(const char *cmd, int argc, char **argv, int max_args, uint64_t *addr)
{
	if (argc < 3 || argc > 2 + max_args || parse_u64(argv[2], addr) < 0) {
		warnx_("usage: %s ADDR%s (ADDR: decimal or 0x hex)", cmd,
		       max_args > 1 ? " [N]" : "");
		return -1;
	}
	return 0;
}

static void cmd_x(struct session *s, int argc, char **argv)
{
	struct xdump x = { 0, XDUMP_DEFAULT };
	if (parse_address("x", argc, argv, 2, &x.addr) < 0)
		return;
	if (argc > 3 && (parse_u64(argv[3], &x.n) < 0 || x.n == 0 || x.n > XDUMP_MAX)) {
		warnx_("x: N is a byte count from 1 to %llu", (unsigned long long)XDUMP_MAX);
		return;
	}
	if (x.addr && x.n - 1 > UINT64_MAX - x.addr)
		x.n = UINT64_MAX - x.addr + 1;	/* up to the top of the address space */
	run_command(s, child_x, &x);
}

static void print_chunk(const struct heap_model *m, const struct chunk *c, uint64_t addr)
{
	uint64_t mem = chunk_mem(m, c), usable = chunk_usable_size(m, c);
	char b[64];
	printf("  glibc chunk 0x%llx (user pointer 0x%llx), %s\n", (unsigned long long)c->addr,
	       (unsigned long long)mem, chunk_state_name(c->state));
	printf("  size %llu (0x%llx), usable %llu, ", (unsigned long long)c->size,
	       (unsigned long long)c->size, (unsigned long long)usable);
	if (c->arena < 0)
		printf("its own mapping (mmapped)\n");
	else
		printf("arena %d\n", c->arena);
	if (c->state == CHUNK_TCACHE && c->tcache >= 0 && (size_t)c->tcache < m->ntcaches)
		printf("  in tcache bin %u of thread %d\n", c->bin, (int)m->tcaches[c->tcache].tid);
	else if (c->state >= CHUNK_FASTBIN && c->state <= CHUNK_LARGEBIN)
		printf("  in %s bin %u\n", chunk_state_name(c->state), c->bin);
	if (addr < mem)
		printf("  0x%llx is in the chunk header (+%llu)\n", (unsigned long long)addr,
		       (unsigned long long)(addr - c->addr));
	else if (addr - mem < usable)
		printf("  0x%llx is user byte +%llu of %s\n", (unsigned long long)addr,
		       (unsigned long long)(addr - mem), human_size(usable, b, sizeof b));
	else
		printf("  0x%llx is past the usable bytes (+%llu from the user pointer)\n",
		       (unsigned long long)addr, (unsigned long long)(addr - mem));
}

static int child_chunk(struct session *s, void *arg)
{
	uint64_t addr = *(const uint64_t *)arg;
	const struct chunk *c = model_chunk_containing(s->m, addr);
	if (!c) {
		print_mapping_line(s->t, addr);
		printf("  not in any glibc chunk\n");
		return 0;
	}
	printf("0x%llx:\n", (unsigned long long)addr);
	print_chunk(s->m, c, addr);
	return 0;
}

/* The bytes an array's elements span, [*LO, *HI); 0 if unknown or empty. */
static int array_extent(const struct np_array *a, uint64_t *lo, uint64_t *hi)
{
	int64_t min = 0, max = 0, span;
	int32_t i;
	if (!a->readable || !a->itemsize || a->nd < 0 || (a->nd && !a->shape))
		return 0;
	for (i = 0; i < a->nd; i++) {
		if (a->shape[i] <= 0)
			return 0;
		if (__builtin_mul_overflow(a->shape[i] - 1, a->strides[i], &span) ||
		    __builtin_add_overflow(span < 0 ? min : max, span, span < 0 ? &min : &max))
			return 0;
	}
	*lo = a->data + (uint64_t)min;
	*hi = a->data + (uint64_t)max + a->itemsize;
	return 1;
}

static void shape_text(const struct np_array *a, char *buf, size_t len)
{
	size_t o = 0;
	int32_t i;
	o += (size_t)snprintf(buf, len, "(");
	for (i = 0; i < a->nd && a->shape && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, i ? ", %lld" : "%lld", (long long)a->shape[i]);
	if (o < len)
		snprintf(buf + o, len - o, a->nd == 1 ? ",)" : ")");
}

static void who_arrays(const struct heap_model *m, uint64_t addr)
{
	size_t i, shown = 0, more = 0;
	if (!m->np.found || !m->np.layout)
		return;
	for (i = 0; i < m->np.narrays; i++) {
		const struct np_array *a = &m->np.arrays[i];
		uint64_t lo, hi;
		char shape[96];
		const char *what = NULL;
		if (addr >= a->addr && addr - a->addr < (uint64_t)m->np.layout->array_sizeof)
			what = "its object";
		else if (array_extent(a, &lo, &hi) && addr >= lo && addr < hi)
			what = "its elements";
		else if (a->buffer.alloc && addr >= a->buffer.alloc &&
			 addr - a->buffer.alloc < a->buffer.size)
			what = "the allocation its data is in";
		if (!what)
			continue;
		if (shown >= WHO_ARRAYS_MAX) {
			more++;
			continue;
		}
		shape_text(a, shape, sizeof shape);
		printf("  NumPy array 0x%llx, shape %s, dtype %s: 0x%llx is in %s",
		       (unsigned long long)a->addr, shape, a->dtype, (unsigned long long)addr, what);
		if (what[4] == 'e')	/* its elements */
			printf(" (+%lld from its data pointer)", (long long)(addr - a->data));
		putchar('\n');
		shown++;
	}
	if (more)
		printf("  and %zu more NumPy arrays\n", more);
}

static int child_who(struct session *s, void *arg)
{
	uint64_t addr = *(const uint64_t *)arg;
	struct report r;
	struct heap_model quiet;
	const struct address_info *w = &s->m->where;
	memset(&r, 0, sizeof r);
	r.command = CMD_OBJ;
	chunk_filter_init(&r.filter);
	address_describe(s->t, s->m, addr);
	quiet = *s->m;		/* the diagnostics belong to the reports */
	quiet.ndiags = 0;
	render_text(stdout, &quiet, &r);
	if (w->chunk) {
		uint64_t mem = chunk_mem(s->m, w->chunk), usable = chunk_usable_size(s->m, w->chunk);
		printf("  chunk user bytes 0x%llx-0x%llx (usable %llu)", (unsigned long long)mem,
		       (unsigned long long)(mem + usable), (unsigned long long)usable);
		if (addr >= mem && addr - mem < usable)
			printf(", 0x%llx at +%llu", (unsigned long long)addr,
			       (unsigned long long)(addr - mem));
		putchar('\n');
	}
	if (w->mapped)
		who_arrays(s->m, addr);
	return 0;
}

static void cmd_address(struct session *s, int argc, char **argv, command_fn fn)
{
	uint64_t addr;
	if (parse_address(argv[1], argc, argv, 1, &addr) == 0)
		run_command(s, fn, &addr);
}

/* ---- save, diff ----------------------------------------------------------------- */

struct save_job {
	const char *name, *path, *tmp;
};

static int child_save(struct session *s, void *arg)
{
	const struct save_job *j = arg;
	char *err = NULL, b[64];
	struct stat st;
	if (target_write_image(s->t, j->tmp, &err) < 0) {
		warnx_("save: %s", err);
		free(err);
		return 1;
	}
	if (rename(j->tmp, j->path) < 0) {
		warnx_("save: cannot rename %s to %s: %s", j->tmp, j->path, strerror(errno));
		return 1;
	}
	printf("saved %s: %s (%s)\n", j->name, j->path,
	       human_size(stat(j->path, &st) == 0 ? (uint64_t)st.st_size : 0, b, sizeof b));
	return 0;
}

static void cmd_save(struct session *s, int argc, char **argv)
{
	struct save_job j;
	char *path, *tmp;
	if (argc != 3) {
		warnx_("usage: save NAME (a name, saved under %s, or a path with a '/')",
		       s->snap_dir ? s->snap_dir : "the state directory");
		return;
	}
	if (!(path = snapshot_path(s, argv[2])))
		return;
	if (!strchr(argv[2], '/') && mkdir_p(s->snap_dir) < 0) {
		warnx_("save: cannot create %s: %s", s->snap_dir, strerror(errno));
		free(path);
		return;
	}
	tmp = xasprintf("%s.tmp%d", path, (int)getpid());
	j = (struct save_job){ argv[2], path, tmp };
	if (run_command(s, child_save, &j) != 0)
		unlink(tmp);
	free(tmp);
	free(path);
}

struct diff_job {
	char *path[2];		/* the snapshots; path[1] NULL: the current copy */
	int json;
};

static int child_diff(struct session *s, void *arg)
{
	const struct diff_job *j = arg;
	struct target *t[2] = { NULL, NULL };
	struct heap_model *m[2] = { NULL, s->m };
	struct model_diff *d;
	char *err = NULL;
	int i;
	for (i = 0; i < 2 && j->path[i]; i++) {
		t[i] = target_open_image(j->path[i], &err);
		if (!t[i] || !(m[i] = analyze_target(t[i], s->debuginfo_path, &err))) {
			warnx_("diff: %s", err);
			free(err);
			return 1;
		}
	}
	d = diff_models(m[0], m[1]);
	if (j->json) {
		struct json js;
		json_init(&js, stdout);
		json_object_begin(&js, NULL);
		json_string(&js, "schema", "heapinspect/1");
		json_string(&js, "command", "diff");
		diff_render_json(&js, d, m[0], m[1]);
		json_object_end(&js);
		json_finish(&js);
	} else {
		diff_render_text(stdout, d, m[0], m[1]);
	}
	diff_free(d);
	return 0;	/* the child ends: no need to free the models */
}

static void cmd_diff(struct session *s, int argc, char **argv)
{
	struct diff_job j = { { NULL, NULL }, 0 };
	int i, n = 0, bad = 0;
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			j.json = 1;
		else if (argv[i][0] == '-' || n == 2)
			bad = 1;
		else if (!(j.path[n++] = snapshot_path(s, argv[i])))
			bad = 2;
	}
	for (i = 0; !bad && i < n; i++)
		if (access(j.path[i], R_OK) < 0) {
			warnx_("diff: no snapshot %s: %s (save NAME makes one)", j.path[i],
			       strerror(errno));
			bad = 2;
		}
	if (bad == 1 || n == 0)
		warnx_("usage: diff NAME [NAME] [--json]: snapshot NAME (save NAME made it) "
		       "against the current copy, or against a second snapshot");
	else if (!bad)
		run_command(s, child_diff, &j);
	free(j.path[0]);
	free(j.path[1]);
}

/* ---- help ------------------------------------------------------------------------ */

static void print_command(const struct repl_command *c)
{
	char head[40];
	snprintf(head, sizeof head, "%s%s%s", c->name, c->args[0] ? " " : "", c->args);
	printf("  %-18s %s\n", head, c->help);
}

static void cmd_help(struct session *s, int argc, char **argv)
{
	const struct repl_command *c;
	size_t i;
	int has_arg;
	const char *opt;
	if (argc > 2) {
		if (!(c = find_command(argv[2]))) {
			warnx_("help: no command '%s'", argv[2]);
			return;
		}
		print_command(c);
		for (i = 0; (opt = cli_option_name(i, &has_arg)); i++)
			if (option_applies(opt, c->name))
				printf("      --%s%s\n", opt, has_arg ? " VALUE" : "");
		if (!strcmp(c->name, "chunks"))
			printf("  states for --state S[,S...]: inuse tcache fastbin unsorted smallbin "
			       "largebin top mmapped fencepost\n");
		return;
	}
	printf("Reports (options as on the command line; --json for JSON):\n");
	for (i = 0; i < NELEM(report_commands); i++)
		print_command(&report_commands[i]);
	printf("Session:\n");
	for (i = 0; i < NELEM(session_commands); i++)
		print_command(&session_commands[i]);
	printf("ADDR and N: decimal or 0x hex.  Reports read the last copy; refresh takes a new "
	       "one.\nListings on a terminal show a page: more, --limit N (0: all), --offset N.\n"
	       "Tab completes commands, options and snapshot names%s%s%s.\n"
	       "Ctrl-C stops a command (the session stays); Ctrl-D or quit leaves, "
	       "and the process always runs on.\n",
	       s->snap_dir ? " (in " : "", s->snap_dir ? s->snap_dir : "", s->snap_dir ? ")" : "");
	if (s->snap_dir)
		printf("History: %s.\n", s->history_file ? s->history_file : "not kept");
}

/* ---- one line --------------------------------------------------------------------- */

static void run_line(struct session *s, const char *line)
{
	char **argv;
	int argc = split_words(line, "heapinspect", &argv);
	const char *cmd;
	if (argc < 0) {
		warnx_("unterminated quote");
		return;
	}
	if (argc < 2) {
		free_words(argv);
		return;
	}
	cmd = argv[1];
	got_sigint = 0;
	if (!strcmp(cmd, "quit") || !strcmp(cmd, "exit") || !strcmp(cmd, "q"))
		s->done = 1;
	else if (!strcmp(cmd, "help") || !strcmp(cmd, "?"))
		cmd_help(s, argc, argv);
	else if (!strcmp(cmd, "refresh"))
		cmd_refresh(s);
	else if (!strcmp(cmd, "stop"))
		cmd_stop(s);
	else if (!strcmp(cmd, "cont"))
		cmd_cont(s);
	else if (!strcmp(cmd, "x"))
		cmd_x(s, argc, argv);
	else if (!strcmp(cmd, "who"))
		cmd_address(s, argc, argv, child_who);
	else if (!strcmp(cmd, "chunk"))
		cmd_address(s, argc, argv, child_chunk);
	else if (!strcmp(cmd, "save"))
		cmd_save(s, argc, argv);
	else if (!strcmp(cmd, "diff"))
		cmd_diff(s, argc, argv);
	else if (!strcmp(cmd, "more"))
		cmd_more(s);
	else if (is_report_command(cmd) || cmd[0] == '-')
		cmd_report(s, argc, argv, 0);
	else
		warnx_("unknown command '%s' (help lists them)", cmd);
	fflush(stdout);
	free_words(argv);
}

/* ---- completion --------------------------------------------------------------------- */

static char **cands;
static size_t ncands, cands_cap;
static const struct session *completing;

static void cand_add(const char *fmt, const char *s)
{
	*ARRAY_PUSH(cands, ncands, cands_cap) = xasprintf(fmt, s);
}

static void cands_clear(void)
{
	while (ncands)
		free(cands[--ncands]);
}

static char *cand_next(const char *text, int state)
{
	static size_t i;
	size_t len = strlen(text);
	if (!state)
		i = 0;
	while (i < ncands) {
		const char *c = cands[i++];
		if (!strncmp(c, text, len))
			return xstrdup(c);
	}
	return NULL;
}

static void add_snapshot_names(const struct session *s)
{
	DIR *d = s->snap_dir ? opendir(s->snap_dir) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len > 5 && has_suffix(de->d_name, ".himg")) {
			char *name = xstrdup(de->d_name);
			name[len - 5] = 0;
			cand_add("%s", name);
			free(name);
		}
	}
	if (d)
		closedir(d);
}

static void add_command_names(void)
{
	size_t i;
	for (i = 0; i < NELEM(report_commands); i++)
		cand_add("%s", report_commands[i].name);
	for (i = 0; i < CMD_COUNT; i++)	/* any the table does not list */
		if (is_report_command(command_name((enum command)i)) &&
		    !find_command(command_name((enum command)i)))
			cand_add("%s", command_name((enum command)i));
	for (i = 0; i < NELEM(session_commands); i++)
		cand_add("%s", session_commands[i].name);
	cand_add("%s", "exit");
}

static char **complete(const char *text, int start, int end)
{
	char *before = xmalloc((size_t)start + 1), **words = NULL;
	const char *cur, *prev, *cmd;
	size_t i, n = 0, k;
	int has_arg;
	(void)end;
	memcpy(before, rl_line_buffer, (size_t)start);
	before[start] = 0;
	rl_attempted_completion_over = 1;
	cands_clear();
	if (split_words(before, "", &words) < 0) {
		free(before);
		return NULL;	/* inside an open quote */
	}
	while (words[n])
		n++;
	/* CUR: the word being completed, up to TEXT ("--state=" when TEXT
	 * follows a '='); words[1..] are the words before it, and CUR's start
	 * if it is not empty; K: its position (1: the command) */
	cur = before + strlen(before);
	while (cur > before && cur[-1] != ' ' && cur[-1] != '\t')
		cur--;
	k = n - (*cur ? 1 : 0);
	cmd = k > 1 ? words[1] : "";
	prev = k > 1 ? words[k - 1] : "";
	if (!strncmp(cur, "--state=", 8) || !strcmp(prev, "--state")) {
		for (i = 0; i < CHUNK_STATE_COUNT; i++)
			if (i != CHUNK_FREE_UNBINNED)
				cand_add("%s", chunk_state_name((enum chunk_state)i));
	} else if (text[0] == '-') {
		const char *opt;
		for (i = 0; (opt = cli_option_name(i, &has_arg)); i++)
			if (k == 1 ? !option_is_cli_only(opt) : option_applies(opt, cmd))
				cand_add("--%s", opt);
	} else if (k == 1 || (k == 2 && !strcmp(cmd, "help"))) {
		add_command_names();
	} else if ((!strcmp(cmd, "save") && k == 2) || (!strcmp(cmd, "diff") && k <= 3)) {
		if (strchr(text, '/') || text[0] == '.' || text[0] == '~') {
			rl_attempted_completion_over = 0;	/* a path: file names */
			free(before);
			free_words(words);
			return NULL;
		}
		add_snapshot_names(completing);
	}
	free(before);
	free_words(words);
	if (!ncands)
		return NULL;
	return rl_completion_matches(text, cand_next);
}

/* ---- reading lines -------------------------------------------------------------------- */

static char *line_read;
static int line_done;

static void on_line(char *line)
{
	line_read = line;
	line_done = 1;
	rl_callback_handler_remove();
}

/* Ctrl-C at the prompt: drop the line, a fresh prompt. */
static void cancel_line(const char *prompt)
{
	rl_point = rl_end;
	rl_redisplay();
	fputs("^C\n", rl_outstream);
	fflush(rl_outstream);
	rl_callback_sigcleanup();
	rl_free_line_state();
	rl_callback_handler_remove();
	rl_callback_handler_install(prompt, on_line);
}

/* Ctrl-Z at the prompt: give the terminal back, stop, and on SIGCONT
 * take it again with the line as it was. */
static void suspend(const char *prompt, const sigset_t *wait_mask)
{
	char *saved = xstrdup(rl_line_buffer);
	int point = rl_point;
	sigset_t cur;
	struct sigaction old;
	rl_callback_handler_remove();
	fputc('\n', rl_outstream);
	fflush(rl_outstream);
	set_handler(SIGTSTP, SIG_DFL, 0, &old);
	sigprocmask(SIG_SETMASK, wait_mask, &cur);
	kill(getpid(), SIGTSTP);	/* stops here until SIGCONT */
	sigprocmask(SIG_SETMASK, &cur, NULL);
	sigaction(SIGTSTP, &old, NULL);
	rl_callback_handler_install(prompt, on_line);
	rl_replace_line(saved, 0);
	rl_point = point <= rl_end ? point : rl_end;
	rl_redisplay();
	free(saved);
}

/* One line from the terminal, with readline's callback interface and
 * pselect, so that SIGINT, SIGWINCH and SIGTSTP are taken only between
 * keys.  NULL at end of input. */
static char *read_line_tty(const char *prompt)
{
	sigset_t block, wait_mask;
	struct sigaction old_tstp;
	int fd = fileno(rl_instream);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGWINCH);
	sigaddset(&block, SIGTSTP);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	set_handler(SIGTSTP, on_flag_signal, 0, &old_tstp);
	line_done = 0;
	line_read = NULL;
	got_sigint = got_sigtstp = 0;
	rl_callback_handler_install(prompt, on_line);
	while (!line_done) {
		fd_set fds;
		if (got_sigint) {
			got_sigint = 0;
			cancel_line(prompt);
			continue;
		}
		if (got_sigwinch) {
			got_sigwinch = 0;
			rl_resize_terminal();
		}
		if (got_sigtstp) {
			got_sigtstp = 0;
			suspend(prompt, &wait_mask);
			continue;
		}
		FD_ZERO(&fds);
		FD_SET(fd, &fds);
		if (pselect(fd + 1, &fds, NULL, NULL, NULL, &wait_mask) < 0) {
			if (errno == EINTR)
				continue;
			rl_callback_handler_remove();
			break;
		}
		rl_callback_read_char();
	}
	sigaction(SIGTSTP, &old_tstp, NULL);
	sigprocmask(SIG_SETMASK, &wait_mask, NULL);
	return line_read;
}

static char *read_line_plain(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (n < 0) {
		free(line);
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = 0;
	return line;
}

static char *make_prompt(const struct session *s)
{
	char who[64];
	int held = target_live_held() != 0;
	if (s->pid)
		snprintf(who, sizeof who, "%d", (int)s->pid);
	else {
		const char *base = strrchr(s->operand, '/');
		snprintf(who, sizeof who, "%s", base ? base + 1 : s->operand);
	}
	if (!s->colour)
		return xasprintf("heapinspect %s%s> ", who, held ? " (stopped)" : "");
	/* \001 \002: readline's marks around characters that take no room */
	return xasprintf("\001\033[1m\002heapinspect %s\001\033[0m\002%s> ", who,
			 held ? " \001\033[1;33m\002(stopped)\001\033[0m\002" : "");
}

/* ---- history ------------------------------------------------------------------------- */

static void history_start(struct session *s, const char *dir)
{
	int fd;
	using_history();
	stifle_history(HISTORY_MAX);
	if (!dir || mkdir_p(dir) < 0)
		return;
	s->history_file = xasprintf("%s/history", dir);
	fd = open(s->history_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(s->history_file);
		s->history_file = NULL;
		return;
	}
	close(fd);
	read_history(s->history_file);
}

static void history_note(struct session *s, const char *line)
{
	HIST_ENTRY *last;
	if (!s->tty || !line[strspn(line, " \t")] || line[0] == ' ')
		return;	/* blank, or a leading space: not kept (as bash's ignorespace) */
	last = history_length ? history_get(history_base + history_length - 1) : NULL;
	if (last && !strcmp(last->line, line))
		return;
	add_history(line);
	if (s->history_file)
		append_history(1, s->history_file);
}

/* ---- the session ---------------------------------------------------------------------- */

int repl_main(const struct options *o)
{
	struct session s;
	uint64_t pid;
	char *dir;
	memset(&s, 0, sizeof s);
	s.operand = o->core ? o->core : o->image ? o->image : o->pid_arg;
	if (!s.operand) {
		warnx_("-i takes a PID, a snapshot file or --core CORE");
		return EXIT_USAGE;
	}
	s.source = operand_source(s.operand, o->exe);
	if (o->image)
		s.source.kind = TARGET_IMAGE;
	else if (o->core)
		s.source.kind = TARGET_CORE;
	s.pid = s.source.kind == TARGET_LIVE && parse_u64(s.operand, &pid) == 0 ? (pid_t)pid : 0;
	s.debuginfo_path = o->debuginfo_path;
	s.tty = isatty(STDIN_FILENO);
	s.out_tty = isatty(STDOUT_FILENO);

	if (load(&s, 1) < 0)
		return EXIT_TARGET;
	set_handler(SIGINT, on_sigint, SA_RESTART, NULL);
	set_handler(SIGWINCH, on_flag_signal, SA_RESTART, NULL);

	dir = state_dir();
	if (dir)
		s.snap_dir = xasprintf("%s/snapshots", dir);
	if (s.tty) {
		rl_readline_name = "heapinspect";
		rl_instream = stdin;
		rl_outstream = s.out_tty ? stdout : stderr;
		rl_catch_signals = 0;
		rl_catch_sigwinch = 0;
		rl_change_environment = 0;
		rl_attempted_completion_function = complete;
		rl_basic_word_break_characters = " \t\n\"'=,";
		rl_completer_quote_characters = "\"'";
		completing = &s;
		s.colour = isatty(fileno(rl_outstream)) && !(getenv("NO_COLOR") && *getenv("NO_COLOR")) &&
			   !(getenv("TERM") && !strcmp(getenv("TERM"), "dumb"));
		history_start(&s, dir);
	}
	free(dir);

	print_copy(&s);
	if (s.tty)
		printf("help lists the commands; Tab completes; Ctrl-D or quit leaves\n");
	while (!s.done) {
		char *line, *prompt;
		fflush(stdout);
		if (s.tty) {
			prompt = make_prompt(&s);
			line = read_line_tty(prompt);
			free(prompt);
		} else {
			line = read_line_plain();
		}
		if (!line) {
			if (s.tty)
				fputc('\n', rl_outstream);
			break;
		}
		history_note(&s, line);
		run_line(&s, line);
		free(line);
	}

	target_live_release();
	settle_signals();
	if (s.history_file)
		history_truncate_file(s.history_file, HISTORY_MAX);
	fflush(stdout);
	free_words(s.more_argv);
	cands_clear();
	free(cands);
	free(s.history_file);
	free(s.snap_dir);
	model_free(s.m);
	target_free(s.t);
	return EXIT_SUCCESS;
}
