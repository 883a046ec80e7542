/*
 * render_map.c - the map command: every heap region drawn as rows of cells,
 * so that a pin above a long free run is visible at a glance.
 *
 * Regions, in this order: each heap segment of each glibc arena
 * ([chunks_start, chunks_end)), each pymalloc arena ([addr, addr +
 * arena_size)), each mmapped chunk (its mapping: the memalign offset before
 * the header, then the chunk).  A region is cut into spans: its chunks
 * (pymalloc: its alignment slack, carved pools, never-carved pools) and,
 * where the model knows no chunk, gaps.
 *
 * Text and JSON draw a region as rows of MAP_COLUMNS cells of a power of
 * two bytes, at least MAP_MIN_CELL: a heap fits in MAP_COLUMNS x MAP_ROWS
 * cells, an mmapped chunk in one row, a pymalloc arena has a cell per pool
 * (the model has nothing finer).  A cell shows the letter of the state
 * covering most of its bytes, or '!' if it holds a heap-top pin's fragment
 * (the lowest in-use chunk above a free run that cannot go back to the OS).
 * The SVG draws one rect per span, split where it crosses a row break, with
 * the same bytes per row as the text.
 *
 * Invariants:
 *   - reads only the model, never the target;
 *   - the spans of a region tile [start, end) exactly, in address order,
 *     and text, JSON and SVG are all drawn from them, so the SVG's rects
 *     (data-start/data-end) tile every region with no gap or overlap;
 *   - the SVG is well-formed XML whatever the target's strings hold (type
 *     names and paths are escaped, control bytes and invalid UTF-8
 *     replaced);
 *   - colour (ANSI SGR) only on a terminal and never with NO_COLOR set.
 */
#include "config.h"

#include "render_map.h"
#include "explain.h"
#include "json.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAP_COLUMNS 64
#define MAP_ROWS 40
#define MAP_MIN_CELL 16
#define PIN_LETTER '!'

/* ---- letters ------------------------------------------------------------- */

enum letter { L_LIVE, L_TCACHE, L_FREE, L_TOP, L_OVERHEAD, L_POOLS, L_UNCARVED, L_UNKNOWN,
	      L_COUNT };

static const struct {
	char letter;
	const char *css;	/* SVG class */
	const char *ansi;	/* SGR colours, "" for none */
	const char *fill;	/* SVG fill */
	const char *meaning;
} letters[L_COUNT] = {
	[L_LIVE] = { 'L', "L", "30;42", "#66bb6a", "live: in use (mmapped chunks too)" },
	[L_TCACHE] = { 'T', "T", "30;46", "#4dd0e1",
		       "tcache or fastbin: freed, but still in use as far as the heap's shrinking goes" },
	[L_FREE] = { 'F', "F", "97;44", "#1e88e5", "free in malloc's bins (unsorted, small, large)" },
	[L_TOP] = { 'P', "P", "30;47", "#cfd8dc", "top chunk: where the heap grows and shrinks" },
	[L_OVERHEAD] = { 'H', "H", "97;100", "#757575",
			 "header/overhead: fencepost, heap end marker, mmap offset, pool alignment" },
	[L_POOLS] = { 'Y', "Y", "30;43", "#ffca28",
		      "pymalloc pools carved (their use is known per arena, not per pool)" },
	[L_UNCARVED] = { 'U', "U", "30;103", "#fff59d", "pymalloc pools never carved" },
	[L_UNKNOWN] = { '.', "N", "", "#ffffff", "no chunk known here (the walk did not reach it)" },
};
static const char pin_ansi[] = "1;97;41", pin_fill[] = "#e53935";
static const char pin_meaning[] = "holds a heap-top pin: the lowest in-use chunk above a free "
				  "run that the heap cannot give back while it is there";

static enum letter state_letter(uint8_t state)
{
	switch ((enum chunk_state)state) {
	case CHUNK_INUSE:
	case CHUNK_MMAPPED:
		return L_LIVE;
	case CHUNK_TCACHE:
	case CHUNK_FASTBIN:
		return L_TCACHE;
	case CHUNK_UNSORTED:
	case CHUNK_SMALLBIN:
	case CHUNK_LARGEBIN:
	case CHUNK_FREE_UNBINNED:
		return L_FREE;
	case CHUNK_TOP:
		return L_TOP;
	case CHUNK_FENCEPOST:
		return L_OVERHEAD;
	case CHUNK_STATE_COUNT:
		break;
	}
	return L_UNKNOWN;
}

static const char *letter_ansi(char c)
{
	int k;
	if (c == PIN_LETTER)
		return pin_ansi;
	for (k = 0; k < L_COUNT; k++)
		if (letters[k].letter == c)
			return letters[k].ansi;
	return "";
}

