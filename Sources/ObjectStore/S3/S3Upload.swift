import CellarSupport
import Foundation

/// A streaming multipart upload: bytes are cut into parts of a fixed size,
/// and up to `partsInFlight` parts are sent at once, each on a thread of its
/// own, while the writer fills the next.
///
/// Memory: at most (partsInFlight + 1) × partSize bytes of parts, the ones
/// being sent and the one being filled; `write` blocks while every slot is
/// busy. An object smaller than one part is sent with a single PUT.
///
/// Nothing is visible under the key until ``finish()`` completes the upload;
/// on failure the upload is aborted so the store releases its parts (and a
/// killed process leaves an incomplete upload that
/// ``S3Store/sweepIncompleteUploads(prefix:olderThan:)`` or the bucket's
/// AbortIncompleteMultipartUpload rule removes).
final class S3Upload: ObjectUpload {
    private let store: S3Store
    private let key: String
    let partSize: Int
    private var buffer: [UInt8] = []
    private var uploadID: String?
    private var nextPartNumber = 1
    private let parts = PartTracker()
    private var state = State.open

    private enum State { case open, finished, aborted }

    init(store: S3Store, key: String, partSize: Int) {
        self.store = store
        self.key = key
        self.partSize = partSize
    }

    deinit {
        if state == .open { abort() }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(state == .open, "write to an upload that was finished or aborted (\(store.target(key)))")
        if let error = parts.firstError { throw error }
        var remaining = bytes
        while !remaining.isEmpty {
            if buffer.capacity < partSize { buffer.reserveCapacity(partSize) }
            let take = min(partSize - buffer.count, remaining.count)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: remaining[..<take]))
            remaining = UnsafeRawBufferPointer(rebasing: remaining[take...])
            if buffer.count == partSize { try sendPart() }
        }
    }

    func finish() throws {
        precondition(state == .open, "finish of an upload that was finished or aborted (\(store.target(key)))")
        do {
            if uploadID == nil {
                // Smaller than one part: one PUT, atomic by itself.
                try store.put(key: key, bytes: buffer)
                buffer = []
            } else {
                if !buffer.isEmpty { try sendPart() }
                parts.waitUntilIdle()
                if let error = parts.firstError { throw error }
                try complete()
            }
            state = .finished
        } catch {
            abort()
            throw error
        }
    }

    func abort() {
        guard state == .open else { return }
        state = .aborted
        buffer = []
        parts.waitUntilIdle()
        guard let uploadID else { return }
        // Best effort: when this fails too (the store is gone), the sweep or
        // the bucket's lifecycle rule removes the parts later.
        _ = try? store.send("abort the upload of", method: "DELETE", key: key, query: [("uploadId", uploadID)])
    }

    // MARK: - Parts

    /// Hands the filled buffer to a thread of its own once a slot is free.
    private func sendPart() throws {
        let uploadID = try self.uploadID ?? initiate()
        self.uploadID = uploadID
        let number = nextPartNumber
        guard number <= S3Configuration.maximumPartCount else {
            throw S3Error(
                operation: "upload", target: store.target(key), code: .init(rawValue: "TooManyParts"),
                message: "the object outgrew 10,000 parts of \(partSize) bytes (the expected size was far too low)")
        }
        nextPartNumber += 1
        try parts.acquire(limit: store.configuration.partsInFlight)
        let part = buffer
        buffer = []
        let store = self.store, key = self.key, parts = self.parts
        let thread = Thread {
            let result = Result {
                let response = try store.send(
                    "upload part \(number) of", method: "PUT", key: key,
                    query: [("partNumber", "\(number)"), ("uploadId", uploadID)], body: part, contentMD5: true)
                guard let etag = response.headers["etag"] else {
                    throw S3Error(
                        operation: "upload part \(number) of", target: store.target(key), code: .malformedResponse,
                        httpStatus: response.status, message: "the answer has no ETag")
                }
                return etag
            }
            parts.record(number, result)
        }
        thread.name = "pgcellar-s3-part"
        thread.start()
    }

    private func initiate() throws -> String {
        let response = try store.send("start the upload of", method: "POST", key: key, query: [("uploads", "")])
        let document = try store.parse(response, operation: "start the upload of", key: key, root: "InitiateMultipartUploadResult")
        guard let id = document.value("UploadId"), !id.isEmpty else {
            throw S3Error(
                operation: "start the upload of", target: store.target(key), code: .malformedResponse,
                message: "the answer has no UploadId")
        }
        return id
    }

    private func complete() throws {
        guard let uploadID else { return }
        let etags = parts.etags
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for number in etags.keys.sorted() {
            xml += "<Part><PartNumber>\(number)</PartNumber><ETag>\(etags[number]!.xmlEscaped)</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        _ = try store.send(
            "complete the upload of", method: "POST", key: key, query: [("uploadId", uploadID)],
            headers: [("Content-Type", "application/xml")], body: Array(xml.utf8), contentMD5: true)
    }
}

// MARK: - PartTracker

/// The parts in flight, their ETags and the first failure, shared by the
/// writer and the part threads.
private final class PartTracker: Sendable {
    private struct Parts {
        var inFlight = 0
        var tags: [Int: String] = [:]
        var failure: (any Error)?
    }

    private let parts = Locked(Parts())

    /// Waits for a free slot; throws the first part's failure instead when there is one.
    func acquire(limit: Int) throws {
        try parts.withLock(when: { $0.inFlight < limit || $0.failure != nil }) { parts in
            if let failure = parts.failure { throw failure }
            parts.inFlight += 1
        }
    }

    func record(_ number: Int, _ result: Result<String, any Error>) {
        parts.withLock { parts in
            switch result {
            case .success(let tag): parts.tags[number] = tag
            case .failure(let error): if parts.failure == nil { parts.failure = error }
            }
            parts.inFlight -= 1
        }
    }

    func waitUntilIdle() {
        parts.withLock(when: { $0.inFlight == 0 }) { _ in }
    }

    var firstError: (any Error)? {
        parts.read { $0.failure }
    }

    var etags: [Int: String] {
        parts.read { $0.tags }
    }
}
