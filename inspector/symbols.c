/*
 * symbols.c - libdwfl front end: report the target's modules, find
 * symbols and DWARF.  Modelled on elfutils' src/stack.c.
 */
#include "config.h"

#include "symbols.h"
#include "util.h"

#include <fcntl.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A live process or an image: the modules its maps text names. */
static int report_from_maps(struct symbols *s, const struct target *t, char **err)
{
	FILE *maps = fmemopen(t->maps_text, strlen(t->maps_text), "r");
	int r;
	if (!maps) {
		*err = xasprintf("cannot read the target's mappings");
		return -1;
	}
	dwfl_report_begin(s->dwfl);
	r = dwfl_linux_proc_maps_report(s->dwfl, maps);
	fclose(maps);
	if (r != 0) {
		*err = xasprintf("libdwfl cannot report modules: %s", dwfl_errmsg(-1));
		return -1;
	}
	dwfl_report_end(s->dwfl, NULL, NULL);
	return 0;
}

/* A core: libdwfl finds the modules (link_map, NT_FILE) and their
 * build-ids in the core itself, and their files by build-id. */
static int report_from_core(struct symbols *s, const struct target *t, char **err)
{
	s->core_fd = open(t->core_path, O_RDONLY | O_CLOEXEC);
	elf_version(EV_CURRENT);
	s->core_elf = s->core_fd < 0 ? NULL : elf_begin(s->core_fd, ELF_C_READ_MMAP, NULL);
	if (!s->core_elf) {
		*err = xasprintf("cannot read core %s", t->core_path);
		return -1;
	}
	dwfl_report_begin(s->dwfl);
	if (dwfl_core_file_report(s->dwfl, s->core_elf, t->exe[0] ? t->exe : NULL) < 0) {
		*err = xasprintf("libdwfl cannot report the core's modules: %s", dwfl_errmsg(-1));
		return -1;
	}
	dwfl_report_end(s->dwfl, NULL, NULL);
	return 0;
}

int symbols_open(struct symbols *s, const struct target *t, const char *debuginfo_path,
		 char **err)
{
	int core = t->kind == TARGET_CORE;
	memset(s, 0, sizeof *s);
	s->core_fd = -1;
	s->target = t;
	s->debuginfo_path = debuginfo_path ? xstrdup(debuginfo_path) : NULL;
	s->callbacks.find_elf = core ? dwfl_build_id_find_elf : dwfl_linux_proc_find_elf;
	s->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
	s->callbacks.debuginfo_path = &s->debuginfo_path;
	s->dwfl = dwfl_begin(&s->callbacks);
	if (!s->dwfl) {
		*err = xasprintf("libdwfl: %s", dwfl_errmsg(-1));
		symbols_close(s);
		return -1;
	}
	if ((core ? report_from_core : report_from_maps)(s, t, err) < 0) {
		symbols_close(s);	/* nothing leaks on failure */
		return -1;
	}
	return 0;
}

void symbols_close(struct symbols *s)
{
	if (s->dwfl)
		dwfl_end(s->dwfl);
	if (s->core_elf)
		elf_end(s->core_elf);
	if (s->core_fd >= 0)
		close(s->core_fd);
	free(s->debuginfo_path);
	memset(s, 0, sizeof *s);
}

/* The first module whose file name satisfies MATCH(name, WANTED). */
struct module_search {
	bool (*match)(const char *name, const char *wanted);
	const char *wanted;
	Dwfl_Module *found;
};

static int match_module(Dwfl_Module *mod, void **userdata, const char *name,
			Dwarf_Addr start, void *arg)
{
	struct module_search *ms = arg;
	(void)userdata;
	(void)start;
	if (!ms->match(name, ms->wanted))
		return DWARF_CB_OK;
	ms->found = mod;
	return DWARF_CB_ABORT;
}

static Dwfl_Module *find_module(struct symbols *s,
				bool (*match)(const char *name, const char *wanted),
				const char *wanted)
{
	struct module_search ms = { match, wanted, NULL };
	dwfl_getmodules(s->dwfl, match_module, &ms, 0);
	return ms.found;
}

static bool basename_starts_with(const char *name, const char *prefix)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	return !strncmp(base, prefix, strlen(prefix));
}

