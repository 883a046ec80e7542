/*
 * check_python_layout.c - the python-layouts/ table against CPython's DWARF.
 *
 * Unit tests (Check) for python_layout_for_version() and the obmalloc
 * symbol helpers, and, for every CPython 3.8-3.13 interpreter found on this
 * machine, a comparison of its row with the interpreter's own DWARF, field
 * by field, plus the symbols the row says the obmalloc state and free lists
 * are found by.  Interpreters are looked for the way a developer has them:
 *   - pyenv builds, $PYENV_ROOT (default ~/.pyenv) /versions/3.M.P, using
 *     lib/libpython3.M.so.1.0 or, for a static build, bin/python3.M;
 *   - the system's /usr/bin/python3.M, whose DWARF comes from separate
 *     debuginfo found offline by build-id (Debian: python3.M-dbg);
 *     HEAPINSPECT_DEBUGINFO_PATH overrides libdwfl's search path.
 * Everything is read from the files: no interpreter is run.
 *
 * Exit status: 0 all passed, 1 a test failed, 77 (automake SKIP) when the
 * table tests passed but no interpreter with DWARF was found: it never
 * passes without comparing.  Each minor version without a compared
 * interpreter is reported as skipped.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dwarf_layout.h"
#include "python_layout.h"

#define EXIT_SKIP 77
#define FIRST_MINOR 8
#define LAST_MINOR 13
#define MAX_INTERPRETERS 64
#define CODE(minor) (3000L + (minor))

static char *debuginfo_path;	/* NULL: libdwfl's default search path */

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

struct interpreter {
	char label[64];		/* "pyenv 3.12.1", "system 3.11" */
	char path[4096];
	int minor;
	Dwfl *dwfl;
	Dwfl_Module *module;
	Dwarf *dwarf;		/* NULL: no DWARF, not compared */
};

static struct interpreter interpreters[MAX_INTERPRETERS];
static int interpreter_count;
static int compared[MAX_INTERPRETERS];	/* indices of those with DWARF */
static int compared_count;

/* ---- finding interpreters ---- */

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void add_interpreter(const char *label, const char *path, int minor)
{
	struct interpreter *found;

	if (interpreter_count == MAX_INTERPRETERS || !is_file(path))
		return;
	found = &interpreters[interpreter_count++];
	snprintf(found->label, sizeof found->label, "%s", label);
	snprintf(found->path, sizeof found->path, "%s", path);
	found->minor = minor;
}

/* "3.M.P" exactly (not "3.13.0t" or "3.12-dev"), 3.8 <= 3.M <= 3.13. */
static int pyenv_minor(const char *name)
{
	int major, minor, patch, end = 0;

	if (sscanf(name, "%d.%d.%d%n", &major, &minor, &patch, &end) != 3 ||
	    name[end] != '\0' || major != 3 || minor < FIRST_MINOR || minor > LAST_MINOR)
		return -1;
	return minor;
}

/* PATH := VERSIONS/NAME/TAIL; false if it does not fit. */
static bool version_path(char *path, size_t size, const char *versions, const char *name,
			 const char *tail, int minor)
{
	int length = snprintf(path, size, "%s/%s/%s3.%d%s", versions, name, tail, minor,
			      strcmp(tail, "lib/libpython") == 0 ? ".so.1.0" : "");

	return length > 0 && (size_t)length < size;
}

static void add_pyenv_version(const char *versions, const char *name)
{
	char path[4096], label[64];
	int minor = pyenv_minor(name);

	if (minor < 0)
		return;
	snprintf(label, sizeof label, "pyenv %.40s", name);
	if (version_path(path, sizeof path, versions, name, "lib/libpython", minor) &&
	    is_file(path))
		add_interpreter(label, path, minor);
	else if (version_path(path, sizeof path, versions, name, "bin/python", minor))
		add_interpreter(label, path, minor);
}

static void find_pyenv_interpreters(void)
{
	const char *root = getenv("PYENV_ROOT"), *home = getenv("HOME");
	char versions[4096];
	struct dirent **entries;
	int count, i;

	if (root != NULL)
		snprintf(versions, sizeof versions, "%s/versions", root);
	else
		snprintf(versions, sizeof versions, "%s/.pyenv/versions", home ? home : "");
	count = scandir(versions, &entries, NULL, versionsort);
	if (count < 0)
		return;
	for (i = 0; i < count; i++) {
		add_pyenv_version(versions, entries[i]->d_name);
		free(entries[i]);
	}
	free(entries);
}

static void find_system_interpreters(void)
{
	char path[64], label[64];
	int minor;

	for (minor = FIRST_MINOR; minor <= LAST_MINOR; minor++) {
		snprintf(path, sizeof path, "/usr/bin/python3.%d", minor);
		snprintf(label, sizeof label, "system 3.%d", minor);
		add_interpreter(label, path, minor);
	}
}

