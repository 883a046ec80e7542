/*
 * pagemap.c - reading /proc/PID/pagemap and telling the shared zero page
 * apart (see pagemap.h).
 *
 * The zero page's frame is found by faulting in one never-written page of
 * our own with a read and looking at our own pagemap.  The huge zero page
 * (transparent huge pages, use_zero_page) is found the same way on a 2 MiB
 * aligned range; it is taken only if the entry says the frame is not
 * exclusively ours (bit 56), so that a real huge page allocated by the
 * read fault is never mistaken for it.
 */
#include "config.h"

#include "pagemap.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096ull
#define HUGE_PAGE (2ull << 20)
#define PAGEMAP_EXCLUSIVE (1ull << 56)
#define PAGEMAP_PFN_MASK ((1ull << 55) - 1)

static struct {
	int probed;
	uint64_t small;			/* the zero page's frame, 0 if unknown */
	uint64_t huge_first, huge_end;	/* the huge zero page's frames, if seen */
} zero;

uint64_t *pagemap_read(pid_t pid, uint64_t start, uint64_t end)
{
	char path[64];
	size_t want = (end - start) / PAGE * sizeof(uint64_t), done = 0;
	uint64_t *pm = xmalloc(want ? want : 1);
	int fd;
	snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		free(pm);
		return NULL;
	}
	while (done < want) {	/* the kernel caps one read near 2 GiB */
		ssize_t n = pread(fd, (char *)pm + done, want - done,
				  (off_t)(start / PAGE * sizeof *pm + done));
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	if (done != want) {
		free(pm);
		return NULL;
	}
	return pm;
}

/* Our own entry for the page at P after reading a byte of it. */
static uint64_t own_entry_after_read(const volatile unsigned char *p)
{
	uint64_t *pm;
	uint64_t entry = 0;
	(void)*p;
	pm = pagemap_read(getpid(), (uint64_t)(uintptr_t)p, (uint64_t)(uintptr_t)p + PAGE);
	if (pm)
		entry = pm[0];
	free(pm);
	return entry;
}

static void probe_zero_pages(void)
{
	unsigned char *m, *aligned;
	uint64_t entry;
	zero.probed = 1;
	m = mmap(NULL, 2 * HUGE_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return;
	entry = own_entry_after_read(m);
	if ((entry & PAGEMAP_PRESENT) && !(entry & PAGEMAP_EXCLUSIVE))
		zero.small = entry & PAGEMAP_PFN_MASK;
	aligned = (unsigned char *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	if (aligned != m) {	/* m's own page is not in the aligned range */
#ifdef MADV_HUGEPAGE
		madvise(aligned, HUGE_PAGE, MADV_HUGEPAGE);
#endif
		entry = own_entry_after_read(aligned);
		if ((entry & PAGEMAP_PRESENT) && !(entry & PAGEMAP_EXCLUSIVE) &&
		    (entry & PAGEMAP_PFN_MASK) != zero.small && zero.small) {
			zero.huge_first = entry & PAGEMAP_PFN_MASK & ~(HUGE_PAGE / PAGE - 1);
			zero.huge_end = zero.huge_first + HUGE_PAGE / PAGE;
		}
	}
	munmap(m, 2 * HUGE_PAGE);
}

static int is_zero_page(uint64_t entry)
{
	uint64_t pfn = entry & PAGEMAP_PFN_MASK;
	if (!zero.probed)
		probe_zero_pages();
	return pfn && (pfn == zero.small || (pfn >= zero.huge_first && pfn < zero.huge_end));
}

int pagemap_has_contents(uint64_t entry)
{
	if (entry & PAGEMAP_SWAPPED)
		return 1;
	return (entry & PAGEMAP_PRESENT) && !is_zero_page(entry);
}

int pagemap_counts_in_rss_anon(uint64_t entry)
{
	return (entry & PAGEMAP_PRESENT) && !(entry & PAGEMAP_FILE) && !is_zero_page(entry);
}
