/*
 * render_explain_text.c - the explain analysis for people: resident
 * memory by region and owner, what malloc_trim(0) would return, and the
 * pins, largest first.  Reads only the model.
 */
#include "config.h"

#include "explain.h"
#include "render_explain.h"
#include "util.h"

#include <string.h>

static const char *no_residency_reason(const struct heap_model *m)
{
	return residency_missing_reason(m->ex.residency_source);
}

static int rss_anon_measured(const struct heap_model *m)
{
	return m->ex.measured_anon != TARGET_RSS_UNKNOWN;
}

static void pin_line(FILE *out, const struct heap_model *m, const struct pin *p, size_t rank)
{
	char what[512], release[512], b[64];
	explain_pin_text(m, p, what, sizeof what, release, sizeof release);
	fprintf(out, "%2zu. [%s] %s pinned: %s -> %s\n", rank,
		pin_kind_name((enum pin_kind)p->kind), format_bytes(p->bytes, b, sizeof b), what,
		release);
}

void explain_text_top(FILE *out, const struct heap_model *m, size_t max)
{
	size_t i;
	char b[64];
	if (!m->ex.done)
		return;
	fprintf(out, "What pins memory (largest first; `heapinspect explain` for all):\n");
	if (!m->ex.npins)
		fprintf(out, "  nothing: no large free run under live chunks, no pinned arena or view\n");
	for (i = 0; i < m->ex.npins && i < max; i++)
		pin_line(out, m, &m->ex.pins[i], i + 1);
	if (m->ex.have_residency)
		fprintf(out, "malloc_trim(0) would %s %s\n",
			rss_anon_measured(m) ? "return" : "have returned",
			format_bytes(m->ex.trim_total, b, sizeof b));
	if (m->ex.have_residency && !rss_anon_measured(m))
		fprintf(out, "  (when the core was dumped; residency from the pages it holds)\n");
	else
		fprintf(out, "malloc_trim(0) would return: unknown (%s)\n", no_residency_reason(m));
}

static void rss_section(FILE *out, const struct heap_model *m)
{
	char b[6][64];
	uint64_t sum = 0;
	size_t k;
	if (!m->ex.have_residency) {
		fprintf(out, "resident memory: unknown (%s)\n", no_residency_reason(m));
		return;
	}
	if (rss_anon_measured(m))
		fprintf(out, "Resident anonymous memory: %s measured (RssAnon), %s counted page by "
			"page\n", format_bytes(m->ex.measured_anon, b[0], sizeof b[0]),
			format_bytes(m->ex.resident_anon, b[1], sizeof b[1]));
	else
		fprintf(out, "Resident anonymous memory: %s counted page by page from the pages "
			"the kernel dumped (a core records no RssAnon)\n",
			format_bytes(m->ex.resident_anon, b[1], sizeof b[1]));
	fprintf(out, "  %-16s %26s %26s %26s %26s %26s\n", "region", "mapped", "resident", "live",
		"free", "overhead");
	for (k = 0; k < RSS_KIND_COUNT; k++) {
		const struct rss_region *r = &m->ex.regions[k];
		fprintf(out, "  %-16s %26s %26s %26s %26s %26s\n", rss_kind_name((enum rss_kind)k),
			format_bytes(r->mapped, b[1], sizeof b[1]),
			format_bytes(r->resident, b[2], sizeof b[2]),
			format_bytes(r->live, b[3], sizeof b[3]), format_bytes(r->free, b[4], sizeof b[4]),
			format_bytes(r->overhead, b[5], sizeof b[5]));
		sum += r->resident;
	}
	if (rss_anon_measured(m))
		fprintf(out, "  remainder (measured - counted): %lld B\n",
			(long long)m->ex.measured_anon - (long long)sum);
	fprintf(out, "Live bytes by owner:\n");
	for (k = 0; k < m->ex.nowners && k < 12; k++)
		fprintf(out, "  %-40s %s\n", m->ex.owners[k].owner,
			format_bytes(m->ex.owners[k].bytes, b[0], sizeof b[0]));
}

/* CPython's free lists keep dead objects' blocks allocated (details:
 * command types). */
static void free_lists_line(FILE *out, const struct heap_model *m)
{
	uint64_t tuples = 0;
	unsigned k;
	if (!m->pym.have_free_lists)
		return;
	for (k = 0; k < m->pym.free_tuple_sizes; k++)
		tuples += m->pym.free_tuples[k];
	fprintf(out, "CPython free lists hold %llu float, %llu list, %llu dict, %llu dict keys and "
		"%llu tuple objects (dead, their blocks kept for reuse)\n",
		(unsigned long long)m->pym.free_floats, (unsigned long long)m->pym.free_lists,
		(unsigned long long)m->pym.free_dicts, (unsigned long long)m->pym.free_dictkeys,
		(unsigned long long)tuples);
}

void explain_text(FILE *out, const struct heap_model *m)
{
	size_t a, i;
	char b[2][64];
	if (!m->ex.done)
		return;
	rss_section(out, m);
	if (!m->ex.have_residency)
		fprintf(out, "malloc_trim(0) would return: unknown (%s)\n",
			no_residency_reason(m));
	else
		fprintf(out, "malloc_trim(0) would %s %s of resident memory %s:\n",
			rss_anon_measured(m) ? "return" : "have returned",
			format_bytes(m->ex.trim_total, b[0], sizeof b[0]),
			rss_anon_measured(m) ? "now" : "when the core was dumped");
	for (a = 0; a < m->narenas; a++)
		if (m->ex.trim[a].top_trim || m->ex.trim[a].madvise)
			fprintf(out, "  arena %zu: %s by shrinking the top, %s of whole free pages "
				"(MADV_DONTNEED)\n", a,
				format_bytes(m->ex.trim[a].top_trim, b[0], sizeof b[0]),
				format_bytes(m->ex.trim[a].madvise, b[1], sizeof b[1]));
	if (m->ex.trim_top_blocked)
		fprintf(out, "  (the break is not at the main heap's end: a foreign sbrk; the top "
			"would not be trimmed)\n");
	free_lists_line(out, m);
	fprintf(out, "Pins, largest first:\n");
	if (!m->ex.npins)
		fprintf(out, "  none\n");
	for (i = 0; i < m->ex.npins; i++)
		pin_line(out, m, &m->ex.pins[i], i + 1);
}
