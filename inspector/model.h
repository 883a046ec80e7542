/*
 * model.h - the heap model: what the walkers found, in plain structs.
 *
 * Data flows one way: target -> walkers -> this model -> analyses ->
 * renderers.  Walkers fill it and never print; renderers read it and never
 * touch the target.
 *
 * Invariants:
 *   - chunks[] is sorted by address and chunks do not overlap.
 *   - Every figure that mirrors an allocator's own accounting (bins,
 *     mallinfo2 totals, mp_ counters) is computed the way the allocator
 *     computes it, so tests can require exact equality.
 *   - A structure that does not check out becomes a diagnostic here, never
 *     a crash: the walk of that structure stops, the rest goes on.
 */
#ifndef HEAPINSPECT_MODEL_H
#define HEAPINSPECT_MODEL_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "glibc_layout.h"
#include "python_layout.h"
#include "numpy_layout.h"

enum chunk_state {
	CHUNK_INUSE,		/* handed out to the program */
	CHUNK_TCACHE,		/* free, held in a thread's tcache */
	CHUNK_FASTBIN,
	CHUNK_UNSORTED,
	CHUNK_SMALLBIN,
	CHUNK_LARGEBIN,
	CHUNK_TOP,
	CHUNK_MMAPPED,		/* in use, its own mapping */
	CHUNK_FENCEPOST,	/* end marker of an abandoned non-main heap */
	CHUNK_FREE_UNBINNED,	/* free by its boundary tag yet in no bin: inconsistent */
	CHUNK_STATE_COUNT
};

const char *chunk_state_name(enum chunk_state s);
/* Parse a state name; -1 if unknown. */
int chunk_state_parse(const char *name);

struct chunk {
	uint64_t addr;		/* chunk header address */
	uint64_t size;		/* chunksize(): flags masked off */
	uint8_t state;		/* enum chunk_state */
	uint8_t bin;		/* bin, fastbin or tcache index for binned states */
	int16_t arena;		/* arena index, -1 for mmapped chunks */
	union {
		int32_t tcache;		/* CHUNK_TCACHE: index into model.tcaches, else -1 */
		uint32_t mmap_prev_size; /* CHUNK_MMAPPED: offset from its mapping */
	};
};

struct count_bytes {
	uint64_t count, bytes;
};

enum bin_kind { BIN_FAST, BIN_UNSORTED, BIN_SMALL, BIN_LARGE };
const char *bin_kind_name(enum bin_kind k);

struct bin_stat {
	enum bin_kind kind;
	unsigned index;		/* fastbin index, or glibc bin index 1..127 */
	uint64_t count, bytes, min, max;
	uint64_t *chunks;	/* chunk addresses in list order */
};

struct heap_segment {
	uint64_t addr;		/* heap_info address (main arena: sbrk_base) */
	uint64_t size, mprotect_size;
	uint64_t chunks_start, chunks_end;
};

struct arena {
	uint64_t addr;
	int is_main;
	uint32_t flags;
	int mutex;		/* nonzero: locked when the process was paused */
	uint64_t system_mem, max_system_mem, attached_threads;
	uint64_t top, top_size;
	struct heap_segment *heaps;
	size_t nheaps;
	struct count_bytes by_state[CHUNK_STATE_COUNT];
	struct count_bytes chunks;	/* all chunks, top included */
	struct bin_stat *bins;		/* non-empty bins, fast first */
	size_t nbins;
};

struct tcache {
	pid_t tid;		/* 0 if no thread points at it */
	uint64_t addr;		/* address of the tcache_perthread_struct */
	int arena;
	struct count_bytes total;
	unsigned nbins;
	uint32_t *bin_count;	/* nbins entries */
	uint64_t **bin_entries;	/* user pointers, list order */
};

struct mp_info {
	uint64_t addr;
	uint64_t trim_threshold, top_pad, mmap_threshold, arena_test, arena_max;
	uint64_t n_mmaps, n_mmaps_max, max_n_mmaps, no_dyn_threshold;
	uint64_t mmapped_mem, max_mmapped_mem, sbrk_base;
	uint64_t tcache_bins, tcache_max_bytes, tcache_count, hp_pagesize;
	int mmap_threshold_dynamic;	/* raised by a free of an mmapped chunk */
};

