/*
 * python_locate.c - find CPython in the target: the interpreter module,
 * its version and layout row, and the obmalloc state.
 *
 * Versions: PY_VERSION_HEX from the exported Py_Version (3.11+) or
 * _Py_DebugOffsets; otherwise the minor version from libpython's soname
 * (the patch level is then reported as unknown, never guessed).
 * State, by the row's state_kind:
 *   1 (3.8-3.11) file-scope statics of obmalloc.c by symbol (debug file or
 *     .symtab; LTO suffixes accepted), else the heuristic arena-vector scan;
 *   2 (3.12) embedded in _PyRuntime; 3 (3.13) a pointer in _PyRuntime; at
 *     _PyRuntime + state_runtime_offset + (st_size(_PyRuntime) -
 *     runtime_sizeof), because patch releases grow _PyRuntimeState before
 *     the main interpreter, its last member.
 *
 * Invariant: every value read from the target is checked before it is
 * believed (pointers inside copied memory, counts within the layout's
 * limits); a state that does not check out is an error, not a guess.
 */
#include "config.h"

#include "python.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The module that holds _PyRuntime: libpython if mapped, else the exe. */
static Dwfl_Module *interpreter_module(struct symbols *syms, const struct target *t,
				       uint64_t *runtime, uint64_t *runtime_size)
{
	Dwfl_Module *mod = symbols_module(syms, "libpython3");
	if (!mod && t->exe[0])
		mod = symbols_module_by_path(syms, t->exe);
	if (!mod || symbols_find(mod, python_symbol_matches, "_PyRuntime", runtime,
				 runtime_size) < 0)
		return NULL;
	return mod;
}

/* Minor version from a "libpython3.N" file name, or -1. */
static long minor_from_path(const char *path)
{
	const char *p = strstr(path, "libpython3.");
	return p ? strtol(p + 11, NULL, 10) : -1;
}

static void set_version_from_hex(struct python_info *py, uint32_t hex)
{
	static const char level[] = { 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
				      'b', 'c', 'f' };
	unsigned major = hex >> 24, minor = (hex >> 16) & 0xff, micro = (hex >> 8) & 0xff;
	unsigned lvl = (hex >> 4) & 0xf, serial = hex & 0xf;
	py->hexversion = (long)hex;
	py->version_code = major * 1000L + minor;
	if (lvl == 0xf || lvl > 0xc)
		snprintf(py->version, sizeof py->version, "%u.%u.%u", major, minor, micro);
	else
		snprintf(py->version, sizeof py->version, "%u.%u.%u%s%u", major, minor, micro,
			 level[lvl] == 'c' ? "rc" : level[lvl] == 'b' ? "b" : "a", serial);
}

static int find_version(const struct target *t, Dwfl_Module *mod, const char *path,
			struct python_info *py)
{
	uint64_t addr;
	uint32_t hex;
	long minor;
	if (symbols_lookup(mod, "Py_Version", &addr) == 0 && target_read_u32(t, addr, &hex) == 0 &&
	    (hex >> 24) == 3) {
		set_version_from_hex(py, hex);
		return 0;
	}
	minor = minor_from_path(path);
	if (minor < 0)
		return -1;
	py->version_code = 3000 + minor;
	snprintf(py->version, sizeof py->version, "3.%ld", minor);
	return 0;
}

static int read_state_u64(const struct target *t, uint64_t base, long off, uint64_t *out)
{
	return off == LAYOUT_ABSENT ? -1 : target_read_u64(t, base + (uint64_t)off, out);
}

