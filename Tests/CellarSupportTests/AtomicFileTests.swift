import CellarSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `body` with the process umask set to `mask`.
///
/// The umask is process-wide; the suite is serialized so that its own tests
/// do not see each other's, and the window is kept short.
private func withUmask<R>(_ mask: mode_t, _ body: () throws -> R) rethrows -> R {
    let previous = umask(mask)
    defer { umask(previous) }
    return try body()
}

@Suite("atomic files", .serialized)
struct AtomicFileTests {
    @Test("a new file gets mode 0600 even with a permissive umask, and its content")
    func modeAndContent() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/app.secret.yaml"
            let content = Array("apiVersion: v1\nkind: Secret\n".utf8)
            try withUmask(0) { try AtomicFile.write(content, to: path) }
            #expect(try permissions(of: path) == 0o600)
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == content)
            #expect(try directoryListing(directory) == ["app.secret.yaml"])
        }
    }

    @Test("the requested mode is applied exactly, whatever the umask")
    func exactMode() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/public.txt"
            try withUmask(0o077) { try AtomicFile.write("hello", to: path, mode: 0o644) }
            #expect(try permissions(of: path) == 0o644)
        }
    }

    @Test("overwriting a 0644 file leaves a 0600 file with the new content")
    func overwriteKeepsOwnerOnly() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/app.secret.yaml"
            _ = FileManager.default.createFile(
                atPath: path, contents: Data("old".utf8), attributes: [.posixPermissions: 0o644])
            #expect(try permissions(of: path) == 0o644)
            try withUmask(0o022) { try AtomicFile.write(Data("new".utf8), to: path) }
            #expect(try permissions(of: path) == 0o600)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
            #expect(try directoryListing(directory) == ["app.secret.yaml"])
        }
    }

    @Test("when the target is a directory, the write fails and leaves no temporary file")
    func targetIsDirectory() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/taken"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            let error = try #require(throws: FileError.self) { try AtomicFile.write("x", to: path) }
            #expect(error.path == path)
            #expect(error.errorNumber == EISDIR)
            #expect(error.description.contains(path))
            #expect(error.description.contains(String(cString: strerror(EISDIR))))
            #expect(try directoryListing(directory) == ["taken"])
        }
    }

    @Test("when the directory does not exist, the error says so")
    func missingDirectory() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/missing/app.yaml"
            let error = try #require(throws: FileError.self) { try AtomicFile.write("x", to: path) }
            #expect(error.errorNumber == ENOENT)
            #expect(error.description.contains("does not exist"))
            #expect(try directoryListing(directory) == [])
        }
    }

    @Test(
        "when the directory is not writable, nothing is left behind",
        .enabled(if: geteuid() != 0, "root writes to read-only directories")
    )
    func readOnlyDirectory() throws {
        try withTemporaryDirectory { directory in
            let locked = directory + "/locked"
            try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
            chmod(locked, 0o500)
            defer { chmod(locked, 0o700) }
            let error = try #require(throws: FileError.self) { try AtomicFile.write("x", to: locked + "/app.yaml") }
            #expect(error.errorNumber == EACCES)
            #expect(try directoryListing(locked) == [])
        }
    }

    @Test("a failed rename leaves the old file untouched and no temporary file")
    func failedWriteKeepsOldFile() throws {
        try withTemporaryDirectory { directory in
            // A non-empty directory cannot be replaced by a file.
            let path = directory + "/full"
            try FileManager.default.createDirectory(atPath: path + "/inside", withIntermediateDirectories: true)
            let writer = try AtomicFileWriter(path: path)
            try writer.write(Array(repeating: 1, count: 1_000_000) as [UInt8])
            #expect(try directoryListing(directory).count == 2)
            #expect(throws: FileError.self) { try writer.commit() }
            #expect(!writer.isOpen)
            #expect(try directoryListing(directory) == ["full"])
        }
    }

    @Test("the streaming writer commits large output in many pieces")
    func streamingWriter() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/export.sql.zst"
            let content = mixedBytes(3_000_000, seed: 40)
            let writer = try AtomicFileWriter(path: path, bufferCapacity: 64 * 1024)
            for piece in unevenPieces(content, seed: 41, maximum: 150_000) {
                try writer.write(piece)
                // Nothing is visible under the target name before commit.
                #expect(!FileManager.default.fileExists(atPath: path))
            }
            #expect(writer.bytesWritten == UInt64(content.count))
            try writer.commit()
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == content)
            #expect(try permissions(of: path) == 0o600)
            #expect(try directoryListing(directory) == ["export.sql.zst"])
        }
    }

    @Test("abort, or forgetting the writer, removes the temporary file and keeps the old one")
    func abortAndDeinit() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/export.sql.zst"
            try AtomicFile.write("old", to: path)

            let aborted = try AtomicFileWriter(path: path)
            try aborted.write(Array("new".utf8))
            #expect(try directoryListing(directory).count == 2)
            aborted.abort()
            aborted.abort()
            #expect(try directoryListing(directory) == ["export.sql.zst"])

            do {
                let forgotten = try AtomicFileWriter(path: path)
                try forgotten.write(Array("new".utf8))
            }
            #expect(try directoryListing(directory) == ["export.sql.zst"])
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        }
    }

    @Test("removeDurably removes the file, and complains when there is none")
    func removeDurably() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/gone"
            try AtomicFile.write("x", to: path)
            try AtomicFile.removeDurably(path: path)
            #expect(try directoryListing(directory) == [])
            let error = try #require(throws: FileError.self) { try AtomicFile.removeDurably(path: path) }
            #expect(error.errorNumber == ENOENT)
        }
    }

    @Test("a relative path is written in the current directory's terms")
    func relativePath() throws {
        try withTemporaryDirectory { directory in
            // Resolve relative to `directory` without changing the process's
            // working directory (other tests run concurrently).
            let path = directory + "/./nested/../file.txt"
            try FileManager.default.createDirectory(atPath: directory + "/nested", withIntermediateDirectories: false)
            try AtomicFile.write("x", to: path)
            #expect(try directoryListing(directory) == ["file.txt", "nested"])
        }
    }
}

