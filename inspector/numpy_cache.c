/*
 * numpy_cache.c - NumPy's small-allocation caches (alloc.c): datacache
 * holds up to ncache freed data buffers per exact byte size below
 * nbuckets, dimcache freed dims+strides blocks per npy_intp count below
 * nbuckets_dim.  Buffers parked there are in-use glibc chunks that no
 * array owns: memory that stays allocated after the arrays died.
 *
 * Both are file-local statics of the module, so a stripped build does not
 * name them.  By symbol when there is one; otherwise by alloc.c's code,
 * read from the module's ELF file: the exported default_handler names
 * default_malloc, whose RIP-relative LEAs take &datacache, and the dims
 * functions compiled beside it take &dimcache.  A candidate is believed
 * only if it checks out as a cache: every bucket's count is at most
 * ncache, and each of its first `count` pointers is the user pointer of an
 * in-use chunk big enough for the bucket (a dims bucket k holds blocks of
 * at least 8k bytes; buckets 0 and 1 are always empty, requests are
 * rounded up to 2).  Of several candidates the one with the most filled
 * buckets wins; a tie means "not found", never a guess.  (A plain scan of
 * the data for bucket arrays is not used: arrays shifted by a few buckets
 * check out as well as the real one.)
 */
#include "config.h"

#include "numpy.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct data_span {
	uint64_t start;
	size_t len;
	unsigned char *bytes;
};

struct cache_shape {
	int dims;		/* dimcache: sizes are npy_intp counts */
	uint64_t nbuckets;
};

static uint64_t bucket_bytes_needed(const struct cache_shape *s, uint64_t index)
{
	return s->dims ? index * 8 : index;
}

/* Filled buckets of the bucket array copied at B, or -1 if it is not one. */
static long cache_score(const struct heap_model *m, const struct cache_shape *s,
			const unsigned char *b)
{
	const struct numpy_layout *L = m->np.layout;
	uint64_t i, k, bucket[1 + 8];
	long filled = 0;
	for (i = 0; i < s->nbuckets; i++, b += L->cache_bucket_sizeof) {
		memcpy(bucket, b, 8);
		if (bucket[0] > (uint64_t)L->cache_ncache || bucket[0] > 8 ||
		    (s->dims && i < 2 && bucket[0]))
			return -1;
		memcpy(bucket + 1, b + 8, 8 * bucket[0]);
		for (k = 0; k < bucket[0]; k++) {
			const struct chunk *c = model_chunk_of_mem(m, bucket[1 + k]);
			if (!c || c->state != CHUNK_INUSE ||
			    chunk_usable_size(m, c) < bucket_bytes_needed(s, i)) {
				return -1;
			}
		}
		filled += bucket[0] != 0;
	}
	return filled;
}

/* The module's writable data, .data through .bss: its writable file
 * mappings and the anonymous mapping right after them, copied into SPAN
 * (they are separate regions of the snapshot).  0 on success. */
static int module_data_span(const struct target *t, const struct heap_model *m,
			    struct data_span *span)
{
	uint64_t lo = 0, hi = 0;
	size_t i;
	for (i = 0; i < t->nmaps; i++) {
		const struct target_mapping *mp = &t->maps[i];
		if (!(mp->prot & TARGET_PROT_WRITE))
			continue;
		if (!strcmp(mp->path, m->np.module) && (!hi || mp->start == hi)) {
			lo = lo ? lo : mp->start;
			hi = mp->end;
		} else if (hi && mp->start == hi && !mp->path[0]) {
			hi = mp->end;	/* .bss beyond the file */
			break;
		}
	}
	if (!hi || hi - lo > (64u << 20))
		return -1;
	span->start = lo;
	span->len = (size_t)(hi - lo);
	span->bytes = xmalloc(span->len);
	if (target_read(t, lo, span->bytes, span->len) == 0)
		return 0;
	free(span->bytes);
	return -1;
}

/* Targets of the RIP-relative LEAs (REX.W 8D /r, mod 00, r/m 101) in the
 * module's code [FROM, FROM+LEN), read from its ELF file. */
static size_t lea_targets(Dwfl_Module *mod, uint64_t from, size_t len, uint64_t *out,
			  size_t max)
{
	unsigned char *code = xmalloc(len);
	size_t i, n = 0;
	if (symbols_read_file_bytes(mod, from, code, len) < 0)
		len = 0;
	for (i = 0; i + 7 <= len && n < max; i++) {
		int32_t disp;
		if ((code[i] & 0xfb) != 0x48 || code[i + 1] != 0x8d || (code[i + 2] & 0xc7) != 0x05)
			continue;
		memcpy(&disp, code + i + 3, 4);
		out[n++] = from + i + 7 + (uint64_t)(int64_t)disp;
	}
	free(code);
	return n;
}

/* Among CANDIDATES, the one that is a cache of shape S (not at SKIP) with
 * the most filled buckets; 0 if none, or if two tie. */
