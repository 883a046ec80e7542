/*
 * dwarf_layout.h - read glibc malloc's struct layout from libc's DWARF.
 *
 * When the target's libc has debuginfo, its DWARF is the authority on the
 * layout: these functions look up struct member offsets and type sizes by
 * name, and glibc_layout_from_dwarf() checks a glibc-layouts/ table row
 * against them field by field.  The lookups work on any Dwarf (the
 * python-layouts/ test uses them on libpython).
 *
 * Invariants:
 *   - Names may be struct/union tags or typedef names ("heap_info" and
 *     "_heap_info" both work); only complete definitions count.
 *   - Anything not found is LAYOUT_ABSENT, never 0.
 *   - The first lookup on a Dwarf indexes the named types of all its units
 *     (and of its dwz alternate file) once; later lookups on the same Dwarf
 *     reuse that index.  Call dwarf_layout_forget() before dwarf_end() or
 *     dwfl_end() releases that Dwarf.  Not thread-safe.
 */
#ifndef HEAPINSPECT_DWARF_LAYOUT_H
#define HEAPINSPECT_DWARF_LAYOUT_H

#include <stddef.h>
#include <elfutils/libdw.h>

#include "glibc_layout.h"

/* Byte offset of MEMBER in STRUCT_NAME (members of anonymous structs and
 * unions are found too), or LAYOUT_ABSENT. */
long dwarf_member_offset(Dwarf *dw, const char *struct_name, const char *member);

/* sizeof TYPE_NAME, or LAYOUT_ABSENT. */
long dwarf_type_size(Dwarf *dw, const char *type_name);

/* Number of elements of array member MEMBER, or LAYOUT_ABSENT if there is
 * no such member or it is not an array. */
long dwarf_member_array_length(Dwarf *dw, const char *struct_name, const char *member);

/* Size of one element of array member MEMBER (of MEMBER itself if it is not
 * an array), or LAYOUT_ABSENT. */
long dwarf_member_element_size(Dwarf *dw, const char *struct_name, const char *member);

/* Byte offset, from the start of STRUCT_NAME, of the member reached by
 * PATH: member names joined by dots ("interpreters.main"), each naming a
 * member of the previous one's struct or union type (anonymous ones are
 * looked through), or LAYOUT_ABSENT. */
long dwarf_member_path_offset(Dwarf *dw, const char *struct_name, const char *path);

/* Bit offset, from the start of STRUCT_NAME, of the member (usually a
 * bit-field) reached by PATH, or LAYOUT_ABSENT.  For a plain member it is
 * 8 * dwarf_member_path_offset(). */
long dwarf_member_path_bit_offset(Dwarf *dw, const char *struct_name, const char *path);

/* Drop the type index built for DW (no-op if there is none). */
void dwarf_layout_forget(Dwarf *dw);

/*
 * Copy TABLE_ROW to OUT, then replace every field the DWARF answers (struct
 * member offsets, sizeofs, array lengths and element widths; not defaults or
 * constants) by the DWARF's value.  A field counts as answered when the
 * DWARF defines the struct it belongs to; a member missing from that struct
 * answers LAYOUT_ABSENT.  MISMATCH (may be NULL) is called with CTX, the
 * field's key as spelt in glibc-layouts/fields.txt, the table value and the
 * DWARF value for every field where they differ.
 *
 * Returns the number of fields whose DWARF value equals the table's.
 */
int glibc_layout_from_dwarf(Dwarf *dw, const struct glibc_layout *table_row,
			    struct glibc_layout *out,
			    void (*mismatch)(void *ctx, const char *field,
					     long table, long dwarf),
			    void *ctx);

/* How many fields glibc_layout_from_dwarf() asks the DWARF about. */
size_t glibc_layout_dwarf_field_count(void);

#endif