/* 3.12+: the state inside (or pointed to from) _PyRuntime. */
static int state_from_runtime(const struct target *t, struct heap_model *m, uint64_t runtime,
			      uint64_t runtime_size)
{
	const struct python_layout *L = m->py.layout;
	uint64_t at = runtime + (uint64_t)L->state_runtime_offset, maxarenas;
	if (L->runtime_main_interpreter_last == 1 && runtime_size >= (uint64_t)L->runtime_sizeof)
		at += runtime_size - (uint64_t)L->runtime_sizeof;
	if (L->state_kind == PYTHON_STATE_POINTER && target_read_u64(t, at, &at) < 0)
		return -1;
	m->py.state_addr = at;
	m->py.usedpools = at + (uint64_t)L->state_usedpools;
	m->py.arenas_var = at + (uint64_t)L->state_arenas;
	if (target_read_u64(t, m->py.arenas_var, &m->py.arenas_vector) < 0 ||
	    read_state_u64(t, at, L->state_maxarenas, &maxarenas) < 0)
		return -1;
	m->py.maxarenas = maxarenas & 0xffffffffu;	/* uint */
	m->py.have_narenas_current = read_state_u64(t, at, L->state_narenas_currently_allocated,
						    &m->py.narenas_current) == 0;
	m->py.have_highwater = read_state_u64(t, at, L->state_narenas_highwater,
					      &m->py.narenas_highwater) == 0;
	m->py.state_method = "runtime";
	return 0;
}

static int static_symbol(Dwfl_Module *mod, enum python_obmalloc_symbol which, uint64_t *addr)
{
	return symbols_find(mod, python_symbol_matches, python_obmalloc_symbol(which), addr, NULL);
}

/* 3.8-3.11: the statics of obmalloc.c, by symbol. */
static int state_from_statics(const struct target *t, Dwfl_Module *mod, struct heap_model *m)
{
	uint64_t arenas, maxarenas_at, v;
	uint32_t maxarenas;
	if (static_symbol(mod, PYTHON_SYM_ARENAS, &arenas) < 0 ||
	    static_symbol(mod, PYTHON_SYM_MAXARENAS, &maxarenas_at) < 0 ||
	    target_read_u64(t, arenas, &m->py.arenas_vector) < 0 ||
	    target_read_u32(t, maxarenas_at, &maxarenas) < 0)
		return -1;
	m->py.arenas_var = arenas;
	m->py.maxarenas = maxarenas;
	if (static_symbol(mod, PYTHON_SYM_USEDPOOLS, &v) == 0)
		m->py.usedpools = v;
	if (static_symbol(mod, PYTHON_SYM_NARENAS_CURRENTLY_ALLOCATED, &v) == 0)
		m->py.have_narenas_current = target_read_u64(t, v, &m->py.narenas_current) == 0;
	if (static_symbol(mod, PYTHON_SYM_NARENAS_HIGHWATER, &v) == 0)
		m->py.have_highwater = target_read_u64(t, v, &m->py.narenas_highwater) == 0;
	m->py.state_method = "symbol";
	return 0;
}

static int state_from_heuristic(const struct target *t, struct heap_model *m)
{
	m->py.arenas_vector = python_find_arena_vector(t, m, &m->py.maxarenas);
	if (!m->py.arenas_vector)
		return -1;
	m->py.state_method = "heuristic";
	return 0;
}

static int is_free_threaded(const struct target *t, const struct python_layout *L,
			    uint64_t runtime)
{
	uint64_t v;
	if (L->debug_offsets_free_threaded == LAYOUT_ABSENT ||
	    target_read_u64(t, runtime + (uint64_t)L->debug_offsets_free_threaded, &v) < 0)
		return 0;
	return (v & 0xff) != 0;
}