/* ---- regions and their spans ------------------------------------------------ */

enum region_kind { REGION_HEAP, REGION_PYMALLOC, REGION_MMAPPED };
static const char *const region_kind_names[] = { "heap", "pymalloc-arena", "mmapped-chunk" };

struct region {
	enum region_kind kind;
	int arena;			/* glibc arena index (heaps), else -1 */
	size_t heap;			/* heap index in its arena */
	const struct py_arena *pya;	/* pymalloc arena */
	const struct chunk *chunk;	/* mmapped chunk */
	uint64_t start, end, cell;
};

struct span {
	uint64_t start, end;
	enum letter letter;
	const struct chunk *chunk;	/* NULL: not a chunk */
	const char *what;		/* what a span that is not a chunk is */
};

typedef void (*span_fn)(void *ctx, const struct span *s);

static uint64_t chunk_end(const struct chunk *c)
{
	return c->size > UINT64_MAX - c->addr ? UINT64_MAX : c->addr + c->size;
}

/* The smallest power of two, at least MAP_MIN_CELL, that draws SIZE bytes
 * in at most MAXCELLS cells. */
static uint64_t cell_for(uint64_t size, uint64_t maxcells)
{
	uint64_t c = MAP_MIN_CELL;
	while (c < ((uint64_t)1 << 62) && (size - 1) / c + 1 > maxcells)
		c <<= 1;
	return c;
}

static size_t region_cells_count(const struct region *g)
{
	return (size_t)((g->end - g->start - 1) / g->cell + 1);
}

static uint64_t region_rows(const struct region *g)
{
	return (region_cells_count(g) + MAP_COLUMNS - 1) / MAP_COLUMNS;
}

static void add_region(struct region **v, size_t *n, size_t *cap, struct region g,
		       uint64_t maxcells)
{
	if (g.end <= g.start)
		return;
	if (!g.cell)
		g.cell = cell_for(g.end - g.start, maxcells);
	*ARRAY_PUSH(*v, *n, *cap) = g;
}

static void pymalloc_regions(const struct heap_model *m, struct region **v, size_t *n,
			     size_t *cap)
{
	uint64_t asize, psize;
	size_t i;
	if (!m->py.found || !m->py.layout)
		return;
	asize = (uint64_t)m->py.layout->arena_size;
	psize = (uint64_t)m->py.layout->pool_size;
	for (i = 0; i < m->pym.narenas; i++) {
		const struct py_arena *a = &m->pym.arenas[i];
		struct region g = { REGION_PYMALLOC, -1, 0, a, NULL, a->addr, a->addr + asize, 0 };
		if (a->addr > UINT64_MAX - asize)
			continue;
		if (psize >= MAP_MIN_CELL && !(psize & (psize - 1)) &&
		    asize / psize <= MAP_COLUMNS * MAP_ROWS)
			g.cell = psize;	/* a cell per pool: the model has nothing finer */
		add_region(v, n, cap, g, MAP_COLUMNS * MAP_ROWS);
	}
}

/* Every region, in drawing order (caller frees *OUT). */
static size_t collect_regions(const struct heap_model *m, struct region **out)
{
	struct region *v = NULL;
	size_t n = 0, cap = 0, a, h, i;
	for (a = 0; a < m->narenas; a++)
		for (h = 0; h < m->arenas[a].nheaps; h++) {
			const struct heap_segment *s = &m->arenas[a].heaps[h];
			struct region g = { REGION_HEAP, (int)a, h, NULL, NULL, s->chunks_start,
					    s->chunks_end, 0 };
			add_region(&v, &n, &cap, g, MAP_COLUMNS * MAP_ROWS);
		}
	pymalloc_regions(m, &v, &n, &cap);
	for (i = 0; i < m->nchunks; i++) {
		const struct chunk *c = &m->chunks[i];
		uint64_t offset = c->mmap_prev_size <= c->addr ? c->mmap_prev_size : 0;
		struct region g = { REGION_MMAPPED, -1, 0, NULL, c, c->addr - offset, chunk_end(c), 0 };
		if (c->state == CHUNK_MMAPPED)
			add_region(&v, &n, &cap, g, MAP_COLUMNS);
	}
	*out = v;
	return n;
}

static void emit(span_fn fn, void *ctx, uint64_t start, uint64_t end, enum letter letter,
		 const struct chunk *c, const char *what)
{
	struct span s = { start, end, letter, c, what };
	if (end > start)
		fn(ctx, &s);
}

