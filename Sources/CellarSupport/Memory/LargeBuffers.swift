internal import CGlibcExtras

/// Keeps resident memory flat when megabyte-sized buffers are allocated on
/// one thread and freed on another, as export's chunk buffers and restore's
/// frames are.
public enum LargeBuffers {
    /// glibc raises its mmap threshold after the first large buffer is freed;
    /// from then on such buffers come from per-thread heaps that keep the
    /// freed memory, and resident memory grows with the number of threads. A
    /// fixed threshold keeps every large buffer in its own mapping, returned
    /// to the system when freed. Process-wide; safe to call more than once.
    public static func returnToTheSystemWhenFreed() {
        #if os(Linux)
        // > M_MMAP_THRESHOLD: [...] Note: Nowadays, glibc uses a dynamic mmap
        // > threshold by default. [...] the dynamic adjustment is disabled if
        // > any of M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD, or M_MMAP_MAX is set.
        _ = cellar_set_mmap_threshold(512 * 1024)
        #endif
    }
}
