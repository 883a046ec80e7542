/*
 * numpy_locate.c - find NumPy in the target: the _multiarray_umath module,
 * the versions it reports about itself, its layout row and &PyArray_Type.
 *
 * Versions: the module exports PyArray_API (stripped builds too).  Slot
 * api_slot.cversion is PyArray_GetNDArrayCVersion and slot
 * api_slot.feature_version PyArray_GetNDArrayCFeatureVersion; each is a
 * `return CONSTANT;` function, so the constant is read from its machine
 * code (mov $imm32,%eax; ret - after an endbr64 in CET builds) in the
 * module's ELF file, never by calling into the target.  Those two numbers
 * pick the numpy-layouts/ row; anything else is "unknown version".
 * PyArray_Type: the .symtab symbol if there is one, else PyArray_API slot
 * api_slot.array_type, else the type object in the module's data whose
 * tp_name points at "numpy.ndarray".  Whichever way, it must check out:
 * its type is PyType_Type, its name "numpy.ndarray", its tp_basicsize the
 * row's sizeof(PyArrayObject_fields).
 */
#include "config.h"

#include "numpy.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define NUMPY_MODULE "_multiarray_umath"
#define NDARRAY_NAME "numpy.ndarray"
#define DESCR_NAME "numpy.dtype"
#define MAX_TP_BASE_DEPTH 64

/* The constant a `return CONSTANT;` function at FN returns, from its code. */
static int returned_constant(Dwfl_Module *mod, uint64_t fn, unsigned long *out)
{
	static const unsigned char endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
	unsigned char code[10] = { 0 };
	size_t at = 0;
	int whole = symbols_read_file_bytes(mod, fn, code, sizeof code) == 0;
	if (!whole && symbols_read_file_bytes(mod, fn, code, 6) < 0)
		return -1;
	if (whole && !memcmp(code, endbr64, sizeof endbr64))
		at = sizeof endbr64;
	if (code[at] != 0xb8 || code[at + 5] != 0xc3)	/* mov $imm32,%eax; ret */
		return -1;
	*out = (unsigned long)code[at + 1] | (unsigned long)code[at + 2] << 8 |
	       (unsigned long)code[at + 3] << 16 | (unsigned long)code[at + 4] << 24;
	return 0;
}

/* The version function in slot SLOT of the PyArray_API table at API. */
static int api_constant(const struct target *t, Dwfl_Module *mod, uint64_t api, long slot,
			unsigned long *out)
{
	uint64_t fn;
	if (slot < 0 || target_read_u64(t, api + 8 * (uint64_t)slot, &fn) < 0 || !fn)
		return -1;
	return returned_constant(mod, fn, out);
}

static int string_equals(const struct target *t, uint64_t addr, const char *s)
{
	size_t n = strlen(s) + 1;
	const char *p = target_view(t, addr, n);
	return p && !memcmp(p, s, n);
}

/* Is TYPE a type object (its type is PyType_Type) named NAME? */
static int is_named_type(const struct target *t, const struct heap_model *m, uint64_t type,
			 const char *name)
{
	const struct python_layout *P = m->py.layout;
	uint64_t meta, name_ptr;
	return type && !(type % 8) &&
	       target_read_u64(t, type + (uint64_t)P->pyobject_type, &meta) == 0 &&
	       meta == m->py.type_type &&
	       target_read_u64(t, type + (uint64_t)P->typeobject_tp_name, &name_ptr) == 0 &&
	       string_equals(t, name_ptr, name);
}

/* Is TYPE PyArray_Type itself, by the checks in the header comment? */
static int is_ndarray_type(const struct target *t, const struct heap_model *m, uint64_t type)
{
	uint64_t basicsize;
	return is_named_type(t, m, type, NDARRAY_NAME) &&
	       target_read_u64(t, type + (uint64_t)m->py.layout->typeobject_tp_basicsize,
			       &basicsize) == 0 &&
	       basicsize == (uint64_t)m->np.layout->array_sizeof;
}

/* Scan MOD's writable mappings for a type whose tp_name points at a
 * "numpy.ndarray" string inside the module. */
static uint64_t ndarray_type_by_name(const struct target *t, const struct heap_model *m)
{
	const struct python_layout *P = m->py.layout;
	size_t i;
	for (i = 0; i < t->nmaps; i++) {
		const struct target_mapping *mp = &t->maps[i];
		uint64_t a;
		if (strcmp(mp->path, m->np.module) || !(mp->prot & TARGET_PROT_WRITE))
			continue;
		for (a = mp->start; a + 8 <= mp->end; a += 8) {
			uint64_t name;
			const struct target_mapping *nm;
			if (target_read_u64(t, a, &name) < 0 || !(nm = target_mapping_at(t, name)) ||
			    strcmp(nm->path, m->np.module) || !string_equals(t, name, NDARRAY_NAME))
				continue;
			if (a >= mp->start + (uint64_t)P->typeobject_tp_name &&
			    is_ndarray_type(t, m, a - (uint64_t)P->typeobject_tp_name))
				return a - (uint64_t)P->typeobject_tp_name;
		}
	}
	return 0;
}

static int fail(struct heap_model *m, char *msg)
{
	m->np.error = msg;
	return -1;
}

