/*
 * check_numpy_layout.c - the numpy-layouts/ table, and the array reader on
 * memory laid out by each row.
 *
 * Only NumPy 1.24 can be installed on these machines (numpy-arrays.test
 * checks it live), so every other row is checked here the way the issue
 * asks: a memory image is built from the row's documented offsets (an
 * ndarray object, its dims and strides, float, datetime and unicode
 * descrs, a data buffer in an anonymous mapping) and numpy_walk() must read
 * back exactly what was written.  The 1.x and 2.x descr layouts differ
 * (elsize int at 32 vs npy_intp at 40, c_metadata at 80 vs 112), so a row
 * with a wrong offset fails here.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "numpy.h"
#include "numpy_layout.h"
#include "python_layout.h"
#include "target.h"
#include "util.h"

#define BASE 0x10000000ull	/* the image's one anonymous mapping */
#define SIZE 0x10000ull
#define ARRAY (BASE + 0x100)
#define DIMS (BASE + 0x400)
#define DESCR (BASE + 0x800)
#define META (BASE + 0xc00)
#define DATA (BASE + 0x1000)

/* The offsets as NumPy's headers document them, written independently of
 * the rows so that a wrong row fails: PyArrayObject_fields is the same in
 * every release (ndarraytypes.h: data 16, nd 24, dimensions 32, strides 40,
 * base 48, descr 56, flags 64); PyArray_Descr 1.x (v1.24.0
 * numpy/core/include/numpy/ndarraytypes.h): kind 24, byteorder 26, int
 * elsize 32, c_metadata 80; 2.x (v2.0.0 numpy/_core/include/numpy/
 * ndarraytypes.h, _PyArray_LegacyDescr): npy_intp elsize 40, c_metadata
 * 112; PyArray_DatetimeDTypeMetaData: NpyAuxData (4 pointers), then
 * {int base; int num} at 32/36. */
struct documented {
	long elsize, elsize_size, c_metadata;
};
static const struct documented numpy1 = { 32, 4, 80 }, numpy2 = { 40, 8, 112 };
enum { DOC_DATA = 16, DOC_ND = 24, DOC_DIMS = 32, DOC_STRIDES = 40, DOC_DESCR = 56,
       DOC_FLAGS = 64, DOC_KIND = 24, DOC_BYTEORDER = 26, DOC_UNIT = 32, DOC_NUM = 36 };

static const struct documented *documented_for(const struct numpy_layout *L)
{
	return L->abi_version == 0x02000000 ? &numpy2 : &numpy1;
}

struct image {
	struct target *t;
	struct heap_model *m;
	unsigned char *bytes;
};

static void put(struct image *im, uint64_t addr, long offset, const void *v, size_t len)
{
	ck_assert_int_ge(offset, 0);
	memcpy(im->bytes + (addr - BASE) + offset, v, len);
}

static void put_u64(struct image *im, uint64_t addr, long offset, uint64_t v)
{
	put(im, addr, offset, &v, 8);
}

/* A descr of KIND/ORDER/ELSIZE at DESCR, as the headers lay it out. */
static void put_descr(struct image *im, const struct numpy_layout *L, char kind, char order,
		      uint64_t elsize)
{
	const struct documented *D = documented_for(L);
	put(im, DESCR, DOC_KIND, &kind, 1);
	put(im, DESCR, DOC_BYTEORDER, &order, 1);
	put(im, DESCR, D->elsize, &elsize, (size_t)D->elsize_size);
}

/* One 2-d array (3 x 5, Fortran strides) of a descr at DESCR, in an image
 * laid out by row L, walked. */
