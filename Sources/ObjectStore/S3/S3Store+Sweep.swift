import Foundation

extension S3Store {
    /// Aborts the multipart uploads under `prefix` that started more than
    /// `olderThan` ago (ListMultipartUploads, every page), so a concurrent
    /// upload is never cut off.
    public func sweepIncompleteUploads(prefix: String, olderThan: Duration) throws -> Int {
        let seconds = Double(olderThan.components.seconds) + Double(olderThan.components.attoseconds) / 1e18
        let cutoff = Date().addingTimeInterval(-seconds)
        var stale: [(key: String, uploadID: String)] = []
        var keyMarker: String?
        var uploadIDMarker: String?
        while true {
            var query = [("uploads", ""), ("prefix", bucketKey(prefix))]
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let uploadIDMarker { query.append(("upload-id-marker", uploadIDMarker)) }
            let response = try send("list incomplete uploads in", method: "GET", key: nil, query: query)
            let document = try parse(response, operation: "list incomplete uploads in", key: nil, root: "ListMultipartUploadsResult")
            stale += Self.staleUploads(in: document, storePrefix: configuration.prefix, cutoff: cutoff)
            guard document.value("IsTruncated") == "true" else { break }
            keyMarker = document.value("NextKeyMarker")
            uploadIDMarker = document.value("NextUploadIdMarker")
            guard keyMarker != nil else { break }
        }
        for upload in stale {
            do {
                _ = try send("abort the stale upload of", method: "DELETE", key: upload.key, query: [("uploadId", upload.uploadID)])
            } catch let error as S3Error where error.code == .noSuchUpload {
                // Completed or aborted meanwhile.
            }
        }
        return stale.count
    }

    /// The uploads of one ListMultipartUploads page that started before
    /// `cutoff`, with keys relative to the store's prefix.
    static func staleUploads(in document: XMLNode, storePrefix: String, cutoff: Date) -> [(key: String, uploadID: String)] {
        var stale: [(key: String, uploadID: String)] = []
        for upload in document.children("Upload") {
            guard let key = upload.value("Key"), key.hasPrefix(storePrefix),
                let id = upload.value("UploadId"),
                let initiated = upload.value("Initiated").flatMap(S3Store.parseTimestamp)
            else { continue }
            if initiated < cutoff {
                stale.append((String(key.dropFirst(storePrefix.count)), id))
            }
        }
        return stale
    }
}
