/*
 * symbols.h - modules, symbols and DWARF of the target, through libdwfl.
 *
 * The module list is reported from the maps text the target captured
 * (dwfl_linux_proc_maps_report), so symbols describe exactly the snapshot
 * being walked, live or from an image; for a core, libdwfl reports it from
 * the core itself (dwfl_core_file_report: link_map, NT_FILE, build-ids).
 * ELF and debuginfo files are found the standard libdwfl way (build-id
 * under the debuginfo path; a core's files also by the names it records,
 * checked against their build-ids).
 *
 * Invariant: a missing file, symbol or DWARF is an answer ("not found"),
 * never an error; callers fall back to layout tables and heuristics and say
 * which method they used.
 */
#ifndef HEAPINSPECT_SYMBOLS_H
#define HEAPINSPECT_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>
#include <elfutils/libdwfl.h>

#include "target.h"

struct symbols {
	Dwfl *dwfl;
	Dwfl_Callbacks callbacks;
	char *debuginfo_path;
	const struct target *target;	/* whose modules these are */
	Elf *core_elf;			/* a core target: the core, for libdwfl */
	int core_fd;
};

/* DEBUGINFO_PATH: libdwfl syntax, NULL for the default. 0 on success. */
int symbols_open(struct symbols *s, const struct target *t, const char *debuginfo_path,
		 char **err);
void symbols_close(struct symbols *s);

/* First module whose file name's basename starts with PREFIX, or NULL. */
Dwfl_Module *symbols_module(struct symbols *s, const char *prefix);
const char *symbols_module_path(Dwfl_Module *mod);

/* Address of the data symbol NAME in MOD (any binding).  0 on success. */
int symbols_lookup(Dwfl_Module *mod, const char *name, uint64_t *addr);

/* The first data symbol of MOD for which MATCH(symbol name, WANTED) is
 * true: its address and size.  0 on success. */
int symbols_find(Dwfl_Module *mod, bool (*match)(const char *symbol, const char *wanted),
		 const char *wanted, uint64_t *addr, uint64_t *size);

/* Address of the file-local data symbol NAME defined in source file FILE
 * (the STT_FILE entry that precedes it in .symtab, e.g. "floatobject.c"):
 * several files may define statics of the same name.  0 on success. */
int symbols_lookup_in_file(Dwfl_Module *mod, const char *file, const char *name,
			   uint64_t *addr);

/* The module whose file is PATH, or NULL. */
Dwfl_Module *symbols_module_by_path(struct symbols *s, const char *path);

/* Copy LEN bytes at run-time address ADDR of MOD from its ELF file (code
 * and read-only data the target's snapshot does not hold).  0 on success. */
int symbols_read_file_bytes(Dwfl_Module *mod, uint64_t addr, void *out, size_t len);

/* MOD's DWARF (separate debuginfo included), or NULL. */
Dwarf *symbols_dwarf(Dwfl_Module *mod);

#endif
