/*
 * check_layout_dwarf.c - the glibc-layouts/ table against reality.
 *
 * Unit tests (Check) for glibc_layout_for_version() over the table, and a
 * comparison of the row for the libc this program runs on with that libc's
 * DWARF, field by field.  The DWARF comes from separate debuginfo found the
 * way elfutils' tools find it offline (libdwfl, build-id, /usr/lib/debug);
 * HEAPINSPECT_DEBUGINFO_PATH overrides libdwfl's search path.
 *
 * Exit status: 0 all passed, 1 a test failed, 77 (automake SKIP) when the
 * table tests passed but the libc has no DWARF to compare against: it never
 * passes without comparing.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <gnu/libc-version.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf_layout.h"
#include "glibc_layout.h"

#define EXIT_SKIP 77
#define FIRST_COVERED 2026
#define LAST_COVERED 2043

static char *debuginfo_path;	/* NULL: libdwfl's default search path */

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

static struct {
	const char *path;	/* the libc.so this process runs on */
	long version;		/* major * 1000 + minor */
	Dwfl *dwfl;
	Dwarf *dwarf;
} libc;

/* ---- finding the running libc and its DWARF ---- */

static long parse_version(const char *text)
{
	int major, minor;

	if (sscanf(text, "%d.%d", &major, &minor) != 2)
		return -1;
	return major * 1000L + minor;
}

static const char *running_libc_path(void)
{
	Dl_info info;

	if (dladdr((void *)gnu_get_libc_version, &info) == 0 || info.dli_fname == NULL)
		return "/lib/x86_64-linux-gnu/libc.so.6";
	return info.dli_fname;
}

static Dwarf *open_libc_dwarf(void)
{
	Dwfl_Module *module;
	Dwarf_Addr bias;

	libc.dwfl = dwfl_begin(&offline_callbacks);
	if (libc.dwfl == NULL)
		return NULL;
	module = dwfl_report_offline(libc.dwfl, "libc", libc.path, -1);
	dwfl_report_end(libc.dwfl, NULL, NULL);
	if (module == NULL)
		return NULL;
	return dwfl_module_getdwarf(module, &bias);
}

static void close_libc_dwarf(void)
{
	dwarf_layout_forget(libc.dwarf);
	if (libc.dwfl != NULL)
		dwfl_end(libc.dwfl);
}

/* ---- glibc_layout_for_version ---- */

static int rows_covering(long version)
{
	int rows = 0;
	size_t i;

	for (i = 0; i < glibc_layouts_count; i++)
		rows += glibc_layouts[i].version_min <= version &&
			version <= glibc_layouts[i].version_max;
	return rows;
}

START_TEST(every_covered_version_has_exactly_one_row)
{
	long version = FIRST_COVERED + _i;
	const struct glibc_layout *row = glibc_layout_for_version(version);

	ck_assert_msg(rows_covering(version) == 1, "2.%ld is covered by %d rows",
		      version % 1000, rows_covering(version));
	ck_assert_ptr_nonnull(row);
	ck_assert_int_le(row->version_min, version);
	ck_assert_int_ge(row->version_max, version);
}
END_TEST

START_TEST(versions_outside_the_table_have_no_row)
{
	ck_assert_ptr_null(glibc_layout_for_version(FIRST_COVERED - 1));
	ck_assert_ptr_null(glibc_layout_for_version(LAST_COVERED + 1));
	ck_assert_int_eq(rows_covering(FIRST_COVERED - 1), 0);
	ck_assert_int_eq(rows_covering(LAST_COVERED + 1), 0);
}
END_TEST

START_TEST(rows_are_ordered_and_disjoint)
{
	size_t i;

	ck_assert_uint_gt(glibc_layouts_count, 0);
	for (i = 0; i < glibc_layouts_count; i++) {
		const struct glibc_layout *row = &glibc_layouts[i];

		ck_assert_msg(row->name != NULL && row->source != NULL,
			      "row %zu has no name or source", i);
		ck_assert_msg(row->version_min <= row->version_max,
			      "%s: empty version range", row->name);
		if (i > 0)
			ck_assert_msg(glibc_layouts[i - 1].version_max < row->version_min,
				      "%s overlaps or precedes %s", row->name,
				      glibc_layouts[i - 1].name);
	}
}
END_TEST

/* ---- the running libc ---- */

static long banner_version(const char *path)
{
	static const char marker[] = "release version ";
	char *image = NULL, *at;
	size_t size = 0;
	long version = -1;
	FILE *file = fopen(path, "rb");

	if (file == NULL)
		return -1;
	while (!feof(file) && !ferror(file)) {
		char *grown = realloc(image, size + 65536 + 1);

		if (grown == NULL)
			break;
		image = grown;
		size += fread(image + size, 1, 65536, file);
		image[size] = '\0';
	}
	fclose(file);
	for (at = image; at != NULL && at < image + size; at += strlen(at) + 1) {
		char *found = strstr(at, marker);

		if (strstr(at, "GNU C Library") != NULL && found != NULL) {
			version = parse_version(found + sizeof marker - 1);
			break;
		}
	}
	free(image);
	return version;
}

