import Foundation
import Testing

/// Threads share state through one kit in CellarSupport: `Locked`,
/// `BoundedQueue`, `SignalTrap` (and `WorkerPool` to run them). Before it,
/// eighteen `@unchecked Sendable` types each carried a lock of their own and
/// export and restore each had a hand-written bounded queue. This reads the
/// sources and fails, naming the file and line, when one comes back: an
/// `@unchecked Sendable` type not on the list below or without a comment
/// saying why, a lock or semaphore outside the kit (and PostgresClient's two
/// documented ones), a `nonisolated(unsafe)` global not listed, or a queue
/// of its own.
@Suite("One concurrency kit")
struct ConcurrencyKitGuardTests {
    struct SourceFile {
        var path: String
        var lines: [String]
    }

    /// Every Swift file under Sources/, by its path below Sources/.
    static func sources() throws -> [SourceFile] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
        guard let walker = FileManager.default.enumerator(atPath: root.path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: root.path])
        }
        var files: [SourceFile] = []
        for case let relative as String in walker where relative.hasSuffix(".swift") {
            let text = try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
            files.append(SourceFile(path: relative, lines: text.components(separatedBy: "\n")))
        }
        return files.sorted { $0.path < $1.path }
    }

    /// A line without its `//` comment.
    static func code(_ line: String) -> String {
        line.components(separatedBy: "//")[0]
    }

    static func isComment(_ line: String) -> Bool {
        line.trimmingCharacters(in: .whitespaces).hasPrefix("//")
    }

    /// The comment lines right above line `index` and right after it (the
    /// first lines of the body it opens), joined.
    static func adjacentComments(_ lines: [String], at index: Int) -> String {
        var comments: [String] = []
        var above = index - 1
        while above >= 0, isComment(lines[above]) { comments.insert(lines[above], at: 0); above -= 1 }
        var below = index + 1
        while below < lines.count, isComment(lines[below]) { comments.append(lines[below]); below += 1 }
        if lines[index].contains("//") { comments.append(lines[index]) }
        return comments.map { $0.trimmingCharacters(in: .whitespaces).drop { $0 == "/" }.trimmingCharacters(in: .whitespaces) }
            .joined(separator: " ")
    }

    // MARK: - @unchecked Sendable

    /// The types that may be `@unchecked Sendable`, and where. Each holds a C
    /// handle one thread at a time uses, or is the kit itself; its comment
    /// says which. A new one belongs here only if `Locked` cannot do.
    static let uncheckedSendable: [String: String] = [
        "Locked": "CellarSupport/Threads/Locked.swift",
        "FileDescriptorInput": "CellarSupport/IO/RandomAccessSource.swift",
        "ArchiveReader": "Cellar/Archive/ArchiveReader.swift",
        "UncheckedConnection": "Cellar/Export/DataPhase.swift",
        "RestoreSessions": "Cellar/Restore/RestoreScheduler.swift",
        "RestoreRun": "Cellar/Restore/Restorer.swift",
        "StreamHandoff": "Cellar/Restore/Restorer.swift",
        "OfflineHandle": "PostgresClient/SQLQuoting.swift",
        "UnverifiedServerWarning": "PostgresClient/ConnectionTarget+TLS.swift",
    ]

    struct Declaration: Equatable {
        var type: String
        var path: String
        var line: Int
        var text: String
        var comment: String

        var location: String { "\(path):\(line): \(text.trimmingCharacters(in: .whitespaces))" }
    }

    /// Every declaration that conforms a type to `@unchecked Sendable`.
    static func uncheckedDeclarations(in files: [SourceFile]) throws -> [Declaration] {
        let declaration = try NSRegularExpression(pattern: #"\b(?:class|struct|enum|actor|extension)\s+(\w+)\b[^{]*@unchecked\s+Sendable"#)
        var found: [Declaration] = []
        for file in files {
            for (index, line) in file.lines.enumerated() where code(line).contains("@unchecked") {
                let text = code(line)
                let match = declaration.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
                let type = match.map { String(text[Range($0.range(at: 1), in: text)!]) } ?? "?"
                found.append(Declaration(type: type, path: file.path, line: index + 1, text: line,
                                         comment: adjacentComments(file.lines, at: index)))
            }
        }
        return found
    }

    /// Whether a comment says why: `@unchecked Sendable:` and a reason of a few words.
    static func justifies(_ comment: String) -> Bool {
        guard let range = comment.range(of: #"`?@unchecked Sendable`?:"#, options: .regularExpression) else { return false }
        return comment[range.upperBound...].split(separator: " ").count >= 6
    }

    @Test("the sources are there to read")
    func sourcesFound() throws {
        let files = try Self.sources()
        #expect(files.contains { $0.path == "CellarSupport/Threads/Locked.swift" }, "the test reads the wrong folder")
        #expect(files.contains { $0.path == "PostgresClient/SQLQuoting.swift" })
    }

    @Test("every @unchecked Sendable type is on the list, where the list says")
    func uncheckedSendableListed() throws {
        let found = try Self.uncheckedDeclarations(in: try Self.sources())
        let strays = found.filter { Self.uncheckedSendable[$0.type] != $0.path }
        #expect(strays.isEmpty, """
            keep shared state in CellarSupport's Locked (then the type is Sendable as the compiler checks it), \
            or add the type to ConcurrencyKitGuardTests.uncheckedSendable with a comment saying why:
            \(strays.map(\.location).joined(separator: "\n"))
            """)
        let declared = Set(found.map(\.type))
        let gone = Self.uncheckedSendable.keys.filter { !declared.contains($0) }.sorted()
        #expect(gone.isEmpty, "no longer @unchecked Sendable, take them off the list: \(gone)")
    }

    @Test("every @unchecked Sendable says why, on or next to its declaration")
    func uncheckedSendableJustified() throws {
        let found = try Self.uncheckedDeclarations(in: try Self.sources())
        let silent = found.filter { !Self.justifies($0.comment) }
        #expect(silent.isEmpty, """
            say why the compiler's check cannot see it is safe, in a comment above or at the top of the body \
            starting "@unchecked Sendable:":
            \(silent.map(\.location).joined(separator: "\n"))
            """)
    }

    /// Globals that opt out of the compiler's checks (`nonisolated(unsafe)`),
    /// and where: a signal handler cannot take a lock.
    static let nonisolatedUnsafe: Set<String> = [
        "CellarSupport/Threads/SignalTrap.swift nonisolated(unsafe) private static var writeEnd: Int32 = -1",
    ]

    @Test("nonisolated(unsafe) only where listed, each with a comment above")
    func nonisolatedUnsafeListed() throws {
        var strays: [String] = []
        for file in try Self.sources() {
            for (index, line) in file.lines.enumerated() where Self.code(line).contains("nonisolated(unsafe)") {
                let listed = Self.nonisolatedUnsafe.contains("\(file.path) \(line.trimmingCharacters(in: .whitespaces))")
                if !listed || !Self.isComment(file.lines[max(index - 1, 0)]) {
                    strays.append("\(file.path):\(index + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(strays.isEmpty, "keep the value in CellarSupport's Locked, or list it here with a comment saying why:\n\(strays.joined(separator: "\n"))")
    }

    // MARK: - Locks

    /// Locks, conditions and semaphores by name.
    static let lockPattern = #"\b(NSLock|NSRecursiveLock|NSCondition|NSConditionLock|NSDistributedLock|pthread_mutex_\w+|pthread_cond_\w+|pthread_rwlock_\w+|pthread_spin_\w+|os_unfair_lock\w*|OSAllocatedUnfairLock|Mutex|DispatchSemaphore|DispatchGroup|sem_init|sem_open|sem_wait|sem_post|objc_sync_enter)\b"#

    /// Where one may be named, and which: the kit's own, and PostgresClient's
    /// two (it depends on no other target of the package, so not on Locked).
    static let allowedLocks: Set<String> = [
        "CellarSupport/Threads/Locked.swift NSCondition",           // Locked itself
        "CellarSupport/Threads/WorkerPool.swift DispatchSemaphore", // waits for the pool's threads
        "PostgresClient/SQLQuoting.swift NSLock",                   // the offline quoting handle
        "PostgresClient/ConnectionTarget+TLS.swift NSLock",         // UnverifiedServerWarning
    ]

    /// `path:line: text` of each lock named in code outside `allowedLocks`
    /// (each allowed one once).
    static func strayLocks(in files: [SourceFile]) throws -> [String] {
        let regex = try NSRegularExpression(pattern: lockPattern)
        var found: [String] = []
        var used: Set<String> = []
        for file in files {
            for (index, line) in file.lines.enumerated() {
                let text = code(line)
                for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    let key = "\(file.path) \(text[Range(match.range, in: text)!])"
                    if allowedLocks.contains(key), used.insert(key).inserted { continue }
                    found.append("\(file.path):\(index + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        return found
    }

    @Test("no lock, condition or semaphore outside Locked, WorkerPool and PostgresClient's two")
    func noStrayLocks() throws {
        let found = try Self.strayLocks(in: try Self.sources())
        #expect(found.isEmpty, "use CellarSupport's Locked (withLock, withLock(when:), waitForValue) instead:\n\(found.joined(separator: "\n"))")
    }

    // MARK: - Queues

    /// `path:line: text` of a queue type declared outside the kit, or of a
    /// wait for an element count (a producer waiting for room) outside
    /// BoundedQueue.
    static func handWrittenQueues(in files: [SourceFile]) throws -> [String] {
        let queueType = try NSRegularExpression(pattern: #"\b(?:class|struct|enum|actor)\s+\w*Queue\b"#)
        let wait = try NSRegularExpression(pattern: #"\b(?:withLock\(\s*when:|waitForValue\()"#)
        // `items.count < limit`, `limit > items.count`, a capacity: waiting for room.
        // (`finished == items.count`, all done, is no bound.)
        let bound = try NSRegularExpression(pattern: #"\.count\s*<|>=?\s*[\w.$]*\.count\b|\bcapacity\b"#)
        var found: [String] = []
        for file in files {
            for (index, line) in file.lines.enumerated() {
                let text = code(line)
                let range = NSRange(text.startIndex..., in: text)
                if !file.path.hasPrefix("CellarSupport/Threads/"), queueType.firstMatch(in: text, range: range) != nil {
                    found.append("\(file.path):\(index + 1): \(line.trimmingCharacters(in: .whitespaces))")
                    continue
                }
                guard file.path != "CellarSupport/Threads/BoundedQueue.swift", wait.firstMatch(in: text, range: range) != nil else { continue }
                // The condition may continue on the next lines of the call.
                let condition = file.lines[index..<min(index + 3, file.lines.count)].map(code).joined(separator: " ")
                if bound.firstMatch(in: condition, range: NSRange(condition.startIndex..., in: condition)) != nil {
                    found.append("\(file.path):\(index + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        return found
    }

    @Test("no hand-written bounded queue: BoundedQueue is the one")
    func noHandWrittenQueues() throws {
        let found = try Self.handWrittenQueues(in: try Self.sources())
        #expect(found.isEmpty, "use CellarSupport's BoundedQueue (put blocks while full; close and fail wake every side):\n\(found.joined(separator: "\n"))")
    }

    // MARK: - The guards catch what they guard against

    @Test("each guard names the file and line of what it is there to catch")
    func guardsFire() throws {
        let sample = SourceFile(path: "Cellar/Export/Sample.swift", lines: [
            "/// A cache.",
            "final class Cache: @unchecked Sendable {",
            "    private let lock = NSLock()",
            "}",
            "final class ChunkQueue<T> {",
            "    func put(_ t: T) { state.withLock(when: { $0.items.count < 4 }) { $0.items.append(t) } }",
            "func next() -> Int? { state.waitForValue { $0.finished == $0.items.count ? -1 : $0.ready.popLast() } }",
            "}",
            "// @unchecked Sendable: only the owner's thread uses the handle, the others wait for it.",
            "final class Allowed: @unchecked Sendable {}",
            "let semaphore = DispatchSemaphore(value: 0) // NSCondition in a comment is fine",
        ])
        let declarations = try Self.uncheckedDeclarations(in: [sample])
        #expect(declarations.map(\.type) == ["Cache", "Allowed"])
        #expect(declarations.map { Self.justifies($0.comment) } == [false, true])
        #expect(declarations.first?.location == "Cellar/Export/Sample.swift:2: final class Cache: @unchecked Sendable {")
        #expect(try Self.strayLocks(in: [sample]) == [
            "Cellar/Export/Sample.swift:3: private let lock = NSLock()",
            "Cellar/Export/Sample.swift:11: let semaphore = DispatchSemaphore(value: 0) // NSCondition in a comment is fine",
        ])
        #expect(try Self.handWrittenQueues(in: [sample]) == [
            "Cellar/Export/Sample.swift:5: final class ChunkQueue<T> {",
            "Cellar/Export/Sample.swift:6: func put(_ t: T) { state.withLock(when: { $0.items.count < 4 }) { $0.items.append(t) } }",
        ])
        // A second lock in a file allowed one is a stray.
        let twice = SourceFile(path: "PostgresClient/SQLQuoting.swift", lines: ["let lock = NSLock()", "let other = NSLock()"])
        #expect(try Self.strayLocks(in: [twice]) == ["PostgresClient/SQLQuoting.swift:2: let other = NSLock()"])
    }
}
