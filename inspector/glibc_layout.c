/*
 * glibc_layout.c - pick the glibc-layouts/ row for a glibc version.
 *
 * The rows themselves (glibc_layouts[], oldest first, ranges inclusive and
 * disjoint) are generated into glibc_layouts.c by glibc-layouts/gen.awk;
 * this file only searches them, so it does not depend on their order.
 */
#include "config.h"

#include "glibc_layout.h"

static int row_covers(const struct glibc_layout *row, long version)
{
	return row->version_min <= version && version <= row->version_max;
}

const struct glibc_layout *glibc_layout_for_version(long version)
{
	size_t i;

	for (i = 0; i < glibc_layouts_count; i++)
		if (row_covers(&glibc_layouts[i], version))
			return &glibc_layouts[i];
	return NULL;
}