int python_locate(const struct target *t, struct symbols *syms, struct heap_model *m,
		  char **err)
{
	uint64_t runtime, runtime_size = 0;
	Dwfl_Module *mod = syms ? interpreter_module(syms, t, &runtime, &runtime_size) : NULL;
	const char *path;
	int r;
	if (!mod)
		return 0;
	path = symbols_module_path(mod);
	m->py.library = xstrdup(path ? path : "");
	m->py.runtime = runtime;
	if (find_version(t, mod, m->py.library, &m->py) < 0) {
		*err = xasprintf("%s runs CPython but its version cannot be read", m->py.library);
		return -1;
	}
	m->py.layout = python_layout_for_version(m->py.version_code);
	if (!m->py.layout) {
		*err = xasprintf("CPython %s is not supported: python-layouts/ has rows for "
				 "3.%ld to 3.%ld", m->py.version,
				 python_layouts[0].version_min % 1000,
				 python_layouts[python_layouts_count - 1].version_max % 1000);
		return -1;
	}
	if (symbols_lookup(mod, "PyType_Type", &m->py.type_type) < 0) {
		*err = xasprintf("%s has no PyType_Type symbol", m->py.library);
		return -1;
	}
	m->py.free_threaded = is_free_threaded(t, m->py.layout, runtime);
	if (m->py.free_threaded) {
		*err = xasprintf("CPython %s is a free-threaded build: it allocates with "
				 "mimalloc, not pymalloc, so there are no pymalloc arenas to walk",
				 m->py.version);
		return -1;
	}
	if (m->py.layout->state_kind == PYTHON_STATE_STATICS)
		r = state_from_statics(t, mod, m) == 0 ? 0 : state_from_heuristic(t, m);
	else
		r = state_from_runtime(t, m, runtime, runtime_size);
	if (r < 0) {
		*err = xasprintf("CPython %s: pymalloc's arena table was not found (no obmalloc "
				 "symbols and no arena matched the heuristic)", m->py.version);
		return -1;
	}
	m->py.found = 1;
	return 1;
}

/* Parse "3.M.P[(a|b|rc)N] (" at S (LEN bytes available); the
 * PY_VERSION_HEX it spells, or 0. */
static uint32_t parse_sys_version(const char *s, size_t len, long minor)
{
	char prefix[16], *end;
	int plen = snprintf(prefix, sizeof prefix, "3.%ld.", minor);
	unsigned long micro, serial = 0;
	unsigned level = 0xf;
	if ((size_t)plen + 3 > len || memcmp(s, prefix, (size_t)plen) != 0 ||
	    !isdigit((unsigned char)s[plen]))
		return 0;
	micro = strtoul(s + plen, &end, 10);
	if (end >= s + len - 2 || micro > 255)
		return 0;
	if (*end == 'a' || *end == 'b' || (*end == 'r' && end[1] == 'c')) {
		level = *end == 'a' ? 0xa : *end == 'b' ? 0xb : 0xc;
		end += *end == 'r' ? 2 : 1;
		serial = strtoul(end, &end, 10);
	}
	if (end + 2 > s + len || end[0] != ' ' || end[1] != '(' || serial > 15)
		return 0;
	return (3u << 24) | ((uint32_t)minor << 16) | ((uint32_t)micro << 8) | (level << 4) |
	       (uint32_t)serial;
}

void python_refine_version(const struct target *t, struct heap_model *m)
{
	long minor = m->py.version_code % 1000;
	char needle[16];
	size_t i, nlen;
	if (m->py.hexversion)
		return;
	nlen = (size_t)snprintf(needle, sizeof needle, "3.%ld.", minor);
	for (i = 0; i < m->pym.narenas; i++) {
		const struct py_arena *a = &m->pym.arenas[i];
		const char *base = target_view(t, a->addr, (size_t)m->py.layout->arena_size);
		const char *p = base, *end = base ? base + m->py.layout->arena_size : NULL;
		while (p && (p = memmem(p, (size_t)(end - p), needle, nlen))) {
			uint32_t hex = p > base && p[-1] == 0 ?
					       parse_sys_version(p, (size_t)(end - p), minor) : 0;
			if (hex) {	/* the str object of sys.version */
				set_version_from_hex(&m->py, hex);
				m->py.version_from_heap = 1;
				return;
			}
			p += nlen;
		}
	}
}