/* Index of the first chunk that ends after ADDR. */
static size_t first_chunk_after(const struct heap_model *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nchunks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (chunk_end(&m->chunks[mid]) <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void heap_gap(span_fn fn, void *ctx, uint64_t start, uint64_t end, int after_fencepost)
{
	if (after_fencepost)
		emit(fn, ctx, start, end, L_OVERHEAD, NULL, "the heap's end marker after its fencepost");
	else
		emit(fn, ctx, start, end, L_UNKNOWN, NULL, "no chunk known here: the walk did not "
		     "reach it");
}

static void heap_spans(const struct heap_model *m, const struct region *g, span_fn fn, void *ctx)
{
	uint64_t at = g->start;
	int fence = 0;
	size_t i;
	for (i = first_chunk_after(m, g->start); i < m->nchunks && m->chunks[i].addr < g->end; i++) {
		const struct chunk *c = &m->chunks[i];
		uint64_t s = c->addr > at ? c->addr : at;
		uint64_t e = chunk_end(c) < g->end ? chunk_end(c) : g->end;
		if (e <= s)
			continue;	/* overlaps what is drawn already (inconsistent) */
		heap_gap(fn, ctx, at, s, fence);
		emit(fn, ctx, s, e, state_letter(c->state), c, NULL);
		at = e;
		fence = c->state == CHUNK_FENCEPOST;
	}
	heap_gap(fn, ctx, at, g->end, fence);
}

/* A pymalloc arena's pools: [*FIRST, *CARVED) carved, [*CARVED, *END)
 * never carved, clamped to the arena. */
static void pymalloc_pools(const struct heap_model *m, const struct region *g, uint64_t *first,
			   uint64_t *carved, uint64_t *end)
{
	uint64_t psize = (uint64_t)m->py.layout->pool_size;
	const struct py_arena *a = g->pya;
	*first = align_up(g->start, psize);
	if (*first > g->end)
		*first = g->end;
	*end = *first + (uint64_t)a->ntotalpools * psize;
	if (*end > g->end || *end < *first)
		*end = g->end;
	*carved = a->pool_address < *first ? *first : a->pool_address > *end ? *end : a->pool_address;
}

static void pymalloc_spans(const struct heap_model *m, const struct region *g, span_fn fn,
			   void *ctx)
{
	uint64_t first, carved, end;
	pymalloc_pools(m, g, &first, &carved, &end);
	emit(fn, ctx, g->start, first, L_OVERHEAD, NULL, "alignment: up to the first whole pool");
	emit(fn, ctx, first, carved, L_POOLS, NULL, "carved pools");
	emit(fn, ctx, carved, end, L_UNCARVED, NULL, "pools never carved");
	emit(fn, ctx, end, g->end, L_OVERHEAD, NULL, "after the last whole pool");
}

static void region_spans(const struct heap_model *m, const struct region *g, span_fn fn,
			 void *ctx)
{
	switch (g->kind) {
	case REGION_HEAP:
		heap_spans(m, g, fn, ctx);
		break;
	case REGION_PYMALLOC:
		pymalloc_spans(m, g, fn, ctx);
		break;
	case REGION_MMAPPED:
		emit(fn, ctx, g->start, g->chunk->addr, L_OVERHEAD, NULL,
		     "the mapping's start before the chunk (memalign offset)");
		emit(fn, ctx, g->chunk->addr, g->end, L_LIVE, g->chunk, NULL);
		break;
	}
}

/* Does pin P's fragment lie (partly) in region G and show as '!'? */
static int pin_in_region(const struct pin *p, const struct region *g)
{
	return p->kind == PIN_HEAP_TOP && g->kind == REGION_HEAP && p->size &&
	       p->addr < g->end && p->addr + p->size > g->start;
}

/* The heap-top pin whose fragment is chunk C, or NULL. */
static const struct pin *chunk_pin(const struct heap_model *m, const struct chunk *c)
{
	size_t i;
	for (i = 0; c && i < m->ex.npins; i++)
		if (m->ex.pins[i].kind == PIN_HEAP_TOP && m->ex.pins[i].addr == c->addr)
			return &m->ex.pins[i];
	return NULL;
}

/* ---- cells --------------------------------------------------------------- */

struct tally {
	const struct region *g;
	size_t n;
	uint64_t *bytes;		/* n * L_COUNT */
	uint64_t total[L_COUNT];
};

static void tally_span(void *ctx, const struct span *s)
{
	struct tally *t = ctx;
	uint64_t at = s->start;
	size_t i = (size_t)((at - t->g->start) / t->g->cell);
	t->total[s->letter] += s->end - s->start;
	while (at < s->end && i < t->n) {
		uint64_t cell_end = t->g->start + (uint64_t)(i + 1) * t->g->cell;
		uint64_t stop = cell_end < s->end && cell_end > at ? cell_end : s->end;
		t->bytes[i * L_COUNT + s->letter] += stop - at;
		at = stop;
		i++;
	}
}

static void mark_pins(const struct heap_model *m, const struct region *g, char *cells, size_t n)
{
	size_t i, k;
	for (i = 0; i < m->ex.npins; i++) {
		const struct pin *p = &m->ex.pins[i];
		uint64_t s, e;
		if (!pin_in_region(p, g))
			continue;
		s = p->addr > g->start ? p->addr : g->start;
		e = p->addr + p->size < g->end ? p->addr + p->size : g->end;
		for (k = (size_t)((s - g->start) / g->cell); k < n && k <= (e - 1 - g->start) / g->cell; k++)
			cells[k] = PIN_LETTER;
	}
}

/* The cell letters of region G, NUL-terminated (caller frees); the bytes
 * of each letter into TOTAL if not NULL. */
static char *region_cells(const struct heap_model *m, const struct region *g, uint64_t *total)
{
	struct tally t = { g, region_cells_count(g), NULL, { 0 } };
	char *cells = xmalloc(t.n + 1);
	size_t i;
	int k, best;
	t.bytes = xcalloc(t.n * L_COUNT, sizeof *t.bytes);
	region_spans(m, g, tally_span, &t);
	for (i = 0; i < t.n; i++) {
		const uint64_t *b = &t.bytes[i * L_COUNT];
		for (best = L_UNKNOWN, k = 0; k < L_COUNT; k++)
			if (b[k] > b[best])
				best = k;
		cells[i] = letters[best].letter;
	}
	cells[t.n] = '\0';
	mark_pins(m, g, cells, t.n);
	if (total)
		memcpy(total, t.total, sizeof t.total);
	free(t.bytes);
	return cells;
}

/* ---- labels -------------------------------------------------------------- */

static void appendf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;
	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* "arena 0 (main) heap 0", "pymalloc arena 3", "mmapped chunk 0x7f..". */
static const char *region_label(const struct heap_model *m, const struct region *g, char *buf,
				size_t len)
{
	switch (g->kind) {
	case REGION_HEAP:
		snprintf(buf, len, "arena %d%s heap %zu", g->arena,
			 m->arenas[g->arena].is_main ? " (main)" : "", g->heap);
		break;
	case REGION_PYMALLOC:
		snprintf(buf, len, "pymalloc arena %u", g->pya->index);
		break;
	case REGION_MMAPPED:
		snprintf(buf, len, "mmapped chunk 0x%llx", (unsigned long long)g->chunk->addr);
		break;
	}
	return buf;
}

/* What a pymalloc arena holds: pool counts, live bytes, main holder. */
static void pymalloc_note(const struct heap_model *m, const struct region *g, char *buf,
			  size_t len)
{
	const struct py_arena *a = g->pya;
	uint64_t first, carved, end, psize = (uint64_t)m->py.layout->pool_size;
	char b[64];
	pymalloc_pools(m, g, &first, &carved, &end);
	appendf(buf, len, "%llu of %llu carved pools in use, %llu never carved; %s live in %llu "
		"blocks%s", (unsigned long long)a->used_pools,
		(unsigned long long)((carved - first) / psize), (unsigned long long)((end - carved) / psize),
		format_bytes(a->used_bytes, b, sizeof b), (unsigned long long)a->used_blocks,
		a->low_use ? " (low use)" : "");
	if (a->nholders && a->holders[0].type >= 0 && (size_t)a->holders[0].type < m->pym.ntypes)
		appendf(buf, len, "; mostly %llu %s, e.g. 0x%llx",
			(unsigned long long)a->holders[0].count,
			m->pym.types[a->holders[0].type].name,
			(unsigned long long)a->holders[0].example);
}

/* ---- text ---------------------------------------------------------------- */

static int use_colour(FILE *out)
{
	return isatty(fileno(out)) && !getenv("NO_COLOR");
}

static void cells_line(FILE *out, const char *cells, size_t n, int colour)
{
	char prev = 0;
	size_t i;
	for (i = 0; i < n; i++) {
		if (colour && cells[i] != prev)
			fprintf(out, "\033[0;%sm", letter_ansi(cells[i]));
		fputc(cells[i], out);
		prev = cells[i];
	}
	fputs(colour ? "\033[0m\n" : "\n", out);
}

static void region_heading(FILE *out, const struct heap_model *m, const struct region *g,
			   const uint64_t *total)
{
	char label[96], b[64], c[64];
	int k;
	fprintf(out, "\n%s: 0x%llx-0x%llx (%s), %s per cell\n", region_label(m, g, label, sizeof label),
		(unsigned long long)g->start, (unsigned long long)g->end,
		human_size(g->end - g->start, b, sizeof b), human_size(g->cell, c, sizeof c));
	fputs("   ", out);
	for (k = 0; k < L_COUNT; k++)
		if (total[k])
			fprintf(out, " %c %s", letters[k].letter, human_size(total[k], b, sizeof b));
	fputc('\n', out);
	if (g->kind == REGION_PYMALLOC) {
		char note[512] = "";
		pymalloc_note(m, g, note, sizeof note);
		fprintf(out, "    %s\n", note);
	}
}

static void region_pins_text(FILE *out, const struct heap_model *m, const struct region *g)
{
	char what[768], release[512], b[64];
	size_t i;
	for (i = 0; i < m->ex.npins; i++) {
		const struct pin *p = &m->ex.pins[i];
		int here = pin_in_region(p, g) ||
			   (p->kind == PIN_PYMALLOC_ARENA && g->kind == REGION_PYMALLOC &&
			    p->addr == g->start);
		if (!here)
			continue;
		explain_pin_text(m, p, what, sizeof what, release, sizeof release);
		fprintf(out, "  %c pins %s: %s\n", p->kind == PIN_HEAP_TOP ? PIN_LETTER : '*',
			format_bytes(p->bytes, b, sizeof b), what);
	}
}

static void region_text(FILE *out, const struct heap_model *m, const struct region *g,
			int colour)
{
	uint64_t total[L_COUNT];
	char *cells = region_cells(m, g, total);
	size_t n = strlen(cells), i;
	region_heading(out, m, g, total);
	for (i = 0; i < n; i += MAP_COLUMNS) {
		fprintf(out, "  0x%012llx ", (unsigned long long)(g->start + (uint64_t)i * g->cell));
		cells_line(out, cells + i, n - i < MAP_COLUMNS ? n - i : MAP_COLUMNS, colour);
	}
	region_pins_text(out, m, g);
	free(cells);
}

static void legend_text(FILE *out, int colour)
{
	char swatch[2] = { 0, 0 };
	int k;
	fprintf(out, "\nlegend: a cell shows the state covering most of its bytes\n");
	for (k = 0; k < L_COUNT; k++) {
		swatch[0] = letters[k].letter;
		fputs("  ", out);
		if (colour)
			fprintf(out, "\033[0;%sm%c\033[0m", letters[k].ansi, letters[k].letter);
		else
			fputs(swatch, out);
		fprintf(out, "  %s\n", letters[k].meaning);
	}
	if (colour)
		fprintf(out, "  \033[0;%sm%c\033[0m", pin_ansi, PIN_LETTER);
	else
		fprintf(out, "  %c", PIN_LETTER);
	fprintf(out, "  %s\n", pin_meaning);
}

void render_map_text(FILE *out, const struct heap_model *m, const struct report *r)
{
	struct region *v;
	size_t n = collect_regions(m, &v), i;
	int colour = use_colour(out);
	fprintf(out, "heap map of process %d (%s): %zu regions, %d cells a row\n", (int)m->pid,
		m->exe && m->exe[0] ? m->exe : "?", n, MAP_COLUMNS);
	for (i = 0; i < n; i++)
		if (report_row_shown(r, i))
			region_text(out, m, &v[i], colour);
	legend_text(out, colour);
	report_page_footer(out, r, n, "regions");
	free(v);
}

/* ---- JSON ---------------------------------------------------------------- */

static void region_json(struct json *j, const struct heap_model *m, const struct region *g)
{
	char label[96], *cells = region_cells(m, g, NULL);
	json_object_begin(j, NULL);
	json_string(j, "kind", region_kind_names[g->kind]);
	json_string(j, "label", region_label(m, g, label, sizeof label));
	if (g->kind == REGION_HEAP)
		json_int(j, "arena", g->arena);
	json_uint(j, "start", g->start);
	json_uint(j, "end", g->end);
	json_uint(j, "cell_bytes", g->cell);
	json_string(j, "cells", cells);
	json_object_end(j);
	free(cells);
}

void render_map_json(struct json *j, const struct heap_model *m, const struct report *r)
{
	struct region *v;
	size_t n = collect_regions(m, &v), i;
	char key[2] = { 0, 0 };
	int k;
	json_object_begin(j, "map");
	json_uint(j, "columns", MAP_COLUMNS);
	json_uint(j, "regions_total", n);
	json_object_begin(j, "legend");
	for (k = 0; k < L_COUNT; k++) {
		key[0] = letters[k].letter;
		json_string(j, key, letters[k].meaning);
	}
	key[0] = PIN_LETTER;
	json_string(j, key, pin_meaning);
	json_object_end(j);
	json_array_begin(j, "regions");
	for (i = 0; i < n; i++)
		if (report_row_shown(r, i))
			region_json(j, m, &v[i]);
	json_array_end(j);
	json_object_end(j);
	free(v);
}

/* ---- SVG ----------------------------------------------------------------- */

#define SVG_X0 150		/* left of the rows: row addresses before it */
#define SVG_W 1024		/* width of a row */
#define SVG_RH 12		/* height of a row */
#define SVG_HEAD 20		/* a region's heading */
#define SVG_GAP 12		/* below a region */
#define SVG_TOP 24
#define SVG_LEGEND_LINE 16

/* A chunk NumPy knows: an array's data, or its shape and strides. */
struct owner {
	uint64_t chunk;
	size_t array;
	int dims;
};

struct svg {
	FILE *f;
	const struct heap_model *m;
	const struct region *g;
	uint64_t bpr;			/* bytes a row */
	double y;			/* top of the region's first row */
	struct owner *owners;		/* sorted by chunk */
	size_t nowners;
};

/* Bytes in the valid UTF-8 sequence at P that XML allows (2-4), or 1 for
 * ASCII and for a byte that starts no such sequence. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n, i;
	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 1;
	n = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 1;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f) ||
	    (p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe))
		return 1;	/* overlong, surrogate, beyond U+10FFFF, U+FFFE/F */
	return n;
}

/* S as XML character data (also fit for attribute values). */
static void xml_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = utf8_len(p);
		if (n > 1) {
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		switch (*p) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default: fputc(*p >= 0x20 && *p < 0x7f ? *p : '?', f);
		}
		p++;
	}
}