/* The figures of glibc's struct mallinfo2, computed as int_mallinfo does. */
struct mallinfo_totals {
	uint64_t arena, ordblks, smblks, hblks, hblkhd, usmblks;
	uint64_t fsmblks, uordblks, fordblks, keepcost;
};

enum diag_severity { DIAG_NOTE, DIAG_WARNING, DIAG_ERROR };

struct diagnostic {
	enum diag_severity severity;
	uint64_t addr;		/* 0 if none */
	char *message;
	/* >= 0: an inconsistency inside this glibc arena, whose mutex was held
	 * at the pause: possibly a list caught mid-update rather than
	 * corruption (so a warning, never an error); -1 otherwise */
	int mid_update_arena;
};

struct glibc_info {
	int found;			/* libc located and version known */
	char *libc_path;
	char version[16];		/* "2.36" */
	long version_code;		/* 2036 */
	const struct glibc_layout *layout;	/* points at layout_value */
	struct glibc_layout layout_value;	/* table row, corrected by DWARF */
	int debuginfo;			/* DWARF/symtab of libc available */
	int layout_from_dwarf;		/* offsets confirmed by DWARF */
	uint64_t main_arena;
	const char *main_arena_method;	/* "symbol" | "heuristic" */
	const char *mp_method;
	const char *tcache_method;
	uint64_t tcache_key;		/* 2.34+: the random key, 0 if not seen */
};

/* CPython pymalloc: what _debugmallocstats() reports, per size class and
 * in total, computed the way it computes it. */
struct py_class_stat {
	uint64_t pools, blocks_in_use, avail_blocks;
};

/* Live objects of one type in one arena (for low-utilisation arenas). */
struct py_arena_holder {
	int32_t type;			/* index into pym.types */
	uint64_t count, bytes, example;	/* example: one object's address */
};

struct py_arena {
	uint64_t addr, pool_address;
	uint32_t index, nfreepools, ntotalpools;
	uint64_t used_pools, used_blocks, used_bytes;
	int low_use;			/* used_bytes < 1/4 of the arena: it is kept for few */
	struct py_arena_holder *holders;	/* every type present, largest first */
	size_t nholders, holders_cap;
	uint64_t unknown_blocks;
};

/* Live Python objects of one type (census). */
struct py_type_stat {
	uint64_t type;			/* address of the type object */
	char *name;			/* its tp_name */
	int gc;				/* Py_TPFLAGS_HAVE_GC */
	uint64_t count, bytes;		/* live objects and their blocks/chunks */
	uint64_t tracked;		/* GC objects on a collectable GC list */
	uint64_t immortal;		/* 3.12+ immortal objects (never collected) */
	uint64_t in_pymalloc, in_glibc;
	uint64_t bytes_in_glibc;	/* of bytes, the objects in glibc chunks */
	/* of bytes + buffer_bytes, what was resident at the pause (all, and in
	 * glibc chunks); 0 when residency is unknown */
	uint64_t resident, resident_in_glibc;
	/* separately allocated buffers these objects own (list items, dict
	 * and set tables, bytearray bytes): count and allocator bytes */
	uint64_t buffers, buffer_bytes, buffers_in_glibc, buffer_bytes_in_glibc;
	int is_ndarray;			/* numpy.ndarray or a subclass */
};

/* One Python object, as `obj ADDR` reports it. */
struct py_object_info {
	uint64_t addr, type, refcnt;
	const char *type_name;		/* owned by the census type table */
	int tracked;
};

/* What lives at one address (command obj): filled by address_describe(). */
struct address_info {
	uint64_t query;
	int mapped;
	uint64_t map_start, map_end;
	char map_perms[5];
	char *map_path;
	const struct chunk *chunk;	/* glibc chunk containing it, if any */
	int in_pymalloc;		/* inside a pymalloc arena */
	uint64_t arena, pool, block, block_size;
	uint32_t szidx, pool_count;
	int block_state;		/* 0 used, 1 on the pool free list, 2 never used, 3 pool header */
	int has_object;
	struct py_object_info object;
};

