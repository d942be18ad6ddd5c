// MARK: - Numbers an archive may hold

extension ArchiveEntry {
    /// Checks that the numbers the archive gives for this entry are ones the
    /// writer can produce: sizes within ``ArchiveFormat/maximumEntryFrameSize``,
    /// a block offset within a block, chunk numbers and row counts that are
    /// not negative.
    ///
    /// Every reader checks each entry as it decodes its metadata, so that the
    /// code after it (restore's planner, buffers sized by an entry, messages
    /// that print `chunk + 1`) can do arithmetic on these numbers without
    /// overflowing, converting a huge or negative value, or reserving memory
    /// for a size no entry can have.
    ///
    /// - Throws: ``ArchiveError`` (`corrupt`) naming the entry and the number.
    func checkBounds(at offset: UInt64?) throws {
        func impossible(_ what: String) -> ArchiveError {
            ArchiveError(.corrupt, "the entry's metadata is impossible: \(what) (the archive is damaged or was not written by pgcellar)",
                         offset: offset, entry: self)
        }
        let maximumSize = UInt64(ArchiveFormat.maximumEntryFrameSize)
        guard id >= 0 else { throw impossible("its id is \(id)") }
        guard uncompressedSize <= maximumSize else { throw impossible("its SQL size is \(uncompressedSize) bytes, more than \(maximumSize)") }
        guard compressedSize <= maximumSize else { throw impossible("its frame size is \(compressedSize) bytes, more than \(maximumSize)") }
        if let blockOffset, blockOffset > UInt64(ArchiveFrames.maximumBlockSize) {
            throw impossible("it starts at byte \(blockOffset) of a block, and no block is larger than \(ArchiveFrames.maximumBlockSize)")
        }
        guard let data else { return }
        // 2^31 chunks of the smallest size (64 KiB) would be a table of 128 TiB.
        guard data.chunk >= 0, data.chunk <= Int(Int32.max) else { throw impossible("its chunk number is \(data.chunk)") }
        if let chunkCount = data.chunkCount, chunkCount <= data.chunk {
            throw impossible("it is chunk \(data.chunk) (0-based) of \(chunkCount)")
        }
        // Each row is at least its newline.
        guard data.rows >= 0, UInt64(data.rows) <= uncompressedSize else {
            throw impossible("it holds \(data.rows) rows in \(uncompressedSize) bytes")
        }
    }
}