static int by_chunk(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;
	return x->chunk < y->chunk ? -1 : x->chunk > y->chunk;
}

static void add_owner(struct svg *v, size_t *cap, uint64_t chunk, size_t array, int dims)
{
	struct owner *o = ARRAY_PUSH(v->owners, v->nowners, *cap);
	o->chunk = chunk;
	o->array = array;
	o->dims = dims;
}

/* The chunks NumPy arrays own or view, for the titles. */
static void index_owners(struct svg *v)
{
	const struct heap_model *m = v->m;
	size_t i, cap = 0;
	for (i = 0; m->np.found && i < m->np.narrays; i++) {
		const struct np_array *a = &m->np.arrays[i];
		const struct chunk *dims = a->dims_alloc ? model_chunk_of_mem(m, a->dims_alloc) : NULL;
		if (a->buffer.kind == NPBUF_GLIBC_CHUNK || a->buffer.kind == NPBUF_MMAPPED_CHUNK)
			add_owner(v, &cap, a->buffer.alloc, i, 0);
		if (dims)
			add_owner(v, &cap, dims->addr, i, 1);
	}
	if (v->nowners)
		qsort(v->owners, v->nowners, sizeof *v->owners, by_chunk);
}

static const char *type_name(const struct heap_model *m, int32_t type)
{
	return type >= 0 && (size_t)type < m->pym.ntypes ? m->pym.types[type].name : "ndarray";
}