struct python_info {
	int found;
	char *library;			/* libpython or the executable */
	char version[24];		/* "3.11.2", or "3.10" when the patch is unknown */
	long hexversion;		/* PY_VERSION_HEX, 0 if unknown */
	int version_from_heap;		/* read from the sys.version string */
	long version_code;		/* 3011 */
	const struct python_layout *layout;
	int free_threaded;
	const char *state_method;	/* "symbol" | "runtime" | "heuristic" */
	uint64_t state_addr;		/* struct _obmalloc_state (3.12+), else 0 */
	uint64_t arenas_var;		/* where the arenas pointer is stored */
	uint64_t arenas_vector;		/* the arena_object array */
	uint64_t usedpools;
	uint64_t type_type;		/* &PyType_Type */
	uint64_t runtime;		/* &_PyRuntime */
	uint64_t maxarenas, narenas_current, narenas_highwater;
	int have_narenas_current, have_highwater;
};

struct pymalloc_stats {
	uint64_t arenas_current, unused_pools, alignment_loss;
	uint64_t bytes_in_allocated_blocks, bytes_in_available_blocks;
	uint64_t pool_header_bytes, quantization_bytes;
	struct py_class_stat classes[64];
	unsigned nclasses;
	struct py_arena *arenas;
	size_t narenas;
	struct py_type_stat *types;	/* census, by type object */
	size_t ntypes, types_cap;
	uint64_t objects, unknown_blocks, dead_objects, owned_buffers;
	/* CPython's own free lists (3.10+: in the interpreter state) */
	int have_free_lists;
	uint64_t free_floats, free_lists, free_dicts, free_dictkeys;
	uint64_t free_tuples[32];	/* by tuple size index, as _debugmallocstats */
	unsigned free_tuple_sizes, free_tuple_base;
};

/* NumPy: where an array's data lives (numpy.c). */
enum np_buffer_kind {
	NPBUF_UNKNOWN,		/* in no allocation or mapping the walkers know */
	NPBUF_GLIBC_CHUNK,	/* an in-use chunk of an arena heap */
	NPBUF_MMAPPED_CHUNK,
	NPBUF_PYMALLOC_BLOCK,
	NPBUF_FILE_MAPPING,	/* np.memmap, np.frombuffer(mmap of a file) */
	NPBUF_ANON_MAPPING,	/* anonymous mmap outside malloc */
	NPBUF_STATIC,		/* a module's data/bss */
	NPBUF_KIND_COUNT
};
const char *np_buffer_kind_name(enum np_buffer_kind k);

struct np_buffer {
	uint8_t kind;		/* enum np_buffer_kind */
	int16_t arena;		/* glibc arena index (NPBUF_GLIBC_CHUNK), else -1 */
	uint64_t alloc;		/* chunk header, block, or mapping start */
	uint64_t size;		/* chunk size, block size, or mapping length */
	uint64_t usable;	/* glibc: malloc_usable_size of the chunk */
	uint64_t offset;	/* data - start of the allocation's user bytes */
	char *path;		/* mappings: the mapped file, "" if anonymous */
};

/* One live ndarray (or subclass instance). */
struct np_array {
	uint64_t addr;
	int32_t type;		/* index into pym.types */
	int readable;		/* its fields, dims and descr were all read */
	int32_t nd;
	int64_t *shape;		/* nd entries */
	int64_t *strides;	/* nd entries (same allocation as shape) */
	uint64_t dims_alloc;	/* address of the dims+strides allocation */
	uint64_t data, base, descr, refcnt;
	uint32_t flags;
	char dtype[32];		/* dtype.str: "<f8", "|V16", "<M8[ns]" */
	char kind, byteorder;
	uint64_t itemsize, nbytes;
	int32_t base_type;	/* pym.types index of the base object, -1 if unknown/none */
	int32_t base_array;	/* index into np.arrays of the base, -1 if not an array */
	uint64_t base_refcnt;	/* the base object's reference count */
	uint64_t owner;		/* the object at the end of the .base chain (self if none) */
	int32_t owner_type;
	struct np_buffer buffer;
	uint64_t held;		/* usable bytes of its own buffer, if OWNDATA */
};