static struct image walk_image(const struct numpy_layout *L, uint32_t flags,
			       void (*descr)(struct image *, const struct numpy_layout *))
{
	static const char maps[] = "10000000-10010000 rw-p 00000000 00:00 0 \n";
	struct image im;
	int64_t dims[4] = { 3, 5, 0, 0 };
	int32_t nd = 2;
	struct np_array *a;
	struct py_type_stat *ts;
	im.t = xcalloc(1, sizeof *im.t);
	im.t->exe = xstrdup("");
	ck_assert_int_eq(target_parse_maps(im.t, maps), 0);
	im.bytes = xcalloc(1, SIZE);
	descr(&im, L);
	dims[2] = 8;
	dims[3] = 24;
	put(&im, DIMS, 0, dims, sizeof dims);
	put_u64(&im, ARRAY, DOC_DATA, DATA);
	put(&im, ARRAY, DOC_ND, &nd, 4);
	put_u64(&im, ARRAY, DOC_DIMS, DIMS);
	put_u64(&im, ARRAY, DOC_STRIDES, DIMS + 16);
	put_u64(&im, ARRAY, DOC_DESCR, DESCR);
	put(&im, ARRAY, DOC_FLAGS, &flags, 4);
	put_u64(&im, ARRAY, 0, 1);	/* ob_refcnt */
	target_add_region(im.t, BASE, BASE + SIZE, im.bytes);
	ck_assert_int_eq(target_finish_regions(im.t), 0);
	im.m = model_new();
	im.m->glibc.layout = &glibc_layouts[glibc_layouts_count - 1];
	im.m->py.layout = python_layout_for_version(3011);
	im.m->py.found = 1;
	im.m->np.found = 1;
	im.m->np.layout = L;
	ts = ARRAY_PUSH(im.m->pym.types, im.m->pym.ntypes, im.m->pym.types_cap);
	memset(ts, 0, sizeof *ts);
	ts->name = xstrdup("numpy.ndarray");
	a = ARRAY_PUSH(im.m->np.arrays, im.m->np.narrays, im.m->np.arrays_cap);
	memset(a, 0, sizeof *a);
	a->addr = ARRAY;
	numpy_walk(im.t, im.m);
	return im;
}

static void free_image(struct image *im)
{
	model_free(im->m);
	target_free(im->t);
	free(im->bytes);
}

static void float64_descr(struct image *im, const struct numpy_layout *L)
{
	put_descr(im, L, 'f', '=', 8);
}

static void unicode_descr(struct image *im, const struct numpy_layout *L)
{
	put_descr(im, L, 'U', '=', 28);
}

static void datetime_descr(struct image *im, const struct numpy_layout *L)
{
	int32_t unit = 7, num = 25;	/* NPY_FR_s, 25: "[25s]" */
	put_descr(im, L, 'M', '=', 8);
	put_u64(im, DESCR, documented_for(L)->c_metadata, META);
	put(im, META, DOC_UNIT, &unit, 4);
	put(im, META, DOC_NUM, &num, 4);
}

static void bigendian_descr(struct image *im, const struct numpy_layout *L)
{
	put_descr(im, L, 'i', '>', 4);
}

static void check_array(const struct image *im, const char *dtype, uint64_t itemsize)
{
	const struct np_array *a = &im->m->np.arrays[0];
	ck_assert_msg(a->readable, "%s: array not readable", im->m->np.layout->name);
	ck_assert_int_eq(a->nd, 2);
	ck_assert_int_eq(a->shape[0], 3);
	ck_assert_int_eq(a->shape[1], 5);
	ck_assert_int_eq(a->strides[0], 8);
	ck_assert_int_eq(a->strides[1], 24);
	ck_assert_str_eq(a->dtype, dtype);
	ck_assert_uint_eq(a->itemsize, itemsize);
	ck_assert_uint_eq(a->nbytes, 15 * itemsize);
	ck_assert_uint_eq(a->data, DATA);
	ck_assert_int_eq(a->buffer.kind, NPBUF_ANON_MAPPING);
	ck_assert_uint_eq(a->buffer.offset, DATA - BASE);
	ck_assert_uint_eq(a->owner, ARRAY);
}

