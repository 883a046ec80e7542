/*
 * target.c - the backend-independent half of the target: region and
 * mapping lookup, bounds-checked reads, /proc/PID/maps parsing.
 *
 * Invariant: lookups are binary searches over sorted, non-overlapping
 * arrays.  target_view() never straddles two regions; target_read() does
 * when they touch (a module's .data mapping and the .bss mapping after
 * it), and on failure leaves its output zeroed, never half-read.
 */
#include "config.h"

#include "target.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const struct target_region *target_region_at(const struct target *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nregions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct target_region *r = &t->regions[mid];
		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

const struct target_region *target_next_region(const struct target *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nregions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->regions[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->nregions ? &t->regions[lo] : NULL;
}

const struct target_mapping *target_mapping_at(const struct target *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nmaps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct target_mapping *m = &t->maps[mid];
		if (addr < m->start)
			hi = mid;
		else if (addr >= m->end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

const void *target_view(const struct target *t, uint64_t addr, size_t len)
{
	const struct target_region *r = target_region_at(t, addr);
	if (!r || len > r->end - addr)
		return NULL;
	return r->bytes + (addr - r->start);
}

int target_read(const struct target *t, uint64_t addr, void *out, size_t len)
{
	const void *p = target_view(t, addr, len);
	unsigned char *o = out;
	if (p) {
		memcpy(out, p, len);
		return 0;
	}
	while (len) {	/* across regions that touch (e.g. .data then .bss) */
		const struct target_region *r = target_region_at(t, addr);
		size_t n;
		if (!r) {
			memset(out, 0, o - (unsigned char *)out + len);	/* nothing half-read */
			return -1;
		}
		n = r->end - addr < len ? (size_t)(r->end - addr) : len;
		memcpy(o, r->bytes + (addr - r->start), n);
		o += n;
		addr += n;
		len -= n;
	}
	return 0;
}

int target_read_u64(const struct target *t, uint64_t addr, uint64_t *out)
{
	return target_read(t, addr, out, sizeof *out);
}

int target_read_u32(const struct target *t, uint64_t addr, uint32_t *out)
{
	return target_read(t, addr, out, sizeof *out);
}

static int parse_maps_line(const char *line, struct target_mapping *m)
{
	unsigned long long start, end, offset, inode;
	char perms[8], dev[16];
	int pathpos = 0;
	if (sscanf(line, "%llx-%llx %7s %llx %15s %llu %n", &start, &end, perms,
		   &offset, dev, &inode, &pathpos) < 6 || start >= end || strlen(perms) != 4)
		return -1;
	m->start = start;
	m->end = end;
	m->offset = offset;
	m->inode = inode;
	m->prot = (perms[0] == 'r' ? TARGET_PROT_READ : 0) |
		  (perms[1] == 'w' ? TARGET_PROT_WRITE : 0) |
		  (perms[2] == 'x' ? TARGET_PROT_EXEC : 0);
	m->shared = perms[3] == 's';
	m->path = xstrdup(pathpos ? line + pathpos : "");
	return 0;
}

int target_parse_maps(struct target *t, const char *text)
{
	size_t cap = 0;
	const char *line = text;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char *copy = xmalloc(len + 1);
		struct target_mapping m;
		memcpy(copy, line, len);
		copy[len] = 0;
		if (len) {
			if (parse_maps_line(copy, &m) < 0) {
				free(copy);
				return -1;
			}
			if (t->nmaps && m.start < t->maps[t->nmaps - 1].end) {
				free((char *)m.path);
				free(copy);
				return -1;
			}
			*ARRAY_PUSH(t->maps, t->nmaps, cap) = m;
		}
		free(copy);
		line = nl ? nl + 1 : line + len;
	}
	return 0;
}

void target_own_mapping(struct target *t, void *addr, size_t len)
{
	*ARRAY_PUSH(t->owned, t->nowned, t->owned_cap) = (struct owned_mapping){ addr, len };
}

void target_add_region(struct target *t, uint64_t start, uint64_t end,
		       const unsigned char *bytes)
{
	*ARRAY_PUSH(t->regions, t->nregions, t->regions_cap) =
		(struct target_region){ start, end, bytes };
	t->bytes_copied += end - start;
}

static int region_cmp(const void *a, const void *b)
{
	const struct target_region *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

int target_finish_regions(struct target *t)
{
	size_t i;
	sort_items(t->regions, t->nregions, sizeof *t->regions, region_cmp);
	for (i = 1; i < t->nregions; i++)
		if (t->regions[i].start < t->regions[i - 1].end)
			return -1;
	return 0;
}

static const struct target_residency *residency_at(const struct target *t, uint64_t addr)
{
	static const struct target_residency *last;	/* lookups come in address runs */
	size_t lo = 0, hi = t->nresidency;
	if (last && last >= t->residency && last < t->residency + t->nresidency &&
	    last->start <= addr && addr < last->end)
		return last;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct target_residency *r = &t->residency[mid];
		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return last = r;
	}
	return NULL;
}

#define RES_PAGE 4096u

uint64_t target_resident_bytes(const struct target *t, uint64_t start, uint64_t end)
{
	uint64_t total = 0;
	if (!t->have_residency)
		return 0;
	while (start < end) {
		const struct target_residency *r = residency_at(t, start);
		uint64_t stop, page;
		if (!r) {	/* skip to the next mapping with residency */
			size_t lo = 0, hi = t->nresidency;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (t->residency[mid].start <= start)
					lo = mid + 1;
				else
					hi = mid;
			}
			start = lo < t->nresidency && t->residency[lo].start < end ?
					t->residency[lo].start : end;
			continue;
		}
		stop = end < r->end ? end : r->end;
		for (page = (start - r->start) / RES_PAGE; start < stop; page++) {
			uint64_t page_end = r->start + (page + 1) * RES_PAGE;
			uint64_t upto = page_end < stop ? page_end : stop;
			if (r->bits[page / 8] & (1u << (page % 8)))
				total += upto - start;
			start = upto;
		}
	}
	return total;
}

void target_free(struct target *t)
{
	size_t i;
	if (!t)
		return;
	for (i = 0; t->residency_owned && i < t->nresidency; i++)
		free((void *)t->residency[i].bits);
	free(t->residency);
	for (i = 0; i < t->nmaps; i++)
		free((char *)t->maps[i].path);
	for (i = 0; i < t->nowned; i++)
		munmap(t->owned[i].addr, t->owned[i].len);
	free(t->owned);
	free(t->maps);
	free(t->regions);
	free(t->threads);
	free(t->exe);
	free(t->maps_text);
	free(t->core_path);
	for (i = 0; i < t->nnotes; i++)
		free(t->notes[i]);
	free(t->notes);
	if (t->storage)
		munmap(t->storage, t->storage_len);
	free(t);
}