@Suite("byte sinks and sources")
struct ByteStreamTests {
    @Test("FileDescriptorOutput writes everything to its descriptor")
    func descriptorOutput() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/out"
            let descriptor = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
            #expect(descriptor >= 0)
            let output = FileDescriptorOutput(fileDescriptor: descriptor, name: path, closeWhenDone: true)
            let content = randomBytes(1_000_000, seed: 42)
            for piece in unevenPieces(content, seed: 43) {
                try output.write(piece)
            }
            try output.synchronize()
            try output.close()
            #expect(output.bytesWritten == UInt64(content.count))
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == content)

            let input = try FileDescriptorInput(path: path)
            #expect(try input.size() == UInt64(content.count))
            #expect(try input.read(at: 1000, count: 10) == Array(content[1000..<1010]))
            #expect(throws: FileError.self) { try input.read(at: UInt64(content.count) - 5, count: 10) }
        }
    }

    @Test("errors name the file and the reason")
    func fileErrors() throws {
        let error = try #require(throws: FileError.self) { try FileDescriptorInput(path: "/nonexistent/export.sql.zst") }
        #expect(
            error.description
                == "cannot open for reading /nonexistent/export.sql.zst: No such file or directory (no such file; check the path)")
        // A missing file in a directory that exists is not "the directory does not exist".
        let missing = NSTemporaryDirectory() + "pgcellar-missing-\(UInt32.random(in: 0...UInt32.max)).pgcellar"
        let readError = try #require(throws: FileError.self) { try FileDescriptorInput(path: missing) }
        #expect(readError.description.hasSuffix("(no such file; check the path)"), "\(readError)")
        #expect(!readError.description.contains("does not exist"))
    }

    @Test("MemoryByteSink collects what is written")
    func memorySink() throws {
        let sink = MemoryByteSink()
        try sink.write([1, 2] as [UInt8])
        try sink.write(Data([3]))
        #expect(sink.bytes == [1, 2, 3])
    }
}
