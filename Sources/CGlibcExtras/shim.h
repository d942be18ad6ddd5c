#ifndef CGLIBCEXTRAS_SHIM_H
#define CGLIBCEXTRAS_SHIM_H
/// glibc functions that Swift's Glibc module leaves out: they need _GNU_SOURCE
/// or <malloc.h>, and some take macro arguments Swift cannot import.
#if defined(__linux__)
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <malloc.h>
#include <pthread.h>

/// Fixes glibc's mmap threshold, so that large buffers allocated on one
/// thread and freed on another go back to the system instead of growing
/// per-thread heaps (see CellarSupport's LargeBuffers).
static inline int cellar_set_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }

/// Caps the number of malloc arenas (glibc `M_ARENA_MAX`); before threads start.
static inline int cellar_set_arena_max(int arenas) { return mallopt(M_ARENA_MAX, arenas); }

/// Returns free heap memory to the system: after a burst of small
/// allocations (decoding a table of contents of many entries) glibc keeps
/// the freed pages resident otherwise.
static inline int cellar_malloc_trim(void) { return malloc_trim(0); }

/// Bytes malloc has handed out and not had back (in its arenas and in
/// mappings of their own): what resident memory would be without
/// fragmentation and the runtime's own pages, for diagnostics.
static inline size_t cellar_heap_in_use(void) { struct mallinfo2 info = mallinfo2(); return info.uordblks + info.hblkhd; }

/// Names the calling thread (15 bytes at most; longer names are refused).
/// pthread_setname_np is a GNU extension, hidden without _GNU_SOURCE.
static inline int cellar_set_current_thread_name(const char *name) { return pthread_setname_np(pthread_self(), name); }
#else
static inline int cellar_set_mmap_threshold(int bytes) { (void)bytes; return 1; }
static inline int cellar_malloc_trim(void) { return 0; }
static inline size_t cellar_heap_in_use(void) { return 0; }
static inline int cellar_set_arena_max(int arenas) { (void)arenas; return 1; }
static inline int cellar_set_current_thread_name(const char *name) { (void)name; return 0; }
#endif
#endif