/* The array owning chunk C (its data: OWNDATA preferred over views), or -1. */
static const struct owner *chunk_owner(const struct svg *v, const struct chunk *c)
{
	struct owner key = { c->addr, 0, 0 };
	const struct owner *o, *best = NULL;
	uint32_t owndata = v->m->np.layout ? (uint32_t)v->m->np.layout->flag_owndata : 0;
	if (!v->nowners)
		return NULL;
	o = bsearch(&key, v->owners, v->nowners, sizeof *o, by_chunk);
	if (!o)
		return NULL;
	while (o > v->owners && o[-1].chunk == c->addr)
		o--;
	for (; o < v->owners + v->nowners && o->chunk == c->addr; o++)
		if (!best || (!o->dims && (v->m->np.arrays[o->array].flags & owndata)))
			best = o;
	return best;
}

static void owner_title(const struct svg *v, const struct chunk *c, char *buf, size_t len)
{
	const struct heap_model *m = v->m;
	const struct owner *o = chunk_owner(v, c);
	const struct np_array *a;
	uint32_t owndata = m->np.layout ? (uint32_t)m->np.layout->flag_owndata : 0;
	if (m->py.found && m->py.arenas_vector && chunk_mem(m, c) == m->py.arenas_vector)
		appendf(buf, len, "; pymalloc's arena table");
	if (!o)
		return;
	a = &m->np.arrays[o->array];
	if (o->dims)
		appendf(buf, len, "; shape and strides of %s 0x%llx", type_name(m, a->type),
			(unsigned long long)a->addr);
	else
		appendf(buf, len, "; data %s %s 0x%llx (%s, %llu B)",
			a->flags & owndata ? "of" : "viewed by", type_name(m, a->type),
			(unsigned long long)a->addr, a->dtype, (unsigned long long)a->nbytes);
}

