/*
 * target_core.c - an ELF core file (gcore, or the kernel's core dump) as a
 * target: the dead process is walked exactly like a live copy.
 *
 * What a core gives us, and where it goes in the target:
 *   - PT_LOAD segments, one per mapping of the process: the mappings (as
 *     /proc/PID/maps would have printed them) and, for the mappings the
 *     live backend would copy, the region bytes, used in place from the
 *     core file mapped read-only;
 *   - NT_FILE: the file behind each file-backed mapping (path, offset);
 *   - NT_PRSTATUS: one per thread, its tid and %fs base (tcache pointers);
 *   - NT_PRPSINFO: the pid;  NT_AUXV: AT_ENTRY (which file is the
 *     executable) and AT_SYSINFO_EHDR (the vDSO).
 * Notes and program headers are read with libelf (gelf_getnote); the
 * modules and their build-ids are reported by libdwfl from the same core
 * (symbols.c, dwfl_core_file_report).
 *
 * Names the kernel does not write: "[heap]" is the anonymous mapping where
 * the brk area starts (the first one past the executable's image, within
 * the kernel's brk randomisation, see BRK_RANDOM_RANGE); "[stack]"
 * the one holding the main thread's stack pointer.
 *
 * Invariants:
 *   - Missing bytes are never guessed.  A segment the core holds only in
 *     part (coredump_filter, or a file mapping the kernel skipped because
 *     it was never written) is completed from its file only when the
 *     mapping is file-backed, the file is there and, where the core holds
 *     the file's first page, that page matches; anything else stays "not
 *     copied" and is reported as a note (target->notes).
 *   - A core cut short (a segment or note past the end of the file) is an
 *     error naming both sizes, never a partial walk.
 *   - Residency only where the core says it.  The kernel dumps a page of
 *     anonymous memory only if it has contents (present and not the zero
 *     page, or swapped out: get_dump_page, FOLL_DUMP) and leaves a hole in
 *     the file for the others; a page of a file mapping is dumped whole
 *     once the mapping was written to.  So in a sparse kernel core the
 *     resident private anonymous pages (what RssAnon counts) are the
 *     dumped pages of anonymous mappings and the dumped pages of file
 *     mappings that differ from the file (copy-on-write); RssAnon itself
 *     is not recorded (TARGET_RSS_UNKNOWN).  gdb's gcore writes every page
 *     (its cores carry a "GDB" note), and a core without any hole was
 *     written through a pipe or copied densely: residency is then unknown.
 *     SEEK_DATA/SEEK_HOLE see holes at the file system's block size
 *     (4 KiB on ext4 and tmpfs).
 */
#include "config.h"

#include "target.h"
#include "util.h"

#include <elf.h>
#include <errno.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/reg.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096ull
/* arch_randomize_brk() (linux arch/x86/kernel/process.c): the brk area
 * starts up to 1 GiB past the end of the image (32 MiB for 32-bit tasks) */
#define BRK_RANDOM_RANGE (1ull << 30)
#define VSYSCALL_ADDR 0xffffffffff600000ull	/* x86-64's fixed legacy page */
#define MAX_NT_FILE_ENTRIES (1u << 20)
#define MAX_MISSING_NOTES 8	/* one note each, then a total */

struct core_segment {
	uint64_t start, end;		/* the mapping: p_vaddr, p_vaddr + p_memsz */
	uint64_t offset, filesz;	/* its bytes in the core */
	unsigned prot;
	const char *path;		/* from NT_FILE, "" if anonymous */
	uint64_t file_offset;		/* from NT_FILE */
};

struct core {
	const char *path;
	const unsigned char *base;	/* the core, mapped whole */
	uint64_t size;
	Elf *elf;
	struct core_segment *segs;
	size_t nsegs;
	char *nt_file;			/* the NT_FILE note's copy (paths point in) */
	uint64_t entry, vdso;		/* AT_ENTRY, AT_SYSINFO_EHDR */
	pid_t pid;
	int by_gdb;			/* it has a note of owner "GDB": a gcore */
};

static char *core_error(const struct core *c, const char *what)
{
	return xasprintf("%s: %s", c->path, what);
}

static unsigned prot_of(uint32_t flags)
{
	return (flags & PF_R ? TARGET_PROT_READ : 0) | (flags & PF_W ? TARGET_PROT_WRITE : 0) |
	       (flags & PF_X ? TARGET_PROT_EXEC : 0);
}

