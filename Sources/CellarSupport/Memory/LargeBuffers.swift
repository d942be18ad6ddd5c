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

    /// Shares two malloc arenas among all threads, instead of glibc's one
    /// per thread (up to eight per core). Memory freed in one arena is never
    /// reused by another, so threads that each allocate and free in turn
    /// (export's catalog prefetch, copying and compression threads) left
    /// several partly resident: at 5,000 tables the export peaked 2 MiB
    /// higher (66.4 against 64.6 MiB), and no slower for sharing. Call before
    /// any thread starts (pgcellar's main does); process-wide.
    public static func shareAllocatorArenas() {
        #if os(Linux)
        _ = cellar_set_arena_max(2)
        #endif
    }

    /// Gives freed heap memory back to the system after a burst of small
    /// allocations (glibc `malloc_trim`).
    public static func trimFreedMemory() {
        #if os(Linux)
        _ = cellar_malloc_trim()
        #endif
    }
}

/// The process's resident memory, for `--verbose` logs of where memory goes.
public enum ResidentMemory {
    /// Resident bytes now (Linux: `/proc/self/statm`), or nil where unknown.
    public static var bytes: Int? {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * 4096
        #else
        return nil
        #endif
    }

    /// The most resident bytes so far (Linux: `VmHWM` in `/proc/self/status`),
    /// or nil where unknown.
    public static var peakBytes: Int? {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        return kilobytes * 1024
        #else
        return nil
        #endif
    }

    /// "41 MiB (peak 52 MiB, heap 20 MiB)", for logs: heap is what malloc
    /// has handed out and not had back.
    public static var description: String {
        guard let bytes else { return "unknown" }
        var details: [String] = []
        if let peakBytes { details.append("peak \(peakBytes >> 20) MiB") }
        #if os(Linux)
        details.append("heap \(cellar_heap_in_use() >> 20) MiB")
        #endif
        return "\(bytes >> 20) MiB" + (details.isEmpty ? "" : " (\(details.joined(separator: ", ")))")
    }
}