static void chunk_title(const struct svg *v, const struct chunk *c, char *buf, size_t len)
{
	const struct heap_model *m = v->m;
	const struct pin *p = chunk_pin(m, c);
	snprintf(buf, len, "chunk 0x%llx, %llu B, %s", (unsigned long long)c->addr,
		 (unsigned long long)c->size, chunk_state_name((enum chunk_state)c->state));
	if (c->state == CHUNK_TCACHE && c->tcache >= 0 && (size_t)c->tcache < m->ntcaches)
		appendf(buf, len, ", tcache bin %u of thread %d", c->bin, (int)m->tcaches[c->tcache].tid);
	else if (c->state == CHUNK_FASTBIN || c->state == CHUNK_UNSORTED ||
		 c->state == CHUNK_SMALLBIN || c->state == CHUNK_LARGEBIN)
		appendf(buf, len, ", bin %u", c->bin);
	if (c->arena >= 0)
		appendf(buf, len, ", arena %d", c->arena);
	owner_title(v, c, buf, len);
	if (p) {
		char what[768], release[512], b[64];
		explain_pin_text(m, p, what, sizeof what, release, sizeof release);
		appendf(buf, len, "; PINS %s: %s", format_bytes(p->bytes, b, sizeof b), what);
	}
}

static void span_title(const struct svg *v, const struct span *s, char *buf, size_t len)
{
	char b[64];
	if (s->chunk) {
		chunk_title(v, s->chunk, buf, len);
		return;
	}
	snprintf(buf, len, "0x%llx-0x%llx, %s: %s", (unsigned long long)s->start,
		 (unsigned long long)s->end, human_size(s->end - s->start, b, sizeof b), s->what);
	if (s->letter == L_POOLS) {
		appendf(buf, len, " of pymalloc arena 0x%llx: ", (unsigned long long)v->g->start);
		pymalloc_note(v->m, v->g, buf, len);
	}
}