static bool path_equal(const char *name, const char *path)
{
	return !strcmp(name, path);
}

Dwfl_Module *symbols_module(struct symbols *s, const char *prefix)
{
	return find_module(s, basename_starts_with, prefix);
}

/* By address first: the module over the file's first mapping (a core's
 * modules are named by soname or basename, not by the mapped path). */
Dwfl_Module *symbols_module_by_path(struct symbols *s, const char *path)
{
	size_t i;
	for (i = 0; s->target && i < s->target->nmaps; i++) {
		const struct target_mapping *mp = &s->target->maps[i];
		Dwfl_Module *mod;
		if (strcmp(mp->path, path) != 0)
			continue;
		if ((mod = dwfl_addrmodule(s->dwfl, mp->start)) != NULL)
			return mod;
	}
	return find_module(s, path_equal, path);
}

const char *symbols_module_path(Dwfl_Module *mod)
{
	const char *mainfile = NULL;
	const char *name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, NULL);
	return mainfile ? mainfile : name;
}

static bool names_equal(const char *symbol, const char *wanted)
{
	return !strcmp(symbol, wanted);
}

/* Call VISIT for every defined data symbol of MOD, with the source file
 * named by the STT_FILE entry before it ("" if none), until VISIT returns
 * nonzero.  Returns that value, or 0. */
typedef int (*symbol_visit)(const char *file, const char *name, const GElf_Sym *sym,
			    GElf_Addr value, void *ctx);

static int each_data_symbol(Dwfl_Module *mod, symbol_visit visit, void *ctx)
{
	int i, n = dwfl_module_getsymtab(mod), r;
	const char *file = "";
	for (i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr value;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &value, NULL, NULL, NULL);
		if (!name)
			continue;
		if (GELF_ST_TYPE(sym.st_info) == STT_FILE) {
			const char *base = strrchr(name, '/');
			file = base ? base + 1 : name;
			continue;
		}
		if (sym.st_shndx != SHN_UNDEF && GELF_ST_TYPE(sym.st_info) == STT_OBJECT &&
		    (r = visit(file, name, &sym, value, ctx)) != 0)
			return r;
	}
	return 0;
}

struct symbol_query {
	bool (*match)(const char *symbol, const char *wanted);
	const char *file;	/* NULL: any file */
	const char *wanted;
	uint64_t addr, size;
};

static int query_visit(const char *file, const char *name, const GElf_Sym *sym,
		       GElf_Addr value, void *ctx)
{
	struct symbol_query *q = ctx;
	if ((q->file && strcmp(file, q->file)) || !q->match(name, q->wanted))
		return 0;
	q->addr = value;
	q->size = sym->st_size;
	return 1;
}

int symbols_find(Dwfl_Module *mod, bool (*match)(const char *symbol, const char *wanted),
		 const char *wanted, uint64_t *addr, uint64_t *size)
{
	struct symbol_query q = { match, NULL, wanted, 0, 0 };
	if (!each_data_symbol(mod, query_visit, &q))
		return -1;
	*addr = q.addr;
	if (size)
		*size = q.size;
	return 0;
}

int symbols_lookup(Dwfl_Module *mod, const char *name, uint64_t *addr)
{
	return symbols_find(mod, names_equal, name, addr, NULL);
}

int symbols_lookup_in_file(Dwfl_Module *mod, const char *file, const char *name,
			   uint64_t *addr)
{
	struct symbol_query q = { names_equal, file, name, 0, 0 };
	if (!each_data_symbol(mod, query_visit, &q))
		return -1;
	*addr = q.addr;
	return 0;
}

Dwarf *symbols_dwarf(Dwfl_Module *mod)
{
	Dwarf_Addr bias;
	return dwfl_module_getdwarf(mod, &bias);
}

int symbols_read_file_bytes(Dwfl_Module *mod, uint64_t addr, void *out, size_t len)
{
	Dwarf_Addr offset = addr, bias;
	Elf_Scn *scn = dwfl_module_address_section(mod, &offset, &bias);
	Elf_Data *data;
	GElf_Shdr shdr;
	if (!scn || !gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
		return -1;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf || offset > data->d_size || len > data->d_size - offset)
		return -1;
	memcpy(out, (const char *)data->d_buf + offset, len);
	return 0;
}
