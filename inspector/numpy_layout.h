/*
 * numpy_layout.h - the shape of NumPy's array and dtype structs and of its
 * small-allocation caches, per release group.
 *
 * The rows are generated at build time from the data files in
 * numpy-layouts/ (one file per group of releases sharing a C API feature
 * version, each naming the NumPy source files and tag it was read from) by
 * glibc-layouts/gen.awk run with -v family=numpy.  Every key of
 * numpy-layouts/fields.txt becomes one `long` member, dots turned into
 * underscores (array.data -> array_data).
 *
 * Invariants:
 *   - x86-64 (LP64) builds only.
 *   - A field that does not exist in a release is LAYOUT_ABSENT (-1).
 *   - A row is chosen by what the target's own module says about itself:
 *     its C ABI version (PyArray_GetNDArrayCVersion) and C API feature
 *     version (PyArray_GetNDArrayCFeatureVersion); rows' API ranges are
 *     disjoint within one ABI version.
 *   - Versions are encoded as major * 1000 + minor (1.24 -> 1024).
 */
#ifndef HEAPINSPECT_NUMPY_LAYOUT_H
#define HEAPINSPECT_NUMPY_LAYOUT_H

#include <stddef.h>

#include "glibc_layout.h"	/* LAYOUT_ABSENT */

struct numpy_layout {
	const char *name;
	const char *source;
	long version_min, version_max;
	long abi_version;
	long api_version_min;
	long api_version_max;
	long api_slot_cversion;
	long api_slot_feature_version;
	long api_slot_array_type;
	long api_slot_descr_type;
	long array_data;
	long array_nd;
	long array_dimensions;
	long array_strides;
	long array_base;
	long array_descr;
	long array_flags;
	long array_weakreflist;
	long array_mem_handler;
	long array_sizeof;
	long descr_typeobj;
	long descr_kind;
	long descr_type;
	long descr_byteorder;
	long descr_type_num;
	long descr_elsize;
	long descr_elsize_size;
	long descr_alignment;
	long descr_subarray;
	long descr_names;
	long descr_c_metadata;
	long datetime_metadata_unit;
	long datetime_metadata_num;
	long flag_c_contiguous;
	long flag_f_contiguous;
	long flag_owndata;
	long flag_aligned;
	long flag_writeable;
	long flag_writebackifcopy;
	long cache_nbuckets;
	long cache_nbuckets_dim;
	long cache_ncache;
	long cache_bucket_sizeof;
	long handler_malloc;
	long handler_free;
};

extern const struct numpy_layout numpy_layouts[];
extern const size_t numpy_layouts_count;

/* The row for a module reporting ABI and API, or NULL if none describes it. */
const struct numpy_layout *numpy_layout_for_versions(unsigned long abi, unsigned long api);

/* Releases verified live on these machines (the others come from headers). */
int numpy_layout_verified_live(const struct numpy_layout *row);

#endif
