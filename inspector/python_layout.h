/*
 * python_layout.h - the shape of CPython's allocator and object structs,
 * per minor version.
 *
 * The rows are generated at build time from the data files in
 * python-layouts/ (one file per CPython minor version, each naming the
 * CPython source files and tags it was read from and how it was checked
 * against DWARF) by glibc-layouts/gen.awk run with -v family=python.
 * Every key of python-layouts/fields.txt becomes one `long` member, its
 * dots turned into underscores (pool_header.szidx -> pool_header_szidx).
 *
 * Invariants:
 *   - x86-64 (LP64) default builds only.  Free-threaded builds (3.13t)
 *     do not use pymalloc and are not described by any row.
 *   - A field that does not exist in a version is LAYOUT_ABSENT (-1),
 *     never 0 (0 is a valid offset).  Flag masks that a version does not
 *     have are LAYOUT_ABSENT too, except tpflags_preheader, which is 0
 *     when objects carry no pre-header beyond the GC head.
 *   - Versions are encoded as major * 1000 + minor (3.12 -> 3012); rows
 *     cover whole minor versions.
 *
 * Locating the obmalloc state (state_kind):
 *   1  file-scope statics of Objects/obmalloc.c, found by symbol name in
 *      .symtab or a debug file: see python_obmalloc_symbol().  Optimised
 *      builds may suffix them (Debian's LTO: "arenas.lto_priv.0"), so
 *      match with python_symbol_matches().
 *   2  struct _obmalloc_state embedded in the main interpreter, which is
 *      embedded in the exported _PyRuntime, at state_runtime_offset.
 *   3  a pointer to struct _obmalloc_state at _PyRuntime +
 *      state_runtime_offset (main interpreter's; it points to the static
 *      obmalloc_state_main).
 *   state_runtime_offset = runtime_main_interpreter + interp_obmalloc was
 *   measured on one patch release.  Patch releases can grow _PyRuntimeState
 *   (3.12.1 -> 3.12.5 added 48 bytes of static strings before the main
 *   interpreter), but the main interpreter is its last member where
 *   runtime_main_interpreter_last is 1, so for kinds 2 and 3 use
 *       _PyRuntime + state_runtime_offset + (st_size(_PyRuntime) - runtime_sizeof)
 *   where st_size is the size of the _PyRuntime symbol (in .dynsym).
 *
 * Pre-header: a GC object (tp_flags & tpflags_have_gc) is preceded by a
 * PyGC_Head of gc_head_sizeof bytes; from 3.11 an object whose tp_flags
 * intersect tpflags_preheader is preceded by preheader_managed_size more
 * bytes.  The pymalloc block starts at object - pre-header.
 *
 * Free lists (freelist_kind): 1 = file-scope statics named free_list and
 * numfree in Objects/floatobject.c, listobject.c, tupleobject.c and
 * dictobject.c (plus keys_free_list/numfreekeys there); several files use
 * the same names, so tell them apart by the preceding STT_FILE symbol or
 * the DWARF unit.  2 = inside PyInterpreterState: every freelist_*_items
 * and *_numfree value is an offset from the start of the interpreter state
 * (the main one is *(_PyRuntime + runtime_interpreters_main)).  Float free
 * lists are chained through the object at freelist_float_link, tuple ones
 * through freelist_tuple_link (ob_item[0]); tuple free list i holds tuples
 * of size i + freelist_tuple_index_base.  Free-listed objects are still
 * allocated pymalloc blocks.
 */
#ifndef HEAPINSPECT_PYTHON_LAYOUT_H
#define HEAPINSPECT_PYTHON_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "glibc_layout.h"	/* LAYOUT_ABSENT */

enum python_state_kind {
	PYTHON_STATE_STATICS = 1,
	PYTHON_STATE_EMBEDDED = 2,
	PYTHON_STATE_POINTER = 3,
};

enum python_freelist_kind {
	PYTHON_FREELIST_STATICS = 1,
	PYTHON_FREELIST_INTERP = 2,
};

struct python_layout {
	const char *name;	/* data file it came from, e.g. "cpython-3.12" */
	const char *source;	/* source files and tags it was read from */
	long version_min, version_max;	/* inclusive, major*1000+minor */

	/* pymalloc geometry */
	long alignment, small_request_threshold, nb_small_size_classes;
	long arena_size, pool_size, max_pools_in_arena, pool_overhead;
	long usedpools_entries;		/* pointers in usedpools[] */

	/* struct pool_header; count is a uint, szidx etc. uint, pointers 8 */
	long pool_header_count, pool_header_freeblock, pool_header_nextpool;
	long pool_header_prevpool, pool_header_arenaindex, pool_header_szidx;
	long pool_header_nextoffset, pool_header_maxnextoffset;
	long pool_header_sizeof;

	/* struct arena_object; nfreepools/ntotalpools are uint */
	long arena_object_address, arena_object_pool_address;
	long arena_object_nfreepools, arena_object_ntotalpools;
	long arena_object_freepools, arena_object_nextarena;
	long arena_object_prevarena, arena_object_sizeof;

	/* where the obmalloc state is (see above) and struct _obmalloc_state;
	 * maxarenas is a uint, the narenas/ntimes counters size_t */
	long state_kind, state_runtime_offset;
	long state_usedpools, state_arenas, state_maxarenas;
	long state_unused_arena_objects, state_usable_arenas;
	long state_narenas_currently_allocated, state_ntimes_arena_allocated;
	long state_narenas_highwater, state_sizeof;