static int check_header(struct core *c, char **err)
{
	GElf_Ehdr eh;
	if (elf_kind(c->elf) != ELF_K_ELF || !gelf_getehdr(c->elf, &eh)) {
		*err = core_error(c, "not an ELF file");
		return -1;
	}
	if (eh.e_type != ET_CORE) {
		*err = core_error(c, "an ELF file, but not a core file (give it to --exe, "
				     "and the core to --core)");
		return -1;
	}
	if (gelf_getclass(c->elf) != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		*err = xasprintf("%s: a core of another architecture (ELF machine %u); "
				 "heapinspect reads x86-64 cores", c->path, (unsigned)eh.e_machine);
		return -1;
	}
	return 0;
}

/* The bytes [OFFSET, OFFSET + LEN) of the core, or an error if the file
 * ends before them. */
static int in_file(const struct core *c, uint64_t offset, uint64_t len, const char *what,
		   char **err)
{
	if (offset <= c->size && len <= c->size - offset)
		return 0;
	*err = xasprintf("%s: truncated core: %s end at byte %llu, the file has %llu bytes "
			 "(the dump was cut short)", c->path, what,
			 (unsigned long long)(offset + len), (unsigned long long)c->size);
	return -1;
}

/* The permissions of the mapping of PATH at FILE_OFFSET, from the ELF
 * file's own program headers (the PT_LOAD holding that offset, less write
 * under PT_GNU_RELRO); r-- if PATH is not an ELF file.  *WRITABLE (if not
 * NULL): the PT_LOAD is writable, so the process may have changed these
 * pages (data, or relocations under RELRO) and the file is no stand-in. */
static unsigned file_mapping_prot(const char *path, uint64_t file_offset, int *writable)
{
	unsigned prot = TARGET_PROT_READ, load = 0, relro = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf = fd < 0 ? NULL : elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t n = 0, i;
	GElf_Phdr ph;
	if (elf && elf_getphdrnum(elf, &n) == 0)
		for (i = 0; i < n; i++) {
			if (!gelf_getphdr(elf, (int)i, &ph) ||
			    file_offset < (ph.p_offset & ~(PAGE - 1)) ||
			    file_offset >= ph.p_offset + ph.p_filesz)
				continue;
			if (ph.p_type == PT_LOAD && !load) {
				prot = prot_of(ph.p_flags);
				load = 1;
				if (writable)
					*writable = (ph.p_flags & PF_W) != 0;
			} else if (ph.p_type == PT_GNU_RELRO) {
				relro = 1;
			}
		}
	if (relro)
		prot &= ~TARGET_PROT_WRITE;
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	return prot;
}

/* A file mapping NT_FILE lists: it names the segment of the same range,
 * or, when the core has no segment for it (gdb leaves out file mappings
 * never written), becomes a segment with no bytes in the core. */
static void add_file_mapping(struct core *c, const uint64_t e[3], uint64_t page, const char *name)
{
	size_t s;
	for (s = 0; s < c->nsegs; s++) {
		if (c->segs[s].start == e[0] && c->segs[s].end == e[1]) {
			c->segs[s].path = name;
			c->segs[s].file_offset = e[2] * page;
			return;
		}
		if (c->segs[s].start < e[1] && e[0] < c->segs[s].end)
			return;	/* overlaps a segment otherwise laid out: trust the segment */
	}
	c->segs = xrealloc(c->segs, (c->nsegs + 1) * sizeof *c->segs);
	c->segs[c->nsegs++] = (struct core_segment){ e[0], e[1], 0, 0,
		file_mapping_prot(name, e[2] * page, NULL), name, e[2] * page };
}

/* NT_FILE: u64 count, u64 page size, count x {start, end, page offset},
 * then count NUL-terminated paths (linux/fs/binfmt_elf.c, fill_files_note;
 * the kernel counts offsets in pages of PAGE_SIZE, gdb's gcore in bytes,
 * page size 1). */
