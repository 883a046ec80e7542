/*
 * pagemap.h - what /proc/PID/pagemap says about a page, for the live
 * backend (target_live.c).
 *
 * One 64-bit entry per virtual page (linux Documentation/admin-guide/mm/
 * pagemap.rst): bit 63 present, 62 swapped, 61 file page or shared
 * anonymous, 0-54 the page frame number (zero unless we have
 * CAP_SYS_ADMIN).
 *
 * The shared zero page is the one trap: a read of a never-written
 * anonymous page maps it, and pagemap then says "present" although the
 * page holds nothing and is not counted in RssAnon.  Its frame number is
 * learnt once by reading a fresh page of our own; with frame numbers
 * hidden it cannot be told apart, and counts as present (an overcount of
 * at most the zero pages the target itself has mapped).
 */
#ifndef HEAPINSPECT_PAGEMAP_H
#define HEAPINSPECT_PAGEMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_SWAPPED (1ull << 62)
#define PAGEMAP_FILE (1ull << 61)	/* file page or shared anonymous */

/* The entries of the pages [START, END) of PID, or NULL if unreadable. */
uint64_t *pagemap_read(pid_t pid, uint64_t start, uint64_t end);

/* Does the page hold contents of its own (present, and not the shared zero
 * page; or swapped out)?  A page that does not reads as zeros (anonymous)
 * or as its file says (file mappings). */
int pagemap_has_contents(uint64_t entry);

/* Is the page counted in RssAnon: present, private anonymous (a copy-on-
 * write page of a file mapping included), and not the zero page? */
int pagemap_counts_in_rss_anon(uint64_t entry);

#endif
