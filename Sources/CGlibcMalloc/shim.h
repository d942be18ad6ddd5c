#ifndef CGLIBCMALLOC_SHIM_H
#define CGLIBCMALLOC_SHIM_H
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>

/// `<malloc.h>` is not part of Swift's Glibc module, and M_MMAP_THRESHOLD is a
/// macro; this fixes glibc's mmap threshold so that large buffers allocated on
/// one thread and freed on another go back to the system instead of growing
/// per-thread heaps (see DataPhase.returnLargeBuffersToTheSystem).
static inline int cellar_set_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }
#else
static inline int cellar_set_mmap_threshold(int bytes) { (void)bytes; return 1; }
#endif
#endif