static void svg_rect(struct svg *v, const struct span *s, uint64_t at, uint64_t stop,
		     uint64_t row, const char *title)
{
	double scale = (double)SVG_W / (double)v->bpr;
	uint64_t off = at - v->g->start - row * v->bpr;
	fprintf(v->f, "<rect class=\"%s%s\" x=\"%.4f\" y=\"%.1f\" width=\"%.4f\" height=\"%d\" "
		"data-start=\"0x%llx\" data-end=\"0x%llx\"", letters[s->letter].css,
		chunk_pin(v->m, s->chunk) ? " pin" : "", SVG_X0 + (double)off * scale,
		v->y + (double)row * SVG_RH, (double)(stop - at) * scale, SVG_RH,
		(unsigned long long)at, (unsigned long long)stop);
	if (s->chunk)
		fprintf(v->f, " data-chunk=\"0x%llx\"", (unsigned long long)s->chunk->addr);
	fputs("><title>", v->f);
	xml_text(v->f, title);
	fputs("</title></rect>\n", v->f);
}

/* One rect per row the span crosses. */
static void svg_span(void *ctx, const struct span *s)
{
	struct svg *v = ctx;
	char title[2048];
	uint64_t at = s->start;
	span_title(v, s, title, sizeof title);
	while (at < s->end) {
		uint64_t row = (at - v->g->start) / v->bpr;
		uint64_t row_end = v->g->start + (row + 1) * v->bpr;
		uint64_t stop = row_end < s->end && row_end > at ? row_end : s->end;
		svg_rect(v, s, at, stop, row, title);
		at = stop;
	}
}

/* A triangle over each heap-top pin's fragment: too thin to see otherwise. */
static void svg_pin_marks(struct svg *v)
{
	double scale = (double)SVG_W / (double)v->bpr;
	size_t i;
	for (i = 0; i < v->m->ex.npins; i++) {
		const struct pin *p = &v->m->ex.pins[i];
		uint64_t at, row;
		double x, y;
		if (!pin_in_region(p, v->g) || p->addr < v->g->start)
			continue;
		at = p->addr - v->g->start;
		row = at / v->bpr;
		x = SVG_X0 + (double)(at % v->bpr) * scale;
		y = v->y + (double)row * SVG_RH;
		fprintf(v->f, "<polygon class=\"pinmark\" points=\"%.2f,%.1f %.2f,%.1f %.2f,%.1f\">"
			"<title>heap-top pin: chunk 0x%llx</title></polygon>\n", x - 5, y - 4, x + 5,
			y - 4, x, y + SVG_RH, (unsigned long long)p->addr);
	}
}