/* One bucket of NumPy's datacache or dimcache that holds buffers. */
struct np_cache_bucket {
	int dims;		/* 0 datacache (size in bytes), 1 dimcache (npy_intp count) */
	uint32_t size, count;
	uint64_t bytes;		/* usable bytes of the cached chunks */
	uint64_t entries[8];	/* user pointers */
};

/* Views that keep a base object's buffer alive (analysis, numpy_pins.c). */
struct np_pin {
	uint64_t base;		/* the object the views' .base points at */
	int32_t base_type;	/* pym.types index, -1 if unknown */
	int32_t base_array;	/* index into np.arrays if the base is an array, else -1 */
	uint64_t base_refcnt;
	uint8_t buffer_kind;	/* enum np_buffer_kind of the views' data */
	uint64_t base_bytes;	/* the allocation holding the views' data */
	uint64_t visible_bytes, pinned_bytes;
	uint64_t refs_from_views;	/* arrays whose .base is this object */
	int only_views;		/* its reference count is exactly those */
	size_t *views;		/* indexes into np.arrays */
	size_t nviews;
};

struct numpy_info {
	int found;			/* module located, version known */
	char *error;			/* why not, if NumPy is loaded but not walked */
	char *module;			/* path of _multiarray_umath */
	const struct numpy_layout *layout;
	unsigned long abi_version, api_version;
	uint64_t ndarray_type;		/* &PyArray_Type */
	uint64_t descr_type;		/* &PyArrayDescr_Type (numpy.dtype), 0 if not found */
	const char *type_method;	/* "symbol" | "PyArray_API" | "tp_name" */
	struct np_array *arrays;
	size_t narrays, arrays_cap;
	uint64_t owned_buffers, owned_bytes;
	uint64_t owned_resident;	/* of the owned glibc data buffers, resident */
	const char *cache_method;	/* "symbol" | "heuristic" | "none" */
	uint64_t datacache, dimcache;	/* addresses, 0 if not found */
	struct count_bytes cache_data, cache_dims;
	struct np_cache_bucket *buckets;
	size_t nbuckets, buckets_cap;
	struct np_pin *pins;		/* sorted by pinned_bytes, largest first */
	size_t npins;
};

/* explain (analysis, explain.c): what pins the high-water mark. */
enum pin_kind { PIN_HEAP_TOP, PIN_PYMALLOC_ARENA, PIN_NUMPY_VIEW, PIN_NUMPY_CACHE,
		PIN_MMAP_THRESHOLD, PIN_KIND_COUNT };
const char *pin_kind_name(enum pin_kind k);

struct pin {
	uint8_t kind;		/* enum pin_kind */
	uint64_t bytes;		/* kept from going back to the OS */
	uint64_t resident;	/* of which resident at the pause */
	uint64_t addr, size;	/* the pinning fragment */
	int state;		/* enum chunk_state of a chunk fragment, else -1 */
	int arena;		/* glibc arena index, else -1 */
	int32_t owner_type;	/* pym.types index of what owns the fragment, else -1 */
	const char *owner_note;	/* "numpy.ndarray data", "numpy cache", ... or NULL */
	uint64_t owner_addr;	/* the owning object (array, Python object), or 0 */
	uint64_t run_addr, run_size;	/* heap-top: the free run below */
	uint64_t lid_count, lid_bytes;	/* heap-top: in-use chunks between run and top */
	uint64_t count;		/* pymalloc: live blocks; numpy: views; mmap: chunks */
};

enum rss_kind { RSS_BRK_HEAP, RSS_ARENA_HEAPS, RSS_MMAPPED_CHUNKS, RSS_PYMALLOC_ARENAS,
		RSS_OTHER_ANON, RSS_FILE_COW, RSS_KIND_COUNT };