static void read_nt_file(struct core *c, const unsigned char *desc, size_t len)
{
	uint64_t count, page, i;
	const char *name, *end;
	if (len < 16 || c->nt_file)
		return;
	memcpy(&count, desc, 8);
	memcpy(&page, desc + 8, 8);
	if (count > MAX_NT_FILE_ENTRIES || 16 + count * 24 > len || !page)
		return;
	c->nt_file = xmalloc(len + 1);
	memcpy(c->nt_file, desc, len);
	c->nt_file[len] = 0;
	name = c->nt_file + 16 + count * 24;
	end = c->nt_file + len;
	for (i = 0; i < count && name < end; i++, name += strlen(name) + 1) {
		uint64_t e[3];
		memcpy(e, desc + 16 + i * 24, sizeof e);
		if (e[0] < e[1] && e[0] % PAGE == 0 && e[1] % PAGE == 0)
			add_file_mapping(c, e, page, name);
	}
}

static void read_auxv(struct core *c, const unsigned char *desc, size_t len)
{
	size_t i;
	for (i = 0; i + 16 <= len; i += 16) {
		uint64_t a[2];
		memcpy(a, desc + i, sizeof a);
		if (a[0] == AT_ENTRY)
			c->entry = a[1];
		else if (a[0] == AT_SYSINFO_EHDR)
			c->vdso = a[1];
	}
}

static void add_thread(struct target *t, const struct elf_prstatus *st)
{
	t->threads = xrealloc(t->threads, (t->nthreads + 1) * sizeof *t->threads);
	t->threads[t->nthreads].tid = st->pr_pid;
	t->threads[t->nthreads].fs_base = st->pr_reg[FS_BASE];
	t->nthreads++;
}

/* The main thread's stack pointer (0 if unknown), for naming [stack]. */
static uint64_t read_note(struct core *c, struct target *t, const GElf_Nhdr *nh,
			  const unsigned char *desc)
{
	struct elf_prstatus st;
	struct elf_prpsinfo ps;
	switch (nh->n_type) {
	case NT_PRSTATUS:
		if (nh->n_descsz < sizeof st)
			return 0;
		memcpy(&st, desc, sizeof st);
		add_thread(t, &st);
		if (!c->pid)
			c->pid = st.pr_pid;	/* the kernel writes the dumping thread first */
		return st.pr_pid == c->pid ? st.pr_reg[RSP] : 0;
	case NT_PRPSINFO:
		if (nh->n_descsz >= sizeof ps) {
			memcpy(&ps, desc, sizeof ps);
			c->pid = ps.pr_pid;
		}
		return 0;
	case NT_AUXV:
		read_auxv(c, desc, nh->n_descsz);
		return 0;
	case NT_FILE:
		read_nt_file(c, desc, nh->n_descsz);
		return 0;
	}
	return 0;
}

/* Every note of the PT_NOTE segment at OFFSET.  Returns the main thread's
 * stack pointer as read_note() found it. */
static uint64_t read_notes(struct core *c, struct target *t, uint64_t offset, uint64_t len)
{
	Elf_Data *data = elf_getdata_rawchunk(c->elf, (int64_t)offset, len, ELF_T_NHDR);
	size_t pos = 0, name_off, desc_off, next;
	GElf_Nhdr nh;
	uint64_t sp = 0, s;
	if (!data)
		return 0;
	while (pos < data->d_size &&
	       (next = gelf_getnote(data, pos, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_namesz == 4 && !memcmp((const char *)data->d_buf + name_off, "GDB", 4))
			c->by_gdb = 1;
		if (nh.n_namesz == 5 && !memcmp((const char *)data->d_buf + name_off, "CORE", 5) &&
		    (s = read_note(c, t, &nh, (const unsigned char *)data->d_buf + desc_off)))
			sp = s;
		pos = next;
	}
	return sp;
}

/* Program headers: the segments, then the notes (NT_FILE names segments). */
static int read_program_headers(struct core *c, struct target *t, uint64_t *main_sp, char **err)
{
	size_t n, i;
	GElf_Phdr ph;
	GElf_Ehdr eh;
	if (!gelf_getehdr(c->elf, &eh) || elf_getphdrnum(c->elf, &n) != 0) {
		*err = core_error(c, "unreadable program headers (truncated or not a core)");
		return -1;
	}
	if (eh.e_phnum != PN_XNUM)
		n = eh.e_phnum;	/* libelf may count fewer when they are cut off */
	if (in_file(c, eh.e_phoff, (uint64_t)n * eh.e_phentsize, "its program headers", err) < 0)
		return -1;
	c->segs = xcalloc(n ? n : 1, sizeof *c->segs);
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(c->elf, (int)i, &ph)) {
			*err = core_error(c, "unreadable program header");
			return -1;
		}
		if ((ph.p_type == PT_LOAD || ph.p_type == PT_NOTE) &&
		    in_file(c, ph.p_offset, ph.p_filesz,
			    ph.p_type == PT_LOAD ? "its memory segments" : "its notes", err) < 0)
			return -1;
		if (ph.p_type != PT_LOAD || !ph.p_memsz || ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			continue;
		c->segs[c->nsegs++] = (struct core_segment){
			ph.p_vaddr, ph.p_vaddr + ph.p_memsz, ph.p_offset,
			ph.p_filesz < ph.p_memsz ? ph.p_filesz : ph.p_memsz, prot_of(ph.p_flags), "", 0 };
	}
	for (i = 0; i < n; i++)
		if (gelf_getphdr(c->elf, (int)i, &ph) && ph.p_type == PT_NOTE) {
			uint64_t sp = read_notes(c, t, ph.p_offset, ph.p_filesz);
			if (sp)
				*main_sp = sp;
		}
	if (!t->nthreads) {
		*err = core_error(c, "no thread in the core (no NT_PRSTATUS note)");
		return -1;
	}
	return 0;
}