	/* _PyRuntimeState and PyInterpreterState */
	long runtime_sizeof, runtime_interpreters_head, runtime_interpreters_main;
	long runtime_main_interpreter;	/* embedded main interpreter (3.11+) */
	long runtime_main_interpreter_last;	/* 1: it is the last member */
	long interp_sizeof, interp_obmalloc;

	/* _Py_DebugOffsets at _PyRuntime + 0 (3.13+): PY_VERSION_HEX,
	 * free-threaded flag, sizeof _PyRuntimeState and PyInterpreterState */
	long debug_offsets_version, debug_offsets_free_threaded;
	long debug_offsets_runtime_size, debug_offsets_interp_size;

	/* object headers */
	long pyobject_refcnt, pyobject_type, pyobject_ob_size, pyobject_sizeof;
	long pyobject_immortal_refcnt;	/* 3.12+: refcount of immortal objects */
	long gc_head_next, gc_head_prev, gc_head_sizeof;

	/* PyTypeObject (tp_flags is an unsigned long) and PyHeapTypeObject */
	long typeobject_tp_name, typeobject_tp_basicsize, typeobject_tp_itemsize;
	long typeobject_tp_flags, typeobject_tp_base, typeobject_tp_dictoffset;
	long typeobject_tp_mro, typeobject_sizeof, heaptype_sizeof;

	/* tp_flags masks and the pre-header rule */
	long tpflags_have_gc, tpflags_heaptype;
	long tpflags_managed_dict, tpflags_managed_weakref, tpflags_preheader;
	long tpflags_inline_values;
	long tpflags_long_subclass, tpflags_list_subclass, tpflags_tuple_subclass;
	long tpflags_bytes_subclass, tpflags_unicode_subclass, tpflags_dict_subclass;
	long preheader_managed_size;

	/* free lists (offsets from the interpreter state for kind 2; numfree
	 * counters are int, tuple_numfree an int array) */
	long freelist_kind;
	long freelist_float_numfree, freelist_float_items;
	long freelist_tuple_items, freelist_tuple_numfree;
	long freelist_list_items, freelist_list_numfree;
	long freelist_dict_items, freelist_dict_numfree;
	long freelist_dictkeys_items, freelist_dictkeys_numfree;
	long freelist_float_max, freelist_tuple_sizes, freelist_tuple_max;
	long freelist_tuple_index_base, freelist_list_max, freelist_dict_max;
	long freelist_dictkeys_max, freelist_float_link, freelist_tuple_link;

	/* object bodies */
	long float_ob_fval, float_sizeof;
	long long_lv_tag, long_ob_digit;	/* lv_tag from 3.12 */
	long list_ob_item, list_allocated, list_sizeof;
	long tuple_ob_item, tuple_sizeof;
	long bytes_ob_shash, bytes_ob_sval, bytes_sizeof;
	long bytearray_ob_alloc, bytearray_ob_bytes, bytearray_ob_start;
	long bytearray_sizeof;
	/* PyASCIIObject, PyCompactUnicodeObject, PyUnicodeObject; the *_bit
	 * fields are bit numbers inside the 32-bit state word at
	 * unicode_state (kind is 3 bits wide from unicode_kind_bit) */
	long unicode_length, unicode_hash, unicode_state, unicode_wstr;
	long unicode_ascii_sizeof, unicode_utf8_length, unicode_utf8;
	long unicode_wstr_length, unicode_compact_sizeof, unicode_data;
	long unicode_sizeof;
	long unicode_kind_bit, unicode_compact_bit, unicode_ascii_bit;
	long unicode_ready_bit;
	/* PyDictObject; values_prefix 1: the ma_values buffer starts
	 * ((uint8_t *)ma_values)[-1] bytes before ma_values; PyDictValues
	 * embedded byte != 0: the values live inside the owning object */
	long dict_ma_used, dict_ma_keys, dict_ma_values, dict_sizeof;
	long dict_values_prefix, dictvalues_embedded, dictvalues_values;
	long set_mask, set_table, set_smalltable, set_sizeof;
};

/* All rows, in the order gen.awk was given the data files. */
extern const struct python_layout python_layouts[];
extern const size_t python_layouts_count;

/* The row covering CODE (major*1000+minor), or NULL if none does. */
const struct python_layout *python_layout_for_version(long code);

/* The obmalloc statics a state_kind 1 row is found by. */
enum python_obmalloc_symbol {
	PYTHON_SYM_USEDPOOLS,
	PYTHON_SYM_ARENAS,
	PYTHON_SYM_MAXARENAS,
	PYTHON_SYM_UNUSED_ARENA_OBJECTS,
	PYTHON_SYM_USABLE_ARENAS,
	PYTHON_SYM_NARENAS_CURRENTLY_ALLOCATED,
	PYTHON_SYM_NTIMES_ARENA_ALLOCATED,
	PYTHON_SYM_NARENAS_HIGHWATER,
	PYTHON_SYM_COUNT
};

/* Source name of obmalloc static WHICH ("arenas", "usedpools", ...), or
 * NULL if WHICH is out of range. */
const char *python_obmalloc_symbol(enum python_obmalloc_symbol which);

/* Whether symbol SYMBOL names the variable WANTED: equal, or WANTED
 * followed by a '.' suffix a compiler added ("arenas.lto_priv.0"). */
bool python_symbol_matches(const char *symbol, const char *wanted);

#endif