static void svg_region(struct svg *v, const struct region *g)
{
	char label[96], b[64], c[64];
	uint64_t rows = region_rows(g), i;
	v->g = g;
	v->bpr = g->cell * MAP_COLUMNS;
	fprintf(v->f, "<g class=\"region\" data-kind=\"%s\" data-start=\"0x%llx\" data-end=\"0x%llx\" "
		"data-cell-bytes=\"%llu\" data-bytes-per-row=\"%llu\" data-x=\"%d\" data-y=\"%.1f\" "
		"data-row-width=\"%d\" data-row-height=\"%d\">\n", region_kind_names[g->kind],
		(unsigned long long)g->start, (unsigned long long)g->end, (unsigned long long)g->cell,
		(unsigned long long)v->bpr, SVG_X0, v->y, SVG_W, SVG_RH);
	fprintf(v->f, "<text x=\"8\" y=\"%.1f\">", v->y - 6);
	xml_text(v->f, region_label(v->m, g, label, sizeof label));
	fprintf(v->f, ": 0x%llx-0x%llx (%s), %s a row</text>\n", (unsigned long long)g->start,
		(unsigned long long)g->end, human_size(g->end - g->start, b, sizeof b),
		human_size(v->bpr, c, sizeof c));
	for (i = 0; i < rows; i++)
		fprintf(v->f, "<text class=\"addr\" x=\"%d\" y=\"%.1f\">0x%llx</text>\n", SVG_X0 - 6,
			v->y + (double)(i + 1) * SVG_RH - 2,
			(unsigned long long)(g->start + i * v->bpr));
	region_spans(v->m, g, svg_span, v);
	svg_pin_marks(v);
	fputs("</g>\n", v->f);
	v->y += (double)rows * SVG_RH + SVG_GAP + SVG_HEAD;
}

static void svg_legend(FILE *f, double y)
{
	int k;
	fputs("<g class=\"legend\">\n", f);
	for (k = 0; k <= L_COUNT; k++, y += SVG_LEGEND_LINE) {
		const char *css = k < L_COUNT ? letters[k].css : "pin";
		fprintf(f, "<rect class=\"%s\" x=\"8\" y=\"%.1f\" width=\"12\" height=\"12\"/>"
			"<text x=\"28\" y=\"%.1f\">%c  ", css, y, y + 10,
			k < L_COUNT ? letters[k].letter : PIN_LETTER);
		xml_text(f, k < L_COUNT ? letters[k].meaning : pin_meaning);
		fputs("</text>\n", f);
	}
	fputs("</g>\n", f);
}

static void svg_begin(FILE *f, const struct heap_model *m, double width, double height)
{
	int k;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"monospace\" font-size=\"11\">\n", width,
		height, width, height);
	fprintf(f, "<title>heapinspect map of process %d (", (int)m->pid);
	xml_text(f, m->exe && m->exe[0] ? m->exe : "?");
	fputs(")</title>\n<style>\n", f);
	for (k = 0; k < L_COUNT; k++)
		fprintf(f, "rect.%s { fill: %s; }\n", letters[k].css, letters[k].fill);
	fprintf(f, "rect.pin { fill: %s; }\n.pinmark { fill: %s; stroke: #000; stroke-width: 0.5; }\n"
		"rect.N { stroke: #bbb; stroke-width: 0.2; }\n.addr { text-anchor: end; }\n"
		"rect:hover { stroke: #000; stroke-width: 1; }\n</style>\n", pin_fill, pin_fill);
}

static void svg_write(FILE *f, const struct heap_model *m, const struct region *v, size_t n)
{
	struct svg s = { f, m, NULL, 0, SVG_TOP + SVG_HEAD, NULL, 0 };
	double height = SVG_TOP + (L_COUNT + 2) * SVG_LEGEND_LINE;
	size_t i;
	for (i = 0; i < n; i++)
		height += (double)region_rows(&v[i]) * SVG_RH + SVG_GAP + SVG_HEAD;
	index_owners(&s);
	svg_begin(f, m, SVG_X0 + SVG_W + 16, height);
	fprintf(f, "<text x=\"8\" y=\"14\">heap map of process %d: %zu regions, %d cells' worth of "
		"bytes a row</text>\n", (int)m->pid, n, MAP_COLUMNS);
	for (i = 0; i < n; i++)
		svg_region(&s, &v[i]);
	svg_legend(f, s.y - SVG_HEAD);
	fputs("</svg>\n", f);
	free(s.owners);
}

int render_map_svg(const char *path, const struct heap_model *m, const struct report *r,
		   char **err)
{
	struct region *v;
	size_t n;
	FILE *f = fopen(path, "w");
	int failed;
	(void)r;	/* the SVG draws every region: its rects must tile them all */
	if (!f) {
		*err = xasprintf("cannot write the map to %s: %s", path, strerror(errno));
		return -1;
	}
	n = collect_regions(m, &v);
	svg_write(f, m, v, n);
	free(v);
	failed = ferror(f);
	if (fclose(f) != 0 || failed) {
		*err = xasprintf("cannot write the map to %s: %s", path,
				 errno ? strerror(errno) : "write error");
		return -1;
	}
	return 0;
}