static int segment_cmp(const void *a, const void *b)
{
	const struct core_segment *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int is_anonymous_segment(const struct core_segment *s)
{
	return !s->path[0];
}

/* The executable: the file mapped where AT_ENTRY points. */
static const char *executable_path(const struct core *c)
{
	size_t i;
	for (i = 0; i < c->nsegs; i++)
		if (c->entry >= c->segs[i].start && c->entry < c->segs[i].end)
			return c->segs[i].path;
	return "";
}

/* The brk area: the first anonymous mapping past the executable's image,
 * within the brk randomisation range; when an anonymous mapping directly
 * follows the image (the tail of .bss) and another comes later, the later
 * one. */
static size_t brk_segment(const struct core *c, const char *exe)
{
	size_t i, first = c->nsegs;
	uint64_t image_end = 0;
	for (i = 0; i < c->nsegs; i++)
		if (exe[0] && !strcmp(c->segs[i].path, exe) && c->segs[i].end > image_end)
			image_end = c->segs[i].end;
	if (!image_end)
		return c->nsegs;
	for (i = 0; i < c->nsegs; i++) {
		const struct core_segment *s = &c->segs[i];
		if (!is_anonymous_segment(s) || s->start < image_end ||
		    s->start > image_end + BRK_RANDOM_RANGE + PAGE)
			continue;
		if (first == c->nsegs) {
			first = i;
			if (s->start != image_end)
				return i;
		} else {
			return i;
		}
	}
	return first;
}

/* Is segment I one of the kernel's vvar pages: read-only anonymous
 * segments running up to the vDSO ([vvar], and [vvar_vclock] from Linux
 * 6.13; both named "[vvar]" here)? */
static int is_vvar(const struct core *c, size_t i)
{
	size_t j;
	if (!c->vdso || (c->segs[i].prot & (TARGET_PROT_WRITE | TARGET_PROT_EXEC)))
		return 0;
	for (j = i; j + 1 < c->nsegs && j < i + 4; j++) {
		if (c->segs[j].end != c->segs[j + 1].start)
			return 0;
		if (c->segs[j + 1].start == c->vdso)
			return 1;
		if (!is_anonymous_segment(&c->segs[j + 1]) ||
		    (c->segs[j + 1].prot & (TARGET_PROT_WRITE | TARGET_PROT_EXEC)))
			return 0;
	}
	return 0;
}

static const char *segment_name(const struct core *c, size_t i, size_t brk, uint64_t main_sp)
{
	const struct core_segment *s = &c->segs[i];
	if (!is_anonymous_segment(s))
		return s->path;
	if (i == brk)
		return "[heap]";
	if (main_sp >= s->start && main_sp < s->end)
		return "[stack]";
	if (c->vdso == s->start)
		return "[vdso]";
	if (is_vvar(c, i))
		return "[vvar]";
	if (s->start == VSYSCALL_ADDR)
		return "[vsyscall]";
	return "";
}

/* The maps text /proc/PID/maps would have shown (device and inode
 * unknown: 00:00 and 0; anonymous mappings named as above). */
static char *maps_text(const struct core *c, uint64_t main_sp, const char *exe)
{
	size_t i, len = 0, cap = 0, brk = brk_segment(c, exe);
	char *text = NULL;
	for (i = 0; i < c->nsegs; i++) {
		const struct core_segment *s = &c->segs[i];
		char *line = xasprintf("%llx-%llx %c%c%cp %08llx 00:00 %d %s\n",
				       (unsigned long long)s->start, (unsigned long long)s->end,
				       s->prot & TARGET_PROT_READ ? 'r' : '-',
				       s->prot & TARGET_PROT_WRITE ? 'w' : '-',
				       s->prot & TARGET_PROT_EXEC ? 'x' : '-',
				       (unsigned long long)s->file_offset, s->path[0] ? 1 : 0,
				       segment_name(c, i, brk, main_sp));
		size_t n = strlen(line);
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			text = xrealloc(text, cap);
		}
		memcpy(text + len, line, n + 1);
		len += n;
		free(line);
	}
	return text ? text : xstrdup("");
}

