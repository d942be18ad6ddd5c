import CellarSupport
import Foundation
import ObjectStore
import Testing

@Suite("DirectoryStore: a backup repository on disk")
struct DirectoryStoreTests {
    let root = NSTemporaryDirectory() + "pgc-store-\(UInt32.random(in: 0...UInt32.max))/repo"

    private func files(under directory: String) -> [String] {
        (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? [])
            .filter { !isDirectory(directory + "/" + $0) }.sorted()
    }

    private func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }

    private func age(_ path: String, by seconds: TimeInterval) {
        let date = Date().addingTimeInterval(-seconds)
        try! FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
    }

    @Test("an upload is invisible until finish, then listed with its size; reads are ranged")
    func uploadThenList() throws {
        let store = DirectoryStore(root: root)
        let upload = try store.makeUpload(key: "shop/1/archive", expectedSize: nil)
        try upload.write(Array("hello, ".utf8))
        try upload.write(Array("world".utf8))
        #expect(try store.list(prefix: "").isEmpty, "nothing lists before finish")
        #expect(files(under: root).count == 1 && files(under: root)[0].hasPrefix("shop/1/.archive."))
        try upload.finish()
        let listed = try store.list(prefix: "shop/")
        #expect(listed.map(\.key) == ["shop/1/archive"])
        #expect(listed.first?.size == 12)
        let source = try store.open(key: "shop/1/archive")
        #expect(try source.size() == 12)
        #expect(String(decoding: try source.read(at: 7, count: 5), as: UTF8.self) == "world")
        var info = stat()
        #expect(stat(root + "/shop/1/archive", &info) == 0 && info.st_mode & 0o777 == 0o600)
    }

    @Test("abort leaves nothing; get of a missing key is nil; open of one names it")
    func abort() throws {
        let store = DirectoryStore(root: root)
        let upload = try store.makeUpload(key: "a/b", expectedSize: 10)
        try upload.write([1, 2, 3])
        upload.abort()
        upload.abort()
        #expect(files(under: root).isEmpty)
        #expect(try store.get(key: "a/b") == nil)
        #expect(throws: DirectoryStoreError.self) { try store.open(key: "a/b") }
    }

    @Test("put, get, list by prefix in key order, delete removes emptied directories")
    func putGetDelete() throws {
        let store = DirectoryStore(root: root)
        try store.put(key: "db2/x/manifest.json", bytes: Array("{}".utf8))
        try store.put(key: "db1/y/manifest.json", bytes: Array("1".utf8))
        try store.put(key: "db1/x/manifest.json", bytes: Array("2".utf8))
        try store.put(key: "db10/x/manifest.json", bytes: Array("3".utf8))
        #expect(try store.list(prefix: "").map(\.key) == ["db1/x/manifest.json", "db1/y/manifest.json", "db10/x/manifest.json", "db2/x/manifest.json"])
        #expect(try store.list(prefix: "db1/").map(\.key) == ["db1/x/manifest.json", "db1/y/manifest.json"])
        #expect(try store.get(key: "db1/x/manifest.json") == Array("2".utf8))
        try store.delete(key: "db1/x/manifest.json")
        try store.delete(key: "db1/x/manifest.json")
        #expect(!FileManager.default.fileExists(atPath: root + "/db1/x"), "the emptied directory is gone")
        #expect(FileManager.default.fileExists(atPath: root + "/db1/y/manifest.json"))
    }

    @Test("keys that would leave the root or hide as temporary files are refused")
    func badKeys() throws {
        let store = DirectoryStore(root: root)
        for key in ["../escape", "a/../../b", "/abs", "a//b", ".hidden", "a/.x.tmp", ""] {
            #expect(throws: DirectoryStoreError.self, "\(key)") { try store.put(key: key, bytes: [1]) }
        }
    }

    @Test("the sweep removes only temporary files older than the given age")
    func sweep() throws {
        let store = DirectoryStore(root: root)
        let old = try store.makeUpload(key: "db/old/archive", expectedSize: nil)
        try old.write([1])
        let fresh = try store.makeUpload(key: "db/new/archive", expectedSize: nil)
        try fresh.write([2])
        try store.put(key: "db/done/archive", bytes: [3])
        let oldTemporary = try #require(files(under: root).first { $0.hasPrefix("db/old/.archive.") })
        age(root + "/" + oldTemporary, by: 2 * 86_400)
        age(root + "/db/done/archive", by: 2 * 86_400)

        #expect(try store.sweepIncompleteUploads(prefix: "", olderThan: .seconds(86_400)) == 1)
        let left = files(under: root)
        #expect(!left.contains(oldTemporary))
        #expect(left.contains { $0.hasPrefix("db/new/.archive.") }, "a running upload is not cut off")
        #expect(left.contains("db/done/archive"), "finished objects are never swept")
        try fresh.finish()
        #expect(try store.list(prefix: "db/").map(\.key) == ["db/done/archive", "db/new/archive"])
    }

    @Test("the sweep removes empty directories a killed upload left once they are old; a fresh one stays")
    func sweepEmptyDirectories() throws {
        let store = DirectoryStore(root: root)
        try store.put(key: "db/kept/archive", bytes: [1])
        try FileManager.default.createDirectory(atPath: root + "/db/killed", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/db/starting", withIntermediateDirectories: true)
        age(root + "/db/killed", by: 2 * 86_400)

        #expect(try store.sweepIncompleteUploads(prefix: "", olderThan: .seconds(86_400)) == 0)
        #expect(!isDirectory(root + "/db/killed"))
        #expect(isDirectory(root + "/db/starting"), "a directory made a moment ago may be a running upload's")
        #expect(try store.list(prefix: "").map(\.key) == ["db/kept/archive"])
    }
}