/* Opens the DWARF of FOUND offline; leaves found->dwarf NULL without it. */
static void open_dwarf(struct interpreter *found)
{
	Dwarf_Addr bias;

	found->dwfl = dwfl_begin(&offline_callbacks);
	if (found->dwfl == NULL)
		return;
	found->module = dwfl_report_offline(found->dwfl, found->label, found->path, -1);
	dwfl_report_end(found->dwfl, NULL, NULL);
	if (found->module != NULL)
		found->dwarf = dwfl_module_getdwarf(found->module, &bias);
}

static void close_dwarf(struct interpreter *found)
{
	dwarf_layout_forget(found->dwarf);
	if (found->dwfl != NULL)
		dwfl_end(found->dwfl);
}

/* ---- symbols ---- */

/* st_size of the first symbol matching NAME (python_symbol_matches), or
 * LAYOUT_ABSENT if the module has none. */
static long symbol_size(Dwfl_Module *module, const char *name)
{
	int count = dwfl_module_getsymtab(module), i;

	for (i = 1; i < count; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *found = dwfl_module_getsym_info(module, i, &sym, &addr,
							    NULL, NULL, NULL);

		if (found != NULL && GELF_ST_TYPE(sym.st_info) == STT_OBJECT &&
		    python_symbol_matches(found, name))
			return (long)sym.st_size;
	}
	return LAYOUT_ABSENT;
}

static long symbol_elements(Dwfl_Module *module, const char *name)
{
	long size = symbol_size(module, name);

	return size == LAYOUT_ABSENT ? LAYOUT_ABSENT : size / 8;
}

/* ---- file-scope variables of one compile unit ---- */

static bool ends_with(const char *text, const char *suffix)
{
	size_t length = strlen(text), wanted = strlen(suffix);

	return length >= wanted && strcmp(text + length - wanted, suffix) == 0;
}