static void add_note(struct target *t, char *note)
{
	t->notes = xrealloc(t->notes, (t->nnotes + 1) * sizeof *t->notes);
	t->notes[t->nnotes++] = note;
}

/* Does PATH's first page equal what the core holds of it, if it holds
 * it?  1 yes or unknown, 0 the file changed since the dump. */
static int file_matches_core(const struct core *c, const char *path, int fd)
{
	unsigned char page[PAGE];
	size_t i;
	for (i = 0; i < c->nsegs; i++) {
		const struct core_segment *s = &c->segs[i];
		if (strcmp(s->path, path) || s->file_offset != 0 || s->filesz < PAGE)
			continue;
		return pread(fd, page, PAGE, 0) == (ssize_t)PAGE &&
		       !memcmp(page, c->base + s->offset, PAGE);
	}
	return 1;
}

static int is_elf_file(int fd)
{
	char magic[SELFMAG];
	return pread(fd, magic, SELFMAG, 0) == SELFMAG && !memcmp(magic, ELFMAG, SELFMAG);
}

static const char *why_not_from_file(const struct core *c, const struct core_segment *s,
				     int fd, uint64_t file_end)
{
	struct stat st;
	int writable = 0;
	if (fd < 0)
		return "the file is not here";
	file_mapping_prot(s->path, s->file_offset, &writable);
	if (writable)
		return "the process may have written to it since it was mapped";
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < file_end || !file_matches_core(c, s->path, fd))
		return "the file here differs from the one mapped";
	return NULL;
}

/* Complete a file-backed segment the core holds only [start, start +
 * filesz) of, from its file: only pages the process cannot have changed
 * (read-only, not RELRO) of an unchanged file.  As the live backend, only
 * ELF files; other files hold no heap.  0, or -1 (with a note) if it
 * cannot. */
static int complete_from_file(const struct core *c, struct target *t,
			      const struct core_segment *s)
{
	uint64_t from = s->start + s->filesz, len = s->end - from;
	uint64_t file_at = s->file_offset + s->filesz;
	const char *why;
	void *p;
	int fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !s->filesz && !is_elf_file(fd)) {
		close(fd);
		return 0;
	}
	if ((why = why_not_from_file(c, s, fd, file_at + len)) != NULL) {
		add_note(t, xasprintf("%llx-%llx (%s): not in the core, and %s: its bytes are "
				      "not read", (unsigned long long)from,
				      (unsigned long long)s->end, s->path, why));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, (off_t)file_at);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	target_own_mapping(t, p, len);
	target_add_region(t, from, s->end, p);
	return 0;
}

/* The segments the live backend would copy: readable, private, not code,
 * not the kernel's pages; anonymous memory and the data of files. */
static int wanted(const struct core_segment *s, const char *name)
{
	if (!(s->prot & TARGET_PROT_READ) || (s->prot & TARGET_PROT_EXEC) ||
	    !strcmp(name, "[vdso]") || !strcmp(name, "[vsyscall]"))
		return 0;
	return 1;
}

