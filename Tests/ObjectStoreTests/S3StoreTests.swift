import CellarSupport
import Foundation
import Testing

@testable import ObjectStore

/// S3Store against moto on loopback with authentication on (scripts/test.sh
/// starts it through scripts/dev-s3.sh).
@Suite struct S3StoreTests {
    @Test func smallObjectsRoundTrip() throws {
        let store = try S3TestServer.store()
        let bytes = Array("{\"id\": \"20261205T0609Z\"}".utf8)
        try store.put(key: "backups/one/manifest.json", bytes: bytes)
        #expect(try store.get(key: "backups/one/manifest.json") == bytes)
        #expect(try store.get(key: "backups/none/manifest.json") == nil)
        let listed = try store.list(prefix: "backups/")
        #expect(listed.map(\.key) == ["backups/one/manifest.json"])
        #expect(listed.first?.size == Int64(bytes.count))
        #expect(abs((listed.first?.lastModified ?? .distantPast).timeIntervalSinceNow) < 600)
        try store.delete(key: "backups/one/manifest.json")
        try store.delete(key: "backups/one/manifest.json")  // a missing object is no error
        #expect(try store.list(prefix: "backups/").isEmpty)
    }

    @Test func multipartUploadOfSeveralParts() throws {
        let store = try S3TestServer.store { $0.partsInFlight = 2 }
        let content = patternBytes(3 * S3Configuration.minimumAllowedPartSize + 123_457)
        let upload = try store.makeUpload(key: "archive.pgcellar", expectedSize: Int64(content.count))
        #expect((upload as? S3Upload)?.partSize == S3Configuration.minimumAllowedPartSize)
        var offset = 0
        while offset < content.count {
            let end = min(content.count, offset + 1_000_003)
            try upload.write(content[offset..<end])
            offset = end
        }
        // Parts are in the store but no object is visible before finish().
        #expect(try store.list(prefix: "").isEmpty)
        try upload.finish()

        let listed = try store.list(prefix: "")
        #expect(listed.map(\.key) == ["archive.pgcellar"])
        #expect(listed.first?.size == Int64(content.count))
        // S3 marks a multipart object's ETag with its part count.
        let head = try store.send("HEAD", method: "HEAD", key: "archive.pgcellar")
        #expect(head.headers["etag"]?.hasSuffix("-4\"") == true)
        let whole = try #require(try store.get(key: "archive.pgcellar"))
        #expect(try SHA256.hexHash(whole) == (try SHA256.hexHash(content)))
        #expect(try store.sweepIncompleteUploads(prefix: "", olderThan: .zero) == 0)
    }

    @Test func emptyAndSmallUploadsUseOnePut() throws {
        let store = try S3TestServer.store()
        let empty = try store.makeUpload(key: "empty", expectedSize: nil)
        try empty.finish()
        let small = try store.makeUpload(key: "small", expectedSize: 10)
        try small.write([1, 2, 3])
        try small.finish()
        #expect(try store.get(key: "empty") == [])
        #expect(try store.get(key: "small") == [1, 2, 3])
    }

