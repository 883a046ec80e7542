/*
 * target.h - the memory source every walker reads from.
 *
 * A target is a frozen copy of the parts of a process the walkers need:
 * its mappings (as /proc/PID/maps printed them), its threads (tid and
 * thread pointer) and the bytes of the regions that were copied while the
 * process was paused.  Backends fill it: target_live.c from a live process
 * (pause, copy, resume), target_image.c from a memory-image file.
 *
 * Invariants:
 *   - Walkers never see the process itself: once a target is opened the
 *     live process is already running again, so analysis cannot lengthen
 *     the pause and cannot write to it.
 *   - regions[] are sorted by start and do not overlap; every region lies
 *     inside one mapping.  Bytes outside regions are "not copied": reads of
 *     them fail, they are never invented.
 *   - Every read is bounds-checked: a pointer read from the target is just
 *     a number until target_view() says its bytes are here.
 */
#ifndef HEAPINSPECT_TARGET_H
#define HEAPINSPECT_TARGET_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#define TARGET_PROT_READ  1u
#define TARGET_PROT_WRITE 2u
#define TARGET_PROT_EXEC  4u

struct target_mapping {
	uint64_t start, end;		/* [start, end) */
	uint64_t offset;		/* file offset */
	unsigned prot;			/* TARGET_PROT_* */
	int shared;			/* 's' rather than 'p' */
	uint64_t inode;
	const char *path;		/* "" for anonymous; "[heap]", "[stack]", ... */
};

struct target_region {
	uint64_t start, end;
	const unsigned char *bytes;
};

struct target_thread {
	pid_t tid;
	uint64_t fs_base;		/* thread pointer (x86-64 %fs base) */
};

/* Which pages of one mapping were resident private anonymous memory (what
 * RssAnon counts) at the pause, from /proc/PID/pagemap: present and not
 * file-backed or shared. */
struct target_residency {
	uint64_t start, end;		/* the mapping */
	const uint8_t *bits;		/* bit i: page start + i*4096 */
};

enum target_kind { TARGET_LIVE, TARGET_IMAGE, TARGET_CORE };

/* Where page residency comes from, or why there is none. */
enum residency_source {
	RESIDENCY_PAGEMAP,		/* live: /proc/PID/pagemap during the pause */
	RESIDENCY_CORE_DUMPED,		/* a kernel core: the pages it holds data for */
	RESIDENCY_NONE_FORMAT1,		/* a format-1 image: not recorded */
	RESIDENCY_NONE_GDB_CORE,	/* gdb's gcore writes every page, resident or not */
	RESIDENCY_NONE_DENSE_CORE,	/* a core without holes: written through a pipe,
					 * or copied without keeping them */
	RESIDENCY_NONE_SAVED,		/* an image saved from a target without any */
};
#define TARGET_RSS_UNKNOWN UINT64_MAX

struct target {
	enum target_kind kind;
	pid_t pid;
	char *exe;			/* path of the executable, "" if unknown */
	char *maps_text;		/* /proc/PID/maps as read */
	struct target_mapping *maps;
	size_t nmaps;
	struct target_region *regions;
	size_t nregions, regions_cap;
	struct target_thread *threads;
	size_t nthreads;
	uint64_t bytes_copied;		/* bytes held in regions */
	double pause_seconds;		/* live: how long the process was stopped */
	/* live: mappings copied with a plan made before the pause, how many
	 * of those plans still held during it, and mappings copied without
	 * one (new, or their bounds changed) */
	unsigned plans_made, plans_held, plans_missing;
	/* residency (live, kernel cores, and images from format 2); none in
	 * format-1 images or gdb cores: residency_source says why */
	int have_residency;
	enum residency_source residency_source;
	struct target_residency *residency;	/* sorted by start, private mappings */
	size_t nresidency, residency_cap;
	int residency_owned;		/* bits were malloc'd (live), else in storage */
	uint64_t rss_anon;		/* RssAnon of /proc/PID/status at the pause, bytes;
					 * TARGET_RSS_UNKNOWN if not measured (a core) */
	char *core_path;		/* core: the core file (symbols.c reports it to libdwfl) */
	char **notes;			/* what the backend could not read, and why */
	size_t nnotes;
	/* backend storage: an image file mapped whole (munmap'd on free) */
	void *storage;
	size_t storage_len;
	struct owned_mapping { void *addr; size_t len; } *owned;	/* munmap'd on free */
	size_t nowned, owned_cap;
};

/* Pointer to LEN copied bytes at ADDR, or NULL if any of them is not held. */
const void *target_view(const struct target *t, uint64_t addr, size_t len);

/* Copy LEN bytes at ADDR into OUT, across adjacent regions; 0 on success,
 * -1 if not all are held. */
int target_read(const struct target *t, uint64_t addr, void *out, size_t len);
int target_read_u64(const struct target *t, uint64_t addr, uint64_t *out);
int target_read_u32(const struct target *t, uint64_t addr, uint32_t *out);

/* The region holding ADDR, or NULL. */
const struct target_region *target_region_at(const struct target *t, uint64_t addr);

/* The first region starting above ADDR, or NULL. */
const struct target_region *target_next_region(const struct target *t, uint64_t addr);

/* Bytes of [START, END) on pages that were resident private anonymous
 * memory at the pause (a partly covered page counts for the part covered);
 * 0 if residency is unknown. */
uint64_t target_resident_bytes(const struct target *t, uint64_t start, uint64_t end);

/* The mapping holding ADDR, or NULL. */
const struct target_mapping *target_mapping_at(const struct target *t, uint64_t addr);

/* Parse maps text (the format of /proc/PID/maps) into t->maps.  Returns 0,
 * or -1 if a line is malformed. */
int target_parse_maps(struct target *t, const char *text);

/* Add a copied region (BYTES stay owned by whoever allocated them).
 * Regions may be added in any order; target_finish_regions() sorts and
 * checks them. */
void target_add_region(struct target *t, uint64_t start, uint64_t end,
		       const unsigned char *bytes);
/* Make T munmap [ADDR, ADDR+LEN) when it is freed. */
void target_own_mapping(struct target *t, void *addr, size_t len);
int target_finish_regions(struct target *t);

void target_free(struct target *t);

/* Backends.  On failure they return NULL and set *ERR to a message that
 * names the cause and, for EPERM, what to do about it. */
struct target *target_open_live(pid_t pid, char **err);
struct target *target_open_image(const char *path, char **err);
int target_write_image(const struct target *t, const char *path, char **err);
/* An ELF core (target_core.c); EXE: the executable, NULL to take the file
 * mapped at the core's entry point. */
struct target *target_open_core(const char *path, const char *exe, char **err);
/* Does PATH start like an ELF core file? */
int target_is_core_file(const char *path);

/* Hold a live process stopped across copies (the REPL's stop/cont): every
 * thread is seized and interrupted now and stays stopped until
 * target_live_release() (or exit, or a fatal signal: the safety handlers
 * stay installed while the hold lasts).  target_open_live() of the held
 * PID copies without pausing again and leaves it held; if that copy fails
 * the hold is released.  0, or -1 with *ERR. */
int target_live_hold(pid_t pid, char **err);
void target_live_release(void);
/* The held process, or 0. */
pid_t target_live_held(void);

#endif