static void add_regions(const struct core *c, struct target *t)
{
	uint64_t missing = 0;
	size_t i, nmissing = 0;
	for (i = 0; i < c->nsegs; i++) {
		const struct core_segment *s = &c->segs[i];
		if (!wanted(s, t->maps[i].path))
			continue;
		if (s->filesz)
			target_add_region(t, s->start, s->start + s->filesz, c->base + s->offset);
		if (s->filesz == s->end - s->start)
			continue;
		if (!is_anonymous_segment(s)) {
			complete_from_file(c, t, s);
			continue;
		}
		missing += s->end - s->start - s->filesz;
		if (++nmissing <= MAX_MISSING_NOTES)
			add_note(t, xasprintf("%llx-%llx %s: %llu bytes of anonymous memory not in the "
				      "core (left out by coredump_filter?): not read, not guessed",
				      (unsigned long long)(s->start + s->filesz),
				      (unsigned long long)s->end, t->maps[i].path[0] ? t->maps[i].path : "",
				      (unsigned long long)(s->end - s->start - s->filesz)));
	}
	if (nmissing > MAX_MISSING_NOTES)
		add_note(t, xasprintf("in all %zu anonymous mappings, %llu bytes, are missing from "
				      "the core", nmissing, (unsigned long long)missing));
}

static void set_page_bits(uint8_t *bits, uint64_t first, uint64_t end)
{
	for (; first < end; first++)
		bits[first / 8] |= (uint8_t)(1u << (first % 8));
}

/* Set BITS for the pages of S whose bytes the core file holds as data
 * (not a hole).  Returns the bytes of S's data range that are holes. */
static uint64_t mark_dumped_pages(int fd, const struct core_segment *s, uint8_t *bits)
{
	off_t pos = (off_t)s->offset, end = (off_t)(s->offset + s->filesz), data, hole;
	uint64_t holes = 0;
	while (pos < end) {
		data = lseek(fd, pos, SEEK_DATA);
		if (data < 0 && errno != ENXIO)
			data = pos;	/* holes not reported: all data */
		if (data < 0 || data >= end) {
			holes += (uint64_t)(end - pos);
			break;
		}
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || hole > end)
			hole = end;
		holes += (uint64_t)(data - pos);
		set_page_bits(bits, ((uint64_t)data - s->offset) / PAGE,
			      ((uint64_t)hole - s->offset + PAGE - 1) / PAGE);
		pos = hole;
	}
	return holes;
}

/* Of the dumped pages of file mapping S (BITS), keep those that differ
 * from the file: the copy-on-write ones.  Unreadable file: all are kept
 * (the dumped pages of a written mapping are mostly its written ones). */
static void keep_written_pages(const struct core *c, const struct core_segment *s, uint8_t *bits)
{
	unsigned char page[PAGE];
	uint64_t i, npages = s->filesz / PAGE;
	int fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < npages; i++)
		if ((bits[i / 8] & (1u << (i % 8))) &&
		    pread(fd, page, PAGE, (off_t)(s->file_offset + i * PAGE)) == (ssize_t)PAGE &&
		    !memcmp(page, c->base + s->offset + i * PAGE, PAGE))
			bits[i / 8] &= (uint8_t)~(1u << (i % 8));
	close(fd);
}

static int has_residency(const struct core_segment *s, const char *name)
{
	return s->prot && strcmp(name, "[vdso]") && strcmp(name, "[vsyscall]") &&
	       strcmp(name, "[vvar]");
}