    @Test func rangedReadsFromSeveralThreads() throws {
        let store = try S3TestServer.store()
        let content = patternBytes(300_000)
        try store.put(key: "ranged", bytes: content)
        let source = try store.open(key: "ranged")
        #expect(try source.size() == UInt64(content.count))
        #expect(source.name.hasSuffix("/ranged") && source.name.hasPrefix("s3://"))
        #expect(try source.read(at: 0, count: 10) == Array(content[0..<10]))
        #expect(try source.read(at: 299_990, count: 10) == Array(content[299_990...]))
        #expect(try source.read(at: 5, count: 0) == [])
        #expect(throws: S3Error.self) { try source.read(at: 299_995, count: 10) }

        let mismatches = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            let offset = index * 17_000 + index
            let count = 12_345
            let bytes = try? source.read(at: UInt64(offset), count: count)
            if bytes != Array(content[offset..<offset + count]) { mismatches.withLock { $0 += 1 } }
        }
        #expect(mismatches.withLock { $0 } == 0)
        #expect(throws: S3Error.self) { try store.open(key: "no-such-object") }
    }

    @Test func listingFollowsContinuationTokensBeyond1000Keys() throws {
        let store = try S3TestServer.store()
        let keys = (0..<1_005).map { String(format: "k/%05d", $0) }
        _ = try WorkerPool.parallelMap(keys, maxThreads: 8) { key in
            try store.put(key: key, bytes: Array(key.utf8))
        }
        try store.put(key: "other/x", bytes: [1])
        let listed = try store.list(prefix: "k/")
        #expect(listed.count == 1_005)
        #expect(listed.map(\.key) == keys)
        #expect(try store.list(prefix: "").count == 1_006)
    }

    @Test func aWrongSecretIsRefused() throws {
        let server = try S3TestServer.environment()
        let right = try S3Credentials.fromFile(path: server.credentialsFile, profile: "default")
        let wrong = S3Credentials(accessKeyID: right.accessKeyID, secretAccessKey: right.secretAccessKey + "x")
        let store = try S3Store(
            configuration: S3Configuration(
                endpoint: server.endpoint, bucket: server.bucket, prefix: "wrong-secret/", forcePathStyle: true),
            credentials: wrong)
        let error = try #require(throws: S3Error.self) { try store.put(key: "x", bytes: [1]) }
        #expect(error.code == .signatureDoesNotMatch)
        #expect(error.description.contains("check AWS_SECRET_ACCESS_KEY"))
        #expect(error.description.contains("s3://\(server.bucket)/wrong-secret/x"))
        #expect(!error.description.contains(wrong.secretAccessKey))
        #expect(try S3TestServer.store(prefix: "wrong-secret/").list(prefix: "").isEmpty)
    }

    @Test func aMissingBucketIsNamed() throws {
        let store = try S3TestServer.store(bucket: "pgcellar-no-such-bucket")
        let error = try #require(throws: S3Error.self) { try store.list(prefix: "") }
        #expect(error.code == .noSuchBucket)
        #expect(error.description.contains("s3://pgcellar-no-such-bucket"))
        #expect(error.description.contains("create the bucket"))
        let putError = try #require(throws: S3Error.self) { try store.put(key: "x", bytes: [1]) }
        #expect(putError.code == .noSuchBucket)
        #expect(putError.attempts == 1)  // not retried
    }

    /// moto reports every upload as initiated at 2010-11-10T20:48:33Z (a
    /// fixed value in its response template), so against moto an upload is
    /// "fresh" only for an age limit above some 16 years; the age filter on
    /// real timestamps is tested on a document in `sweepKeepsUploadsYoungerThanTheLimit`.
    @Test func sweepAbortsIncompleteUploadsOlderThanTheLimit() throws {
        let store = try S3TestServer.store()
        let part = patternBytes(S3Configuration.minimumAllowedPartSize)
        // A small expected size makes parts of the minimum, 5 MiB.
        let first = try store.makeUpload(key: "first", expectedSize: 1)
        try first.write(part)  // starts the multipart upload
        let second = try store.makeUpload(key: "second", expectedSize: 1)
        try second.write(part)

        // Younger than 50 years: both kept, and both can still finish.
        #expect(try store.sweepIncompleteUploads(prefix: "", olderThan: .seconds(50 * 365 * 86_400)) == 0)
        try second.finish()
        #expect(try store.list(prefix: "").map(\.key) == ["second"])

        // Older than an hour by moto's clock: swept, and its writer learns it.
        #expect(try store.sweepIncompleteUploads(prefix: "", olderThan: .seconds(3_600)) == 1)
        // AWS answers NoSuchUpload; moto 5 fails with an InternalError (HTTP 500).
        let error = try #require(throws: S3Error.self) { try first.finish() }
        #expect(error.code == .noSuchUpload || error.httpStatus == 500)
        #expect(error.description.contains("/first"))
        #expect(try store.list(prefix: "").map(\.key) == ["second"])
        #expect(try store.sweepIncompleteUploads(prefix: "", olderThan: .zero) == 0)
    }

    @Test func sweepKeepsUploadsYoungerThanTheLimit() throws {
        let now = Date()
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let document = try #require(
            XMLNode.parse(
                Array(
                    """
                    <?xml version="1.0" encoding="UTF-8"?>
                    <ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                    <Upload><Key>p/stale</Key><UploadId>u1</UploadId><Initiated>\(formatter.string(from: now.addingTimeInterval(-25 * 3600)))</Initiated></Upload>
                    <Upload><Key>p/fresh</Key><UploadId>u2</UploadId><Initiated>\(formatter.string(from: now.addingTimeInterval(-60)))</Initiated></Upload>
                    <Upload><Key>other/old</Key><UploadId>u3</UploadId><Initiated>2010-11-10T20:48:33Z</Initiated></Upload>
                    </ListMultipartUploadsResult>
                    """.utf8)))
        let stale = S3Store.staleUploads(in: document, storePrefix: "p/", cutoff: now.addingTimeInterval(-24 * 3600))
        #expect(stale.map(\.key) == ["stale"])
        #expect(stale.map(\.uploadID) == ["u1"])
    }

    @Test(.timeLimit(.minutes(1))) func aServerKilledMidUploadFailsCleanly() throws {
        let server = try S3TestServer.Throwaway()
        defer { server.stop() }
        let store = try server.store {
            $0.maxAttempts = 3
            $0.initialBackoff = .milliseconds(50)
            $0.partsInFlight = 1
        }
        let part = patternBytes(S3Configuration.minimumAllowedPartSize)
        let upload = try store.makeUpload(key: "killed", expectedSize: 1)
        try upload.write(part)
        server.kill()
        let started = Date()
        let error = try #require(throws: S3Error.self) {
            try upload.write(part)
            try upload.write(part)
            try upload.finish()
        }
        #expect(error.code == .transport)
        #expect(error.attempts == 3)
        #expect(error.description.contains("127.0.0.1"))
        #expect(error.description.contains("check repository.s3.endpoint"))
        #expect(Date().timeIntervalSince(started) < 30)
        upload.abort()  // after a failure: safe, and a second time too
        upload.abort()
    }
}