/* Versions from PyArray_API; the row they select. */
static int find_layout(const struct target *t, Dwfl_Module *mod, uint64_t api,
		       struct heap_model *m)
{
	const struct numpy_layout *first = &numpy_layouts[0];
	uint64_t slot0;
	if (target_read_u64(t, api, &slot0) < 0)
		return fail(m, xasprintf("NumPy's PyArray_API table in %s was not copied "
					 "(unreadable memory)", m->np.module));
	if (api_constant(t, mod, api, first->api_slot_cversion, &m->np.abi_version) < 0 ||
	    api_constant(t, mod, api, first->api_slot_feature_version, &m->np.api_version) < 0)
		return fail(m, xasprintf("unknown NumPy version: PyArray_API's version functions "
					 "in %s are not `return CONSTANT` code", m->np.module));
	m->np.layout = numpy_layout_for_versions(m->np.abi_version, m->np.api_version);
	if (!m->np.layout)
		return fail(m, xasprintf("unknown NumPy version: C ABI 0x%lx, C API 0x%lx (layouts "
					 "cover NumPy %ld.%ld to %ld.%ld)", m->np.abi_version,
					 m->np.api_version, first->version_min / 1000,
					 first->version_min % 1000,
					 numpy_layouts[numpy_layouts_count - 1].version_max / 1000,
					 numpy_layouts[numpy_layouts_count - 1].version_max % 1000));
	if (m->np.layout->api_slot_cversion != first->api_slot_cversion ||
	    m->np.layout->api_slot_feature_version != first->api_slot_feature_version)
		return fail(m, xasprintf("layout %s moves the version slots of PyArray_API",
					 m->np.layout->name));
	return 0;
}

static int find_ndarray_type(const struct target *t, Dwfl_Module *mod, uint64_t api,
			     struct heap_model *m)
{
	uint64_t type = 0;
	if (symbols_lookup(mod, "PyArray_Type", &type) == 0 && is_ndarray_type(t, m, type))
		m->np.type_method = "symbol";
	else if (target_read_u64(t, api + 8 * (uint64_t)m->np.layout->api_slot_array_type,
				 &type) == 0 && is_ndarray_type(t, m, type))
		m->np.type_method = "PyArray_API";
	else if ((type = ndarray_type_by_name(t, m)) != 0)
		m->np.type_method = "tp_name";
	else
		return fail(m, xasprintf("numpy.ndarray's type object not found in %s",
					 m->np.module));
	m->np.ndarray_type = type;
	if (target_read_u64(t, api + 8 * (uint64_t)m->np.layout->api_slot_descr_type, &type) == 0 &&
	    is_named_type(t, m, type, DESCR_NAME))
		m->np.descr_type = type;
	return 0;
}

/* Path of a mapped _multiarray_umath, or NULL. */
static const char *mapped_module(const struct target *t)
{
	size_t i;
	for (i = 0; i < t->nmaps; i++) {
		const char *base = strrchr(t->maps[i].path, '/');
		if (base && !strncmp(base + 1, NUMPY_MODULE, strlen(NUMPY_MODULE)))
			return t->maps[i].path;
	}
	return NULL;
}

int numpy_locate(const struct target *t, struct symbols *syms, struct heap_model *m)
{
	const char *path = mapped_module(t);
	Dwfl_Module *mod;
	uint64_t api;
	if (!path) {
		m->np.error = xstrdup("NumPy is not loaded (no " NUMPY_MODULE " module mapped)");
		return 0;
	}
	m->np.module = xstrdup(path);
	if (!m->py.found || !m->py.type_type)
		return fail(m, xstrdup("NumPy is loaded but CPython was not walked"));
	mod = syms ? symbols_module_by_path(syms, path) : NULL;
	if (!mod)
		return fail(m, xasprintf("cannot read the symbols of %s", path));
	if (symbols_lookup(mod, "PyArray_API", &api) < 0)
		return fail(m, xasprintf("unknown NumPy version: %s exports no PyArray_API", path));
	if (find_layout(t, mod, api, m) < 0 || find_ndarray_type(t, mod, api, m) < 0)
		return -1;
	m->np.found = 1;
	return 1;
}

/* Does TYPE's tp_base chain reach BASE (bounded)? */
static int is_subtype(const struct target *t, const struct heap_model *m, uint64_t type,
		      uint64_t base)
{
	int depth;
	for (depth = 0; type && depth < MAX_TP_BASE_DEPTH; depth++) {
		if (type == base)
			return 1;
		if (target_read_u64(t, type + (uint64_t)m->py.layout->typeobject_tp_base, &type) < 0)
			return 0;
	}
	return 0;
}

int numpy_is_array_type(const struct target *t, const struct heap_model *m, uint64_t type)
{
	return m->np.found && is_subtype(t, m, type, m->np.ndarray_type);
}

int numpy_is_descr(const struct target *t, const struct heap_model *m, uint64_t descr)
{
	uint64_t type;
	if (!m->np.descr_type)
		return 1;	/* not known: the descr's own fields are still checked */
	return target_read_u64(t, descr + (uint64_t)m->py.layout->pyobject_type, &type) == 0 &&
	       is_subtype(t, m, type, m->np.descr_type);
}