START_TEST(banner_names_the_running_version)
{
	ck_assert_int_eq(banner_version(libc.path), libc.version);
}
END_TEST

struct mismatches {
	int count;
	char names[4096];
};

static void note_mismatch(void *ctx, const char *field, long table, long dwarf)
{
	struct mismatches *seen = ctx;
	size_t used = strlen(seen->names);

	fprintf(stderr, "%s: table %ld, DWARF %ld\n", field, table, dwarf);
	snprintf(seen->names + used, sizeof seen->names - used, " %s (table %ld, DWARF %ld)",
		 field, table, dwarf);
	seen->count++;
}

START_TEST(table_row_matches_dwarf)
{
	const struct glibc_layout *row = glibc_layout_for_version(libc.version);
	struct mismatches seen = { 0, "" };
	struct glibc_layout from_dwarf;
	int confirmed;

	ck_assert_msg(row != NULL, "no glibc-layouts row for glibc 2.%ld",
		      libc.version % 1000);
	confirmed = glibc_layout_from_dwarf(libc.dwarf, row, &from_dwarf,
					    note_mismatch, &seen);
	ck_assert_msg(seen.count == 0, "%s disagrees with DWARF on:%s", row->name,
		      seen.names);
	ck_assert_int_eq(confirmed, (int)glibc_layout_dwarf_field_count());
}
END_TEST

START_TEST(typedef_and_tag_names_agree)
{
	ck_assert_int_eq(dwarf_type_size(libc.dwarf, "heap_info"),
			 dwarf_type_size(libc.dwarf, "_heap_info"));
	ck_assert_int_ne(dwarf_type_size(libc.dwarf, "heap_info"), LAYOUT_ABSENT);
	ck_assert_int_eq(dwarf_member_offset(libc.dwarf, "heap_info", "prev"),
			 dwarf_member_offset(libc.dwarf, "_heap_info", "prev"));
	ck_assert_int_ne(dwarf_type_size(libc.dwarf, "tcache_perthread_struct"),
			 LAYOUT_ABSENT);
}
END_TEST

START_TEST(unknown_names_are_absent)
{
	ck_assert_int_eq(dwarf_type_size(libc.dwarf, "no_such_struct_here"), LAYOUT_ABSENT);
	ck_assert_int_eq(dwarf_member_offset(libc.dwarf, "no_such_struct_here", "next"),
			 LAYOUT_ABSENT);
	ck_assert_int_eq(dwarf_member_offset(libc.dwarf, "malloc_state", "no_such_member"),
			 LAYOUT_ABSENT);
	ck_assert_int_eq(dwarf_member_array_length(libc.dwarf, "malloc_state", "top"),
			 LAYOUT_ABSENT);
}
END_TEST

static TCase *table_tests(void)
{
	TCase *table = tcase_create("table");

	tcase_add_loop_test(table, every_covered_version_has_exactly_one_row, 0,
			    LAST_COVERED - FIRST_COVERED + 1);
	tcase_add_test(table, versions_outside_the_table_have_no_row);
	tcase_add_test(table, rows_are_ordered_and_disjoint);
	return table;
}

static TCase *dwarf_tests(void)
{
	TCase *dwarf = tcase_create("dwarf");

	tcase_add_test(dwarf, banner_names_the_running_version);
	tcase_add_test(dwarf, table_row_matches_dwarf);
	tcase_add_test(dwarf, typedef_and_tag_names_agree);
	tcase_add_test(dwarf, unknown_names_are_absent);
	tcase_set_timeout(dwarf, 60);
	return dwarf;
}

/* Runs the table tests, and the DWARF tests when there is DWARF. */
static int run_tests(bool have_dwarf)
{
	Suite *suite = suite_create("glibc_layout");
	SRunner *runner;
	int failed;

	suite_add_tcase(suite, table_tests());
	if (have_dwarf)
		suite_add_tcase(suite, dwarf_tests());
	runner = srunner_create(suite);
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	if (failed != 0)
		return EXIT_FAILURE;
	return have_dwarf ? EXIT_SUCCESS : EXIT_SKIP;
}

int main(void)
{
	int status;

	debuginfo_path = getenv("HEAPINSPECT_DEBUGINFO_PATH");
	libc.path = running_libc_path();
	libc.version = parse_version(gnu_get_libc_version());
	libc.dwarf = open_libc_dwarf();
	if (libc.dwarf == NULL)
		printf("SKIP: no DWARF for %s (glibc %s): install its debuginfo "
		       "(Debian: libc6-dbg) to compare the layout table with it\n",
		       libc.path, gnu_get_libc_version());
	else
		printf("comparing with the DWARF of %s (glibc %s)\n", libc.path,
		       gnu_get_libc_version());
	status = run_tests(libc.dwarf != NULL);
	close_libc_dwarf();
	return status;
}
