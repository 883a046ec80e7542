/*
 * numpy_layout.c - pick the numpy-layouts/ row for a NumPy module from the
 * C ABI and C API feature versions it reports about itself.
 *
 * The rows (numpy_layouts[]) are generated into numpy_layouts.c by
 * glibc-layouts/gen.awk with -v family=numpy; this file only searches them.
 */
#include "config.h"

#include "numpy_layout.h"

const struct numpy_layout *numpy_layout_for_versions(unsigned long abi, unsigned long api)
{
	size_t i;
	for (i = 0; i < numpy_layouts_count; i++) {
		const struct numpy_layout *row = &numpy_layouts[i];
		if ((unsigned long)row->abi_version == abi &&
		    (unsigned long)row->api_version_min <= api &&
		    api <= (unsigned long)row->api_version_max)
			return row;
	}
	return NULL;
}

/* Debian 12's python3-numpy (1.24.2) is the only NumPy these machines can
 * install; tests/numpy-arrays.test checks it live. */
int numpy_layout_verified_live(const struct numpy_layout *row)
{
	return row && row->version_min <= 1024 && 1024 <= row->version_max;
}