/* An int counter of the interpreter state, checked against its limit. */
static int free_count(const struct target *t, uint64_t interp, long off, long max,
		      uint64_t *out)
{
	uint32_t v;
	if (off == LAYOUT_ABSENT || target_read_u32(t, interp + (uint64_t)off, &v) < 0 ||
	    (max != LAYOUT_ABSENT && v > (uint64_t)max))
		return -1;
	*out = v;
	return 0;
}

/* 3.8/3.9: the numfree statics of floatobject.c, listobject.c, dictobject.c
 * and tupleobject.c, by symbol (several files name them alike). */
static int static_free_count(const struct target *t, Dwfl_Module *mod, const char *file,
			     const char *name, long max, uint64_t *out)
{
	uint64_t addr;
	if (!mod || symbols_lookup_in_file(mod, file, name, &addr) < 0)
		return -1;
	return free_count(t, addr, 0, max, out);
}

static void free_lists_from_statics(const struct target *t, struct symbols *syms,
				    struct heap_model *m)
{
	const struct python_layout *L = m->py.layout;
	struct pymalloc_stats *s = &m->pym;
	Dwfl_Module *mod = syms ? symbols_module_by_path(syms, m->py.library) : NULL;
	uint64_t tuples;
	unsigned i;
	if (L->freelist_tuple_sizes > 32 ||
	    static_free_count(t, mod, "floatobject.c", "numfree", L->freelist_float_max,
			      &s->free_floats) ||
	    static_free_count(t, mod, "listobject.c", "numfree", L->freelist_list_max,
			      &s->free_lists) ||
	    static_free_count(t, mod, "dictobject.c", "numfree", L->freelist_dict_max,
			      &s->free_dicts) ||
	    !mod || symbols_lookup_in_file(mod, "tupleobject.c", "numfree", &tuples) < 0)
		return;		/* no symbols: not read */
	static_free_count(t, mod, "dictobject.c", "numfreekeys", L->freelist_dictkeys_max,
			  &s->free_dictkeys);
	s->free_tuple_sizes = (unsigned)L->freelist_tuple_sizes;
	s->free_tuple_base = (unsigned)L->freelist_tuple_index_base;
	for (i = 0; i < s->free_tuple_sizes; i++)
		if (free_count(t, tuples, 4 * (long)i, L->freelist_tuple_max, &s->free_tuples[i]) < 0)
			return;
	s->have_free_lists = 1;
}

void python_free_lists(const struct target *t, struct symbols *syms, struct heap_model *m)
{
	const struct python_layout *L = m->py.layout;
	struct pymalloc_stats *s = &m->pym;
	uint64_t interp;
	unsigned i;
	if (L->freelist_kind == PYTHON_FREELIST_STATICS) {
		free_lists_from_statics(t, syms, m);
		return;
	}
	if (L->freelist_kind != PYTHON_FREELIST_INTERP ||
	    target_read_u64(t, m->py.runtime + (uint64_t)L->runtime_interpreters_main, &interp) < 0)
		return;
	if (L->freelist_tuple_sizes > 32 ||
	    free_count(t, interp, L->freelist_float_numfree, L->freelist_float_max, &s->free_floats) ||
	    free_count(t, interp, L->freelist_list_numfree, L->freelist_list_max, &s->free_lists) ||
	    free_count(t, interp, L->freelist_dict_numfree, L->freelist_dict_max, &s->free_dicts)) {
		model_diag(m, DIAG_WARNING, interp, "CPython free-list counters out of range: "
			   "not reported");
		return;
	}
	free_count(t, interp, L->freelist_dictkeys_numfree, L->freelist_dictkeys_max,
		   &s->free_dictkeys);
	s->free_tuple_sizes = (unsigned)L->freelist_tuple_sizes;
	s->free_tuple_base = (unsigned)L->freelist_tuple_index_base;
	for (i = 0; i < s->free_tuple_sizes; i++)
		if (free_count(t, interp, L->freelist_tuple_numfree + 4 * (long)i,
			       L->freelist_tuple_max, &s->free_tuples[i]) < 0)
			return;
	s->have_free_lists = 1;
}