static uint64_t best_candidate(const struct heap_model *m, const struct data_span *span,
			       const struct cache_shape *s, const uint64_t *candidates, size_t n,
			       uint64_t skip)
{
	uint64_t len = s->nbuckets * (uint64_t)m->np.layout->cache_bucket_sizeof, best = 0;
	long best_score = -1;
	int tie = 0;
	size_t i, j;
	for (i = 0; i < n; i++) {
		uint64_t a = candidates[i];
		long score;
		for (j = 0; j < i && candidates[j] != a; j++)
			;
		if (j < i || a == skip || a < span->start || a - span->start + len > span->len)
			continue;
		score = cache_score(m, s, span->bytes + (a - span->start));
		if (score > best_score) {
			best_score = score;
			best = a;
			tie = 0;
		} else if (score == best_score) {
			tie = 1;
		}
	}
	return tie ? 0 : best;
}

static void record_buckets(struct heap_model *m, const struct data_span *span,
			   const struct cache_shape *s, uint64_t addr, struct count_bytes *total)
{
	const struct numpy_layout *L = m->np.layout;
	const unsigned char *b = span->bytes + (addr - span->start);
	uint64_t i, k, bucket[1 + 8];
	for (i = 0; i < s->nbuckets; i++, b += L->cache_bucket_sizeof) {
		struct np_cache_bucket *nb;
		memcpy(bucket, b, 8);
		if (!bucket[0] || bucket[0] > 8)
			continue;
		memcpy(bucket + 1, b + 8, 8 * bucket[0]);
		nb = ARRAY_PUSH(m->np.buckets, m->np.nbuckets, m->np.buckets_cap);
		memset(nb, 0, sizeof *nb);
		nb->dims = s->dims;
		nb->size = (uint32_t)i;
		for (k = 0; k < bucket[0]; k++) {
			const struct chunk *c = model_chunk_of_mem(m, bucket[1 + k]);
			nb->entries[nb->count++] = bucket[1 + k];
			nb->bytes += c ? chunk_usable_size(m, c) : 0;
		}
		total->count += nb->count;
		total->bytes += nb->bytes;
	}
}

#define LEA_MAX 256
#define FUNCTION_BYTES 512	/* of default_malloc, where it takes &datacache */
#define UNIT_WINDOW 8192	/* alloc.c's other functions, around default_malloc */

/* Both caches by the code of alloc.c: default_handler (exported) names
 * default_malloc, whose code takes &datacache; npy_alloc_cache_dim and
 * npy_free_cache_dim, compiled next to it, take &dimcache. */
static void caches_by_code(const struct target *t, Dwfl_Module *mod, struct heap_model *m,
			   const struct data_span *span, const struct cache_shape *data,
			   const struct cache_shape *dims)
{
	const struct numpy_layout *L = m->np.layout;
	uint64_t handler, fn, targets[LEA_MAX];
	size_t n;
	if (L->handler_malloc == LAYOUT_ABSENT ||
	    symbols_lookup(mod, "default_handler", &handler) < 0 ||
	    target_read_u64(t, handler + (uint64_t)L->handler_malloc, &fn) < 0 || !fn)
		return;
	n = lea_targets(mod, fn, FUNCTION_BYTES, targets, LEA_MAX);
	m->np.datacache = best_candidate(m, span, data, targets, n, 0);
	n = lea_targets(mod, fn > UNIT_WINDOW ? fn - UNIT_WINDOW : 0, 2 * UNIT_WINDOW, targets,
			LEA_MAX);
	m->np.dimcache = best_candidate(m, span, dims, targets, n, m->np.datacache);
	if (m->np.datacache || m->np.dimcache)
		m->np.cache_method = "code";
}

/* By symbol (a module with .symtab or debuginfo), else by code. */
static void find_caches(const struct target *t, struct symbols *syms, struct heap_model *m,
			const struct data_span *span, const struct cache_shape *data,
			const struct cache_shape *dims)
{
	Dwfl_Module *mod = syms ? symbols_module_by_path(syms, m->np.module) : NULL;
	uint64_t d = 0, k = 0;
	if (!mod)
		return;
	if (symbols_lookup(mod, "datacache", &d) == 0 && symbols_lookup(mod, "dimcache", &k) == 0 &&
	    best_candidate(m, span, data, &d, 1, 0) && best_candidate(m, span, dims, &k, 1, 0)) {
		m->np.datacache = d;
		m->np.dimcache = k;
		m->np.cache_method = "symbol";
		return;
	}
	caches_by_code(t, mod, m, span, data, dims);
}

void numpy_caches(const struct target *t, struct symbols *syms, struct heap_model *m)
{
	const struct numpy_layout *L = m->np.layout;
	struct cache_shape data = { 0, (uint64_t)L->cache_nbuckets };
	struct cache_shape dims = { 1, (uint64_t)L->cache_nbuckets_dim };
	struct data_span span;
	m->np.cache_method = "none";
	if (!m->np.found || L->cache_nbuckets <= 0 || L->cache_bucket_sizeof < 16 ||
	    module_data_span(t, m, &span) < 0)
		return;
	find_caches(t, syms, m, &span, &data, &dims);
	if (m->np.datacache)
		record_buckets(m, &span, &data, m->np.datacache, &m->np.cache_data);
	if (m->np.dimcache)
		record_buckets(m, &span, &dims, m->np.dimcache, &m->np.cache_dims);
	free(span.bytes);
}