const char *rss_kind_name(enum rss_kind k);
/* explain_info.residency_source as a JSON token ("pagemap", ...), and, for
 * the sources without residency, why there is none. */
const char *residency_source_name(int source);
const char *residency_missing_reason(int source);

struct rss_region {
	uint64_t mapped, resident, live, free, overhead;
};

struct owner_bytes {
	char *owner;		/* "python:list", "numpy", "raw-malloc", ... */
	uint64_t bytes;
};

struct trim_arena {
	uint64_t top_trim, madvise;	/* resident bytes malloc_trim(0) would give back */
};

struct explain_info {
	int done;
	int have_residency;
	int residency_source;		/* enum residency_source (target.h) */
	uint64_t measured_anon, resident_anon;	/* measured: TARGET_RSS_UNKNOWN in a core */
	struct rss_region regions[RSS_KIND_COUNT];
	struct owner_bytes *owners;	/* largest first */
	size_t nowners, owners_cap;
	uint64_t trim_total;
	struct trim_arena *trim;	/* one per arena */
	int trim_top_blocked;		/* brk is not where the main heap ends */
	struct pin *pins;		/* largest bytes first */
	size_t npins, pins_cap;
};

/* Index over chunks[]: chunks that tile memory without gaps form a run;
 * a run of more than one chunk has, per 4 KiB page, the index of the chunk
 * holding the page's first byte.  Lookups cost one binary search over runs
 * (few) and a short forward scan. */
struct chunk_run {
	uint64_t start, end;
	size_t first, count;
	uint32_t *page_chunk;	/* NULL for single-chunk runs */
};

/* A module (executable or shared object) of the target, as libdwfl
 * reported it: for a core the build-id comes from the core's own memory. */
struct module_info {
	char *name;			/* libdwfl's name: the mapped path, or for a core the soname */
	char *file;			/* the ELF file used for it, "" if none was found */
	char build_id[129];		/* hex, "" if unknown */
};

struct heap_model {
	pid_t pid;
	char *exe;
	const char *source;		/* "live" | "image" | "core" */
	struct module_info *modules;
	size_t nmodules;
	double pause_seconds;
	uint64_t bytes_copied;
	struct glibc_info glibc;
	struct mp_info mp;
	struct arena *arenas;
	size_t narenas;
	struct chunk *chunks;
	size_t nchunks, chunks_cap;
	struct chunk_run *runs;		/* built by model_index_chunks() */
	size_t nruns;
	struct tcache *tcaches;
	size_t ntcaches, tcaches_cap;
	struct count_bytes mmapped;
	struct mallinfo_totals totals;
	struct python_info py;
	struct pymalloc_stats pym;
	struct numpy_info np;
	struct explain_info ex;
	struct address_info where;	/* command obj */
	struct diagnostic *diags;
	size_t ndiags, diags_cap;
};

struct heap_model *model_new(void);
void model_free(struct heap_model *m);

void model_diag(struct heap_model *m, enum diag_severity sev, uint64_t addr,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int model_has_errors(const struct heap_model *m);

/* Build the chunk index; call after the last chunk is added.  Lookups
 * work without it, by binary search. */
void model_index_chunks(struct heap_model *m);

/* The chunk whose header is at ADDR, or NULL. */
struct chunk *model_chunk_at(const struct heap_model *m, uint64_t addr);
/* The chunk containing ADDR (header included), or NULL. */
struct chunk *model_chunk_containing(const struct heap_model *m, uint64_t addr);

/* The chunk whose user pointer (chunk2mem) is MEM, or NULL. */
struct chunk *model_chunk_of_mem(const struct heap_model *m, uint64_t mem);

/* The user pointer malloc returned for C (chunk2mem). */
uint64_t chunk_mem(const struct heap_model *m, const struct chunk *c);
/* The chunk size tcache bin I holds (tidx2usize + header). */
uint64_t tcache_bin_chunk_size(const struct heap_model *m, unsigned i);

/* Usable size as malloc_usable_size() would report it for an in-use chunk. */
uint64_t chunk_usable_size(const struct heap_model *m, const struct chunk *c);

#endif