START_TEST(every_row_reads_its_own_layout)
{
	size_t i;
	for (i = 0; i < numpy_layouts_count; i++) {
		const struct numpy_layout *L = &numpy_layouts[i];
		uint32_t flags = (uint32_t)(L->flag_owndata | L->flag_f_contiguous |
					    L->flag_writeable | L->flag_aligned);
		struct image im = walk_image(L, flags, float64_descr);
		check_array(&im, "<f8", 8);
		ck_assert_uint_eq(im.m->np.arrays[0].flags, flags);
		free_image(&im);
		im = walk_image(L, 0, unicode_descr);
		check_array(&im, "<U7", 28);
		free_image(&im);
		im = walk_image(L, 0, datetime_descr);
		check_array(&im, "<M8[25s]", 8);
		free_image(&im);
		im = walk_image(L, 0, bigendian_descr);
		check_array(&im, ">i4", 4);
		free_image(&im);
	}
}
END_TEST

/* A 1.x row reading 2.x memory (or the reverse) must not see a float64. */
START_TEST(descr_layouts_are_told_apart)
{
	const struct numpy_layout *v1 = numpy_layout_for_versions(0x01000009, 0x10);
	const struct numpy_layout *v2 = numpy_layout_for_versions(0x02000000, 0x12);
	struct image im;
	ck_assert_ptr_nonnull(v1);
	ck_assert_ptr_nonnull(v2);
	ck_assert_int_ne(v1->descr_elsize, v2->descr_elsize);
	im = walk_image(v2, 0, float64_descr);
	im.m->np.layout = v1;
	im.m->np.arrays[0].readable = 0;
	free(im.m->np.arrays[0].shape);
	free(im.m->np.arrays[0].buffer.path);
	memset(&im.m->np.arrays[0], 0, sizeof im.m->np.arrays[0]);
	im.m->np.arrays[0].addr = ARRAY;
	numpy_walk(im.t, im.m);
	ck_assert(!im.m->np.arrays[0].readable || strcmp(im.m->np.arrays[0].dtype, "<f8"));
	free_image(&im);
}
END_TEST

START_TEST(rows_are_chosen_by_abi_and_api)
{
	const struct numpy_layout *row = numpy_layout_for_versions(0x01000009, 0x10);
	size_t i, j;
	ck_assert_ptr_nonnull(row);
	ck_assert(row->version_min <= 1024 && 1024 <= row->version_max);
	ck_assert(numpy_layout_verified_live(row));
	ck_assert_ptr_null(numpy_layout_for_versions(0x01000009, 0x7f));
	ck_assert_ptr_null(numpy_layout_for_versions(0x03000000, 0x12));
	ck_assert_ptr_null(numpy_layout_for_versions(0x01000008, 0x10));
	for (i = 0; i < numpy_layouts_count; i++) {
		const struct numpy_layout *a = &numpy_layouts[i];
		ck_assert_int_le(a->api_version_min, a->api_version_max);
		ck_assert_int_le(a->version_min, a->version_max);
		ck_assert_ptr_eq(numpy_layout_for_versions((unsigned long)a->abi_version,
							   (unsigned long)a->api_version_min), a);
		for (j = i + 1; j < numpy_layouts_count; j++) {
			const struct numpy_layout *b = &numpy_layouts[j];
			ck_assert(a->abi_version != b->abi_version ||
				  a->api_version_max < b->api_version_min ||
				  b->api_version_max < a->api_version_min);
			ck_assert(a->version_max < b->version_min || b->version_max < a->version_min);
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("numpy_layout");
	TCase *tc = tcase_create("rows");
	SRunner *sr;
	int failed;
	tcase_add_test(tc, rows_are_chosen_by_abi_and_api);
	tcase_add_test(tc, every_row_reads_its_own_layout);
	tcase_add_test(tc, descr_layouts_are_told_apart);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