/* Page residency from the holes of a kernel core (see the header). */
static void read_residency(const struct core *c, struct target *t)
{
	uint64_t holes = 0;
	size_t i;
	int fd;
	if (c->by_gdb) {
		t->residency_source = RESIDENCY_NONE_GDB_CORE;
		return;
	}
	if ((fd = open(c->path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	t->residency_owned = 1;
	for (i = 0; i < c->nsegs; i++) {
		const struct core_segment *s = &c->segs[i];
		uint8_t *bits;
		if (!has_residency(s, t->maps[i].path))
			continue;
		bits = xcalloc((s->end - s->start) / PAGE / 8 + 1, 1);
		holes += mark_dumped_pages(fd, s, bits);
		if (!is_anonymous_segment(s))
			keep_written_pages(c, s, bits);
		*ARRAY_PUSH(t->residency, t->nresidency, t->residency_cap) =
			(struct target_residency){ s->start, s->end, bits };
	}
	close(fd);
	if (!holes) {	/* dense: the dumped pages say nothing */
		for (i = 0; i < t->nresidency; i++)
			free((void *)t->residency[i].bits);
		t->nresidency = 0;
	}
	t->have_residency = holes > 0;
	t->residency_source = holes ? RESIDENCY_CORE_DUMPED : RESIDENCY_NONE_DENSE_CORE;
	t->rss_anon = TARGET_RSS_UNKNOWN;
}

static int map_core(struct core *c, struct target *t, char **err)
{
	struct stat st;
	void *p;
	int fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		*err = xasprintf("cannot open core %s: %m", c->path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		*err = core_error(c, S_ISREG(st.st_mode) ? "too short for an ELF core file"
							 : "not a regular file");
		return -1;
	}
	/* private and writable: libelf may convert in place; the file is never written */
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		*err = xasprintf("cannot map core %s: %m", c->path);
		return -1;
	}
	t->storage = p;
	t->storage_len = (size_t)st.st_size;
	c->base = p;
	c->size = (uint64_t)st.st_size;
	elf_version(EV_CURRENT);
	c->elf = elf_memory(p, (size_t)st.st_size);
	if (!c->elf) {
		*err = core_error(c, "not an ELF file");
		return -1;
	}
	return 0;
}

/* --exe must be the program the core is of: its build-id must be in the
 * core's copy of the executable's first page (where the linker puts the
 * build-id note).  0, or -1 with *ERR.  Unknown (no build-id, page not in
 * the core) passes. */
static int check_exe(const struct core *c, const char *exe, char **err)
{
	const char *core_exe = executable_path(c);
	const void *id = NULL;
	ssize_t n = 0;
	size_t i;
	int fd = open(exe, O_RDONLY | O_CLOEXEC);
	Elf *elf = fd < 0 ? NULL : elf_begin(fd, ELF_C_READ_MMAP, NULL);
	int mismatch = 0;
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		*err = xasprintf("--exe %s: not an ELF file%s", exe, fd < 0 ? " (cannot open it)" : "");
		goto out;
	}
	n = dwelf_elf_gnu_build_id(elf, &id);
	for (i = 0; n > 0 && core_exe[0] && i < c->nsegs; i++) {
		const struct core_segment *s = &c->segs[i];
		if (!strcmp(s->path, core_exe) && s->file_offset == 0 && s->filesz >= PAGE)
			mismatch = !memmem(c->base + s->offset, PAGE, id, (size_t)n);
	}
	if (mismatch)
		*err = xasprintf("--exe %s is not the program this core is of (its build-id is not "
				 "in the core's copy of %s)", exe, core_exe);
out:
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	return *err ? -1 : 0;
}

static int thread_cmp(const void *a, const void *b)
{
	const struct target_thread *x = a, *y = b;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

static int build_target(struct core *c, struct target *t, const char *exe, char **err)
{
	uint64_t main_sp = 0;
	if (check_header(c, err) < 0 || read_program_headers(c, t, &main_sp, err) < 0)
		return -1;
	qsort(c->segs, c->nsegs, sizeof *c->segs, segment_cmp);
	/* by tid, as /proc/PID/task lists them live (the kernel writes the
	 * dumping thread first) */
	qsort(t->threads, t->nthreads, sizeof *t->threads, thread_cmp);
	if (exe && check_exe(c, exe, err) < 0)
		return -1;
	t->pid = c->pid;
	t->exe = xstrdup(exe ? exe : executable_path(c));
	t->maps_text = maps_text(c, main_sp, executable_path(c));
	if (target_parse_maps(t, t->maps_text) < 0 || t->nmaps != c->nsegs) {
		*err = core_error(c, "overlapping or malformed memory segments");
		return -1;
	}
	add_regions(c, t);
	read_residency(c, t);
	if (target_finish_regions(t) < 0) {
		*err = core_error(c, "overlapping memory segments");
		return -1;
	}
	return 0;
}

struct target *target_open_core(const char *path, const char *exe, char **err)
{
	struct core c = { .path = path };
	struct target *t = xcalloc(1, sizeof *t);
	t->kind = TARGET_CORE;
	t->core_path = xstrdup(path);
	t->residency_source = RESIDENCY_NONE_DENSE_CORE;
	if (map_core(&c, t, err) < 0 || build_target(&c, t, exe, err) < 0) {
		target_free(t);
		t = NULL;
	}
	if (c.elf)
		elf_end(c.elf);
	free(c.segs);
	free(c.nt_file);
	return t;
}

int target_is_core_file(const char *path)
{
	unsigned char h[sizeof(Elf64_Ehdr)];
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY | O_CLOEXEC), core;
	if (fd < 0)
		return 0;
	core = read(fd, h, sizeof h) == (ssize_t)sizeof h && !memcmp(h, ELFMAG, SELFMAG);
	close(fd);
	if (!core)
		return 0;
	memcpy(&eh, h, sizeof eh);
	return eh.e_type == ET_CORE;
}