static bool find_variable_in_unit(Dwarf_Die *unit, const char *name, Dwarf_Die *found)
{
	Dwarf_Die child;

	if (dwarf_child(unit, &child) != 0)
		return false;
	do {
		const char *child_name = dwarf_diename(&child);

		if (dwarf_tag(&child) == DW_TAG_variable && child_name != NULL &&
		    strcmp(child_name, name) == 0) {
			*found = child;
			return true;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

/* VARIABLE := variable NAME defined at file scope of the unit whose name
 * ends with UNIT_SUFFIX ("Objects/listobject.c"). */
static bool find_unit_variable(Dwarf *dw, const char *unit_suffix, const char *name,
			       Dwarf_Die *variable)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die unit;

	while (dwarf_get_units(dw, cu, &cu, NULL, NULL, &unit, NULL) == 0) {
		const char *unit_name = dwarf_diename(&unit);

		if (unit_name != NULL && ends_with(unit_name, unit_suffix) &&
		    find_variable_in_unit(&unit, name, variable))
			return true;
	}
	return false;
}

static bool peeled_type(Dwarf_Die *die, Dwarf_Die *type)
{
	Dwarf_Attribute attr;
	Dwarf_Die raw;

	return dwarf_attr_integrate(die, DW_AT_type, &attr) != NULL &&
	       dwarf_formref_die(&attr, &raw) != NULL && dwarf_peel_type(&raw, type) == 0;
}

/* Elements of the array variable NAME of that unit (1 for a scalar). */
static long unit_variable_elements(Dwarf *dw, const char *unit_suffix, const char *name)
{
	Dwarf_Die variable, type, element;
	Dwarf_Word total, each;

	if (!find_unit_variable(dw, unit_suffix, name, &variable) ||
	    !peeled_type(&variable, &type))
		return LAYOUT_ABSENT;
	if (dwarf_tag(&type) != DW_TAG_array_type)
		return 1;
	if (!peeled_type(&type, &element) || dwarf_aggregate_size(&type, &total) != 0 ||
	    dwarf_aggregate_size(&element, &each) != 0 || each == 0)
		return LAYOUT_ABSENT;
	return (long)(total / each);
}

/* ---- what the DWARF says about each field ---- */

enum probe_kind {
	MEMBER,		/* dwarf_member_path_offset(scope, path) */
	SIZE,		/* dwarf_type_size(scope) */
	LENGTH,		/* dwarf_member_array_length(scope, path) */
	UNIT_LENGTH,	/* elements of variable path in unit scope */
	SYMBOL_LENGTH,	/* st_size / 8 of symbol scope */
	UNICODE_BIT,	/* bit of state bit-field path in PyASCIIObject */
	STATE_KIND,	/* how PyInterpreterState holds obmalloc, or statics */
	FREELIST_KIND,	/* interpreter state or unit statics */
	LAST_MEMBER,	/* 1 if member path ends struct scope, else 0 */
};

struct probe {
	enum probe_kind kind;
	const char *scope;	/* struct/typedef, unit suffix or symbol */
	const char *path;
};

struct field {
	const char *key;	/* as in python-layouts/fields.txt */
	size_t slot;		/* offsetof (struct python_layout, ...) */
	long adjust;		/* added to a LENGTH answer */
	struct probe probes[3];	/* first that answers wins */
};

#define SLOT(f) offsetof(struct python_layout, f)
#define M(scope, path) { MEMBER, scope, path }
#define FIELD(k, f, ...) { .key = k, .slot = SLOT(f), .probes = { __VA_ARGS__ } }
#define SIZEOF(k, f, type) FIELD(k, f, { SIZE, type, NULL })
#define PH "pool_header"
#define AO "arena_object"
#define OS "_obmalloc_state"
#define RT "_PyRuntimeState"
#define IS "PyInterpreterState"
#define TO "PyTypeObject"
#define AS "PyASCIIObject"
#define CU "PyCompactUnicodeObject"

static const struct field fields[] = {
	{ .key = "usedpools_entries", .slot = SLOT(usedpools_entries),
	  .probes = { { LENGTH, "_obmalloc_pools", "used" }, { SYMBOL_LENGTH, "usedpools", NULL } } },
	{ .key = "max_pools_in_arena", .slot = SLOT(max_pools_in_arena), .adjust = -1,
	  .probes = { { LENGTH, "_obmalloc_mgmt", "nfp2lasta" }, { SYMBOL_LENGTH, "nfp2lasta", NULL } } },

	FIELD("pool_header.count", pool_header_count, M(PH, "ref.count")),
	FIELD("pool_header.freeblock", pool_header_freeblock, M(PH, "freeblock")),
	FIELD("pool_header.nextpool", pool_header_nextpool, M(PH, "nextpool")),
	FIELD("pool_header.prevpool", pool_header_prevpool, M(PH, "prevpool")),
	FIELD("pool_header.arenaindex", pool_header_arenaindex, M(PH, "arenaindex")),
	FIELD("pool_header.szidx", pool_header_szidx, M(PH, "szidx")),
	FIELD("pool_header.nextoffset", pool_header_nextoffset, M(PH, "nextoffset")),
	FIELD("pool_header.maxnextoffset", pool_header_maxnextoffset, M(PH, "maxnextoffset")),
	SIZEOF("pool_header.sizeof", pool_header_sizeof, PH),

	FIELD("arena_object.address", arena_object_address, M(AO, "address")),
	FIELD("arena_object.pool_address", arena_object_pool_address, M(AO, "pool_address")),
	FIELD("arena_object.nfreepools", arena_object_nfreepools, M(AO, "nfreepools")),
	FIELD("arena_object.ntotalpools", arena_object_ntotalpools, M(AO, "ntotalpools")),
	FIELD("arena_object.freepools", arena_object_freepools, M(AO, "freepools")),
	FIELD("arena_object.nextarena", arena_object_nextarena, M(AO, "nextarena")),
	FIELD("arena_object.prevarena", arena_object_prevarena, M(AO, "prevarena")),
	SIZEOF("arena_object.sizeof", arena_object_sizeof, AO),

	FIELD("state.kind", state_kind, { STATE_KIND, NULL, NULL }),
	FIELD("state.runtime_offset", state_runtime_offset, M(RT, "_main_interpreter.obmalloc")),
	FIELD("state.usedpools", state_usedpools, M(OS, "pools.used")),
	FIELD("state.arenas", state_arenas, M(OS, "mgmt.arenas")),
	FIELD("state.maxarenas", state_maxarenas, M(OS, "mgmt.maxarenas")),
	FIELD("state.unused_arena_objects", state_unused_arena_objects, M(OS, "mgmt.unused_arena_objects")),
	FIELD("state.usable_arenas", state_usable_arenas, M(OS, "mgmt.usable_arenas")),
	FIELD("state.narenas_currently_allocated", state_narenas_currently_allocated,
	      M(OS, "mgmt.narenas_currently_allocated")),
	FIELD("state.ntimes_arena_allocated", state_ntimes_arena_allocated, M(OS, "mgmt.ntimes_arena_allocated")),
	FIELD("state.narenas_highwater", state_narenas_highwater, M(OS, "mgmt.narenas_highwater")),
	SIZEOF("state.sizeof", state_sizeof, OS),

	SIZEOF("runtime.sizeof", runtime_sizeof, RT),
	FIELD("runtime.interpreters_head", runtime_interpreters_head, M(RT, "interpreters.head")),
	FIELD("runtime.interpreters_main", runtime_interpreters_main, M(RT, "interpreters.main")),
	FIELD("runtime.main_interpreter", runtime_main_interpreter, M(RT, "_main_interpreter")),
	FIELD("runtime.main_interpreter_last", runtime_main_interpreter_last,
	      { LAST_MEMBER, RT, "_main_interpreter" }),
	SIZEOF("interp.sizeof", interp_sizeof, IS),
	FIELD("interp.obmalloc", interp_obmalloc, M(IS, "obmalloc")),

	FIELD("debug_offsets.version", debug_offsets_version, M("_Py_DebugOffsets", "version")),
	FIELD("debug_offsets.free_threaded", debug_offsets_free_threaded, M("_Py_DebugOffsets", "free_threaded")),
	FIELD("debug_offsets.runtime_size", debug_offsets_runtime_size, M("_Py_DebugOffsets", "runtime_state.size")),
	FIELD("debug_offsets.interp_size", debug_offsets_interp_size, M("_Py_DebugOffsets", "interpreter_state.size")),

	FIELD("pyobject.refcnt", pyobject_refcnt, M("PyObject", "ob_refcnt")),
	FIELD("pyobject.type", pyobject_type, M("PyObject", "ob_type")),
	FIELD("pyobject.ob_size", pyobject_ob_size, M("PyVarObject", "ob_size")),
	SIZEOF("pyobject.sizeof", pyobject_sizeof, "PyObject"),
	FIELD("gc_head.next", gc_head_next, M("PyGC_Head", "_gc_next")),
	FIELD("gc_head.prev", gc_head_prev, M("PyGC_Head", "_gc_prev")),
	SIZEOF("gc_head.sizeof", gc_head_sizeof, "PyGC_Head"),

	FIELD("typeobject.tp_name", typeobject_tp_name, M(TO, "tp_name")),
	FIELD("typeobject.tp_basicsize", typeobject_tp_basicsize, M(TO, "tp_basicsize")),
	FIELD("typeobject.tp_itemsize", typeobject_tp_itemsize, M(TO, "tp_itemsize")),
	FIELD("typeobject.tp_flags", typeobject_tp_flags, M(TO, "tp_flags")),
	FIELD("typeobject.tp_base", typeobject_tp_base, M(TO, "tp_base")),
	FIELD("typeobject.tp_dictoffset", typeobject_tp_dictoffset, M(TO, "tp_dictoffset")),
	FIELD("typeobject.tp_mro", typeobject_tp_mro, M(TO, "tp_mro")),
	SIZEOF("typeobject.sizeof", typeobject_sizeof, TO),
	SIZEOF("heaptype.sizeof", heaptype_sizeof, "PyHeapTypeObject"),

	FIELD("freelist.kind", freelist_kind, { FREELIST_KIND, NULL, NULL }),
	FIELD("freelist.float_numfree", freelist_float_numfree,
	      M(IS, "float_state.numfree"), M(IS, "object_state.freelists.floats.numfree")),
	FIELD("freelist.float_items", freelist_float_items,
	      M(IS, "float_state.free_list"), M(IS, "object_state.freelists.floats.items")),
	FIELD("freelist.tuple_items", freelist_tuple_items,
	      M(IS, "tuple.free_list"), M(IS, "object_state.freelists.tuples.items")),
	FIELD("freelist.tuple_numfree", freelist_tuple_numfree,
	      M(IS, "tuple.numfree"), M(IS, "object_state.freelists.tuples.numfree")),
	FIELD("freelist.list_items", freelist_list_items,
	      M(IS, "list.free_list"), M(IS, "object_state.freelists.lists.items")),
	FIELD("freelist.list_numfree", freelist_list_numfree,
	      M(IS, "list.numfree"), M(IS, "object_state.freelists.lists.numfree")),
	FIELD("freelist.dict_items", freelist_dict_items,
	      M(IS, "dict_state.free_list"), M(IS, "object_state.freelists.dicts.items")),
	FIELD("freelist.dict_numfree", freelist_dict_numfree,
	      M(IS, "dict_state.numfree"), M(IS, "object_state.freelists.dicts.numfree")),
	FIELD("freelist.dictkeys_items", freelist_dictkeys_items,
	      M(IS, "dict_state.keys_free_list"), M(IS, "object_state.freelists.dictkeys.items")),
	FIELD("freelist.dictkeys_numfree", freelist_dictkeys_numfree,
	      M(IS, "dict_state.keys_numfree"), M(IS, "object_state.freelists.dictkeys.numfree")),
	FIELD("freelist.tuple_sizes", freelist_tuple_sizes,
	      { LENGTH, "_Py_tuple_state", "free_list" }, { LENGTH, "_Py_tuple_freelist", "items" },
	      { UNIT_LENGTH, "Objects/tupleobject.c", "free_list" }),
	FIELD("freelist.list_max", freelist_list_max,
	      { LENGTH, "_Py_list_state", "free_list" }, { LENGTH, "_Py_list_freelist", "items" },
	      { UNIT_LENGTH, "Objects/listobject.c", "free_list" }),
	FIELD("freelist.dict_max", freelist_dict_max,
	      { LENGTH, "_Py_dict_state", "free_list" }, { LENGTH, "_Py_dict_freelist", "items" },
	      { UNIT_LENGTH, "Objects/dictobject.c", "free_list" }),
	FIELD("freelist.dictkeys_max", freelist_dictkeys_max,
	      { LENGTH, "_Py_dict_state", "keys_free_list" }, { LENGTH, "_Py_dictkeys_freelist", "items" },
	      { UNIT_LENGTH, "Objects/dictobject.c", "keys_free_list" }),

	FIELD("float.ob_fval", float_ob_fval, M("PyFloatObject", "ob_fval")),
	SIZEOF("float.sizeof", float_sizeof, "PyFloatObject"),
	FIELD("long.lv_tag", long_lv_tag, M("PyLongObject", "long_value.lv_tag")),
	FIELD("long.ob_digit", long_ob_digit, M("PyLongObject", "ob_digit"),
	      M("PyLongObject", "long_value.ob_digit")),
	FIELD("list.ob_item", list_ob_item, M("PyListObject", "ob_item")),
	FIELD("list.allocated", list_allocated, M("PyListObject", "allocated")),
	SIZEOF("list.sizeof", list_sizeof, "PyListObject"),
	FIELD("tuple.ob_item", tuple_ob_item, M("PyTupleObject", "ob_item")),
	SIZEOF("tuple.sizeof", tuple_sizeof, "PyTupleObject"),
	FIELD("bytes.ob_shash", bytes_ob_shash, M("PyBytesObject", "ob_shash")),
	FIELD("bytes.ob_sval", bytes_ob_sval, M("PyBytesObject", "ob_sval")),
	SIZEOF("bytes.sizeof", bytes_sizeof, "PyBytesObject"),
	FIELD("bytearray.ob_alloc", bytearray_ob_alloc, M("PyByteArrayObject", "ob_alloc")),
	FIELD("bytearray.ob_bytes", bytearray_ob_bytes, M("PyByteArrayObject", "ob_bytes")),
	FIELD("bytearray.ob_start", bytearray_ob_start, M("PyByteArrayObject", "ob_start")),
	SIZEOF("bytearray.sizeof", bytearray_sizeof, "PyByteArrayObject"),

	FIELD("unicode.length", unicode_length, M(AS, "length")),
	FIELD("unicode.hash", unicode_hash, M(AS, "hash")),
	FIELD("unicode.state", unicode_state, M(AS, "state")),
	FIELD("unicode.wstr", unicode_wstr, M(AS, "wstr")),
	SIZEOF("unicode.ascii_sizeof", unicode_ascii_sizeof, AS),
	FIELD("unicode.utf8_length", unicode_utf8_length, M(CU, "utf8_length")),
	FIELD("unicode.utf8", unicode_utf8, M(CU, "utf8")),
	FIELD("unicode.wstr_length", unicode_wstr_length, M(CU, "wstr_length")),
	SIZEOF("unicode.compact_sizeof", unicode_compact_sizeof, CU),
	FIELD("unicode.data", unicode_data, M("PyUnicodeObject", "data")),
	SIZEOF("unicode.sizeof", unicode_sizeof, "PyUnicodeObject"),
	FIELD("unicode.kind_bit", unicode_kind_bit, { UNICODE_BIT, AS, "state.kind" }),
	FIELD("unicode.compact_bit", unicode_compact_bit, { UNICODE_BIT, AS, "state.compact" }),
	FIELD("unicode.ascii_bit", unicode_ascii_bit, { UNICODE_BIT, AS, "state.ascii" }),
	FIELD("unicode.ready_bit", unicode_ready_bit, { UNICODE_BIT, AS, "state.ready" }),

	FIELD("dict.ma_used", dict_ma_used, M("PyDictObject", "ma_used")),
	FIELD("dict.ma_keys", dict_ma_keys, M("PyDictObject", "ma_keys")),
	FIELD("dict.ma_values", dict_ma_values, M("PyDictObject", "ma_values")),
	SIZEOF("dict.sizeof", dict_sizeof, "PyDictObject"),
	FIELD("dictvalues.embedded", dictvalues_embedded, M("PyDictValues", "embedded")),
	FIELD("dictvalues.values", dictvalues_values, M("PyDictValues", "values")),
	FIELD("set.mask", set_mask, M("PySetObject", "mask")),
	FIELD("set.table", set_table, M("PySetObject", "table")),
	FIELD("set.smalltable", set_smalltable, M("PySetObject", "smalltable")),
	SIZEOF("set.sizeof", set_sizeof, "PySetObject"),
};

#define FIELD_COUNT (sizeof fields / sizeof fields[0])

static long state_kind(Dwarf *dw)
{
	long embedded = dwarf_member_element_size(dw, IS, "obmalloc");

	if (embedded == LAYOUT_ABSENT)
		return dwarf_type_size(dw, IS) == LAYOUT_ABSENT ? LAYOUT_ABSENT
								: PYTHON_STATE_STATICS;
	if (embedded == dwarf_type_size(dw, OS))
		return PYTHON_STATE_EMBEDDED;
	return embedded == 8 ? PYTHON_STATE_POINTER : LAYOUT_ABSENT;
}

static long freelist_kind(Dwarf *dw)
{
	if (dwarf_member_path_offset(dw, IS, "float_state.free_list") != LAYOUT_ABSENT ||
	    dwarf_member_path_offset(dw, IS, "object_state.freelists.floats.items") != LAYOUT_ABSENT)
		return PYTHON_FREELIST_INTERP;
	if (unit_variable_elements(dw, "Objects/floatobject.c", "free_list") == 1)
		return PYTHON_FREELIST_STATICS;
	return LAYOUT_ABSENT;
}

static long last_member(Dwarf *dw, const char *type, const char *path)
{
	long at = dwarf_member_path_offset(dw, type, path);
	long member = dwarf_member_element_size(dw, type, path);

	if (at == LAYOUT_ABSENT || member == LAYOUT_ABSENT)
		return LAYOUT_ABSENT;
	return at + member == dwarf_type_size(dw, type);
}

static long unicode_bit(Dwarf *dw, const char *path)
{
	long bit = dwarf_member_path_bit_offset(dw, AS, path);
	long state = dwarf_member_path_offset(dw, AS, "state");

	if (bit == LAYOUT_ABSENT || state == LAYOUT_ABSENT)
		return LAYOUT_ABSENT;
	return bit - 8 * state;
}

static long ask_probe(const struct interpreter *found, const struct probe *probe)
{
	Dwarf *dw = found->dwarf;

	switch (probe->kind) {
	case MEMBER:
		return dwarf_member_path_offset(dw, probe->scope, probe->path);
	case SIZE:
		return dwarf_type_size(dw, probe->scope);
	case LENGTH:
		return dwarf_member_array_length(dw, probe->scope, probe->path);
	case UNIT_LENGTH:
		return unit_variable_elements(dw, probe->scope, probe->path);
	case SYMBOL_LENGTH:
		return symbol_elements(found->module, probe->scope);
	case UNICODE_BIT:
		return unicode_bit(dw, probe->path);
	case STATE_KIND:
		return state_kind(dw);
	case FREELIST_KIND:
		return freelist_kind(dw);
	case LAST_MEMBER:
		return last_member(dw, probe->scope, probe->path);
	}
	return LAYOUT_ABSENT;
}

static long ask_field(const struct interpreter *found, const struct field *field)
{
	size_t i;

	for (i = 0; i < 3 && field->probes[i].scope != NULL; i++) {
		long answer = ask_probe(found, &field->probes[i]);

		if (answer != LAYOUT_ABSENT)
			return field->probes[i].kind == LENGTH ||
			       field->probes[i].kind == SYMBOL_LENGTH ? answer + field->adjust : answer;
	}
	if (field->probes[0].scope == NULL)	/* a derived kind */
		return ask_probe(found, &field->probes[0]);
	return LAYOUT_ABSENT;
}

static long row_value(const struct python_layout *row, const struct field *field)
{
	return *(const long *)((const char *)row + field->slot);
}

struct mismatches {
	int count;
	char names[8192];
};

static void note_mismatch(struct mismatches *seen, const char *field, long table, long dwarf)
{
	size_t used = strlen(seen->names);

	fprintf(stderr, "%s: table %ld, DWARF %ld\n", field, table, dwarf);
	snprintf(seen->names + used, sizeof seen->names - used, " %s (table %ld, DWARF %ld)",
		 field, table, dwarf);
	seen->count++;
}

struct agreement {
	int confirmed;		/* fields where table and DWARF agree */
	int absent;		/* of those, fields absent from both */
};

/* Compares every field of ROW with FOUND's DWARF. */
static struct agreement compare_row(const struct interpreter *found,
				    const struct python_layout *row,
				    struct mismatches *seen)
{
	struct agreement agreed = { 0, 0 };
	size_t i;

	for (i = 0; i < FIELD_COUNT; i++) {
		long table = row_value(row, &fields[i]), dwarf = ask_field(found, &fields[i]);

		if (table != dwarf) {
			note_mismatch(seen, fields[i].key, table, dwarf);
			continue;
		}
		agreed.confirmed++;
		agreed.absent += table == LAYOUT_ABSENT;
	}
	return agreed;
}

/* ---- python_layout_for_version and the symbol helpers ---- */

static int rows_covering(long code)
{
	int rows = 0;
	size_t i;

	for (i = 0; i < python_layouts_count; i++)
		rows += python_layouts[i].version_min <= code && code <= python_layouts[i].version_max;
	return rows;
}

START_TEST(every_covered_version_has_exactly_one_row)
{
	long code = CODE(FIRST_MINOR + _i);
	const struct python_layout *row = python_layout_for_version(code);

	ck_assert_msg(rows_covering(code) == 1, "3.%ld is covered by %d rows", code % 1000,
		      rows_covering(code));
	ck_assert_ptr_nonnull(row);
	ck_assert_int_le(row->version_min, code);
	ck_assert_int_ge(row->version_max, code);
}
END_TEST

START_TEST(versions_outside_the_table_have_no_row)
{
	ck_assert_ptr_null(python_layout_for_version(CODE(FIRST_MINOR - 1)));
	ck_assert_ptr_null(python_layout_for_version(CODE(LAST_MINOR + 1)));
	ck_assert_ptr_null(python_layout_for_version(2007));
	ck_assert_int_eq(rows_covering(CODE(LAST_MINOR + 1)), 0);
}
END_TEST

START_TEST(rows_are_named_and_disjoint)
{
	size_t i, j;

	ck_assert_uint_gt(python_layouts_count, 0);
	for (i = 0; i < python_layouts_count; i++) {
		const struct python_layout *row = &python_layouts[i];

		ck_assert_msg(row->name != NULL && row->source != NULL, "row %zu has no name", i);
		ck_assert_msg(row->version_min <= row->version_max, "%s: empty range", row->name);
		for (j = 0; j < i; j++)
			ck_assert_msg(python_layouts[j].version_max < row->version_min ||
				      row->version_max < python_layouts[j].version_min,
				      "%s overlaps %s", row->name, python_layouts[j].name);
	}
}
END_TEST

/* Rules every row must obey whatever the DWARF says. */
START_TEST(rows_are_consistent)
{
	const struct python_layout *row = python_layout_for_version(CODE(FIRST_MINOR + _i));
	long kind = row->state_kind;

	ck_assert_int_eq(row->max_pools_in_arena * row->pool_size, row->arena_size);
	ck_assert_int_eq(row->nb_small_size_classes * row->alignment,
			 row->small_request_threshold);
	ck_assert_int_eq(row->usedpools_entries, 2 * row->nb_small_size_classes);
	ck_assert_int_eq(row->pool_overhead % row->alignment, 0);
	ck_assert_int_ge(row->pool_overhead, row->pool_header_sizeof);
	ck_assert(kind == PYTHON_STATE_STATICS || kind == PYTHON_STATE_EMBEDDED ||
		  kind == PYTHON_STATE_POINTER);
	ck_assert_int_eq(kind == PYTHON_STATE_STATICS, row->state_runtime_offset == LAYOUT_ABSENT);
	ck_assert_int_eq(kind == PYTHON_STATE_STATICS, row->state_arenas == LAYOUT_ABSENT);
	if (kind != PYTHON_STATE_STATICS) {
		ck_assert_int_eq(row->state_runtime_offset,
				 row->runtime_main_interpreter + row->interp_obmalloc);
		ck_assert_int_eq(row->runtime_main_interpreter_last, 1);
	}
	ck_assert_int_eq(row->tpflags_preheader == 0, row->preheader_managed_size == LAYOUT_ABSENT);
	ck_assert_int_eq(row->freelist_kind == PYTHON_FREELIST_STATICS,
			 row->freelist_float_items == LAYOUT_ABSENT);
}
END_TEST

START_TEST(symbol_names_match_with_compiler_suffixes)
{
	ck_assert(python_symbol_matches("arenas", "arenas"));
	ck_assert(python_symbol_matches("arenas.lto_priv.0", "arenas"));
	ck_assert(python_symbol_matches("usedpools.lto_priv.12", "usedpools"));
	ck_assert(!python_symbol_matches("arenas_", "arenas"));
	ck_assert(!python_symbol_matches("usable_arenas", "arenas"));
	ck_assert(!python_symbol_matches("arena", "arenas"));
	ck_assert(!python_symbol_matches(NULL, "arenas"));
	ck_assert_str_eq(python_obmalloc_symbol(PYTHON_SYM_ARENAS), "arenas");
	ck_assert_str_eq(python_obmalloc_symbol(PYTHON_SYM_NARENAS_HIGHWATER), "narenas_highwater");
	ck_assert_ptr_null(python_obmalloc_symbol(PYTHON_SYM_COUNT));
}
END_TEST

/* ---- each interpreter against its row ---- */

static const struct interpreter *compared_interpreter(int i)
{
	return &interpreters[compared[i]];
}

START_TEST(row_matches_dwarf)
{
	const struct interpreter *found = compared_interpreter(_i);
	const struct python_layout *row = python_layout_for_version(CODE(found->minor));
	struct mismatches seen = { 0, "" };
	struct agreement agreed;

	ck_assert_msg(row != NULL, "no python-layouts row for 3.%d", found->minor);
	ck_assert_msg(dwarf_type_size(found->dwarf, TO) != LAYOUT_ABSENT &&
		      dwarf_type_size(found->dwarf, IS) != LAYOUT_ABSENT,
		      "%s: DWARF lacks PyTypeObject or PyInterpreterState", found->path);
	agreed = compare_row(found, row, &seen);
	printf("%s: %d of %zu fields confirmed by DWARF, %d of them absent from both (%s)\n",
	       found->label, agreed.confirmed, FIELD_COUNT, agreed.absent, found->path);
	fflush(stdout);
	ck_assert_msg(seen.count == 0, "%s (%s) disagrees with DWARF on:%s", row->name,
		      found->label, seen.names);
}
END_TEST

static void assert_symbol(const struct interpreter *found, const char *name, long size)
{
	long actual = symbol_size(found->module, name);

	ck_assert_msg(actual == size, "%s: symbol %s has size %ld, expected %ld", found->label,
		      name, actual, size);
}

static void assert_obmalloc_statics(const struct interpreter *found,
				    const struct python_layout *row)
{
	int which;

	for (which = 0; which < PYTHON_SYM_COUNT; which++) {
		const char *name = python_obmalloc_symbol(which);

		if (which == PYTHON_SYM_USEDPOOLS)
			assert_symbol(found, name, row->usedpools_entries * 8);
		else if (which == PYTHON_SYM_MAXARENAS)
			assert_symbol(found, name, 4);
		else
			assert_symbol(found, name, 8);
	}
}

START_TEST(state_symbols_are_where_the_row_says)
{
	const struct interpreter *found = compared_interpreter(_i);
	const struct python_layout *row = python_layout_for_version(CODE(found->minor));

	ck_assert_ptr_nonnull(row);
	assert_symbol(found, "_PyRuntime", row->runtime_sizeof);
	if (row->state_kind == PYTHON_STATE_STATICS)
		assert_obmalloc_statics(found, row);
	else
		ck_assert_int_eq(symbol_size(found->module, "arenas"), LAYOUT_ABSENT);
	if (row->state_kind == PYTHON_STATE_POINTER)
		assert_symbol(found, "obmalloc_state_main", row->state_sizeof);
}
END_TEST

START_TEST(freelist_statics_are_where_the_row_says)
{
	const struct interpreter *found = compared_interpreter(_i);
	const struct python_layout *row = python_layout_for_version(CODE(found->minor));
	Dwarf *dw = found->dwarf;

	ck_assert_ptr_nonnull(row);
	if (row->freelist_kind != PYTHON_FREELIST_STATICS) {
		ck_assert_int_eq(unit_variable_elements(dw, "Objects/listobject.c", "free_list"),
				 LAYOUT_ABSENT);
		return;
	}
	ck_assert_int_eq(unit_variable_elements(dw, "Objects/floatobject.c", "free_list"), 1);
	ck_assert_int_eq(unit_variable_elements(dw, "Objects/floatobject.c", "numfree"), 1);
	ck_assert_int_eq(unit_variable_elements(dw, "Objects/listobject.c", "numfree"), 1);
	ck_assert_int_eq(unit_variable_elements(dw, "Objects/tupleobject.c", "numfree"),
			 row->freelist_tuple_sizes);
	ck_assert_int_eq(unit_variable_elements(dw, "Objects/dictobject.c", "numfree"), 1);
	ck_assert_int_eq(unit_variable_elements(dw, "Objects/dictobject.c", "numfreekeys"), 1);
}
END_TEST

/* ---- running ---- */

static TCase *table_tests(void)
{
	TCase *table = tcase_create("table");
	int minors = LAST_MINOR - FIRST_MINOR + 1;

	tcase_add_loop_test(table, every_covered_version_has_exactly_one_row, 0, minors);
	tcase_add_test(table, versions_outside_the_table_have_no_row);
	tcase_add_test(table, rows_are_named_and_disjoint);
	tcase_add_loop_test(table, rows_are_consistent, 0, minors);
	tcase_add_test(table, symbol_names_match_with_compiler_suffixes);
	return table;
}

static TCase *dwarf_tests(void)
{
	TCase *dwarf = tcase_create("dwarf");

	tcase_add_loop_test(dwarf, row_matches_dwarf, 0, compared_count);
	tcase_add_loop_test(dwarf, state_symbols_are_where_the_row_says, 0, compared_count);
	tcase_add_loop_test(dwarf, freelist_statics_are_where_the_row_says, 0, compared_count);
	tcase_set_timeout(dwarf, 300);
	return dwarf;
}

static int run_tests(void)
{
	Suite *suite = suite_create("python_layout");
	SRunner *runner;
	int failed;

	suite_add_tcase(suite, table_tests());
	if (compared_count > 0)
		suite_add_tcase(suite, dwarf_tests());
	runner = srunner_create(suite);
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	if (failed != 0)
		return EXIT_FAILURE;
	return compared_count > 0 ? EXIT_SUCCESS : EXIT_SKIP;
}

static void open_interpreters(void)
{
	int i;

	for (i = 0; i < interpreter_count; i++) {
		open_dwarf(&interpreters[i]);
		if (interpreters[i].dwarf != NULL)
			compared[compared_count++] = i;
		else
			printf("%s: skipped, no DWARF for %s (install its debug symbols)\n",
			       interpreters[i].label, interpreters[i].path);
	}
}

static void report_uncompared_versions(void)
{
	int minor, i;

	for (minor = FIRST_MINOR; minor <= LAST_MINOR; minor++) {
		bool seen = false;

		for (i = 0; i < compared_count; i++)
			seen |= compared_interpreter(i)->minor == minor;
		if (!seen)
			printf("3.%d: skipped, no interpreter with DWARF found\n", minor);
	}
}

int main(void)
{
	int status, i;

	debuginfo_path = getenv("HEAPINSPECT_DEBUGINFO_PATH");
	find_pyenv_interpreters();
	find_system_interpreters();
	open_interpreters();
	report_uncompared_versions();
	if (compared_count == 0)
		printf("SKIP: no CPython 3.%d-3.%d with DWARF found: comparing the table "
		       "needs pyenv builds or python3.X-dbg\n", FIRST_MINOR, LAST_MINOR);
	fflush(stdout);
	status = run_tests();
	for (i = 0; i < interpreter_count; i++)
		close_dwarf(&interpreters[i]);
	return status;
}
