import ArgumentParser
import CellarCommands
import Foundation
import Testing
@testable import Cellar

@Suite("rotation without a server")
struct RotationUnitTests {
    private let time = Date(timeIntervalSince1970: 1_795_953_600) // 2026-11-29T12:00:00Z

    private func journal(validUntil: Date? = nil) -> RotationJournal {
        RotationJournal(role: "beersystem_admin", database: "beersystem_stage", password: "pw-Secret~1",
                        verifier: "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy", rotatedAt: time.addingTimeInterval(0.7),
                        validUntil: validUntil)
    }

    @Test("the journal lives next to the Secret")
    func journalPath() {
        #expect(RotationJournal.path(forSecret: "deploy/a.secret.yaml") == "deploy/a.secret.yaml.pending")
    }

    @Test("the journal round-trips through its file, mode 0600, whole seconds", arguments: [nil, 30.0 * 86_400])
    func journalRoundTrip(validFor: TimeInterval?) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rot-unit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/sub/a.secret.yaml.pending"
        let written = journal(validUntil: validFor.map { time.addingTimeInterval($0) })
        try written.write(to: path)
        let read = try #require(try RotationJournal.load(path: path))
        #expect(read == written)
        #expect(read.rotatedAt == time)
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        #expect(try RotationJournal.load(path: directory + "/none") == nil)
    }

    @Test("the journal keeps the role's VALID UNTIL from before the rotation, for a rollback", arguments: [
        RoleExpiry(literal: "2031-02-03T04:05:06.789012Z"), RoleExpiry.never, nil,
    ])
    func journalKeepsPreviousExpiry(previous: RoleExpiry?) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rot-unit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var written = journal(validUntil: time.addingTimeInterval(86_400))
        written.previousValidUntil = previous
        try written.write(to: path)
        let read = try #require(try RotationJournal.load(path: path))
        #expect(read.previousValidUntil == previous)
        #expect(read == written)
        // A journal from before the key existed reads as not knowing it.
        #expect((String(data: try written.rendered(), encoding: .utf8)?.contains("previousValidUntil") ?? false) == (previous != nil))
        #expect(RoleExpiry(nil) == .never)
        #expect(RoleExpiry(time).literal == "2026-11-29T12:00:00Z")
    }

    @Test("a file that is not a journal stops the run instead of being guessed at")
    func journalGarbage() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rot-unit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "{\"format\": \"something-else\"}".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: RotationError.self) { try RotationJournal.load(path: path) }
        try "{\"format\": \"pgcellar-rotation-journal\", \"version\": 1, \"role\": \"r\"}".write(toFile: path, atomically: false, encoding: .utf8)
        let error = try #require(throws: RotationError.self) { try RotationJournal.load(path: path) }
        #expect(error.description.contains("no database"))
    }

    @Test("descriptions of a journal never show the password or the verifier")
    func journalRedacted() {
        let journal = journal()
        for text in [journal.description, journal.debugDescription, String(reflecting: journal), "\(journal)",
                     { var out = ""; dump(journal, to: &out); return out }()] {
            #expect(!text.contains("pw-Secret~1"))
            #expect(!text.contains("SCRAM-SHA-256$"))
        }
    }

    @Test("the audit line names who, which role, when and the result, quoting as logfmt does")
    func auditLine() {
        let actor = RotationActor(adminRole: "postgres", server: "127.0.0.1:5432", osUser: "cron", hostname: "pod-1")
        let rotated = RoleRotationResult(role: "beersystem_admin", outcome: .rotated, secretFile: "deploy/a.yaml",
                                         rotatedAt: time, validUntil: time.addingTimeInterval(86_400), message: "ok")
        #expect(rotated.auditLine(actor: actor, at: time) ==
            "audit: rotate role=beersystem_admin result=rotated at=2026-11-29T12:00:00Z by=postgres@127.0.0.1:5432 os_user=cron host=pod-1 secret=deploy/a.yaml rotated_at=2026-11-29T12:00:00Z valid_until=2026-11-30T12:00:00Z")

        let failed = RoleRotationResult(role: "we ird\"role", outcome: .failed, secretFile: "a b.yaml",
                                        restoredPrevious: true, message: "the new password did not log in")
        let line = failed.auditLine(actor: nil, at: time)
        #expect(line.contains(#"role="we ird\"role""#))
        #expect(line.contains(#"secret="a b.yaml""#))
        #expect(line.contains("restored_previous=true"))
        #expect(line.contains(#"reason="the new password did not log in""#))
    }

    @Test("the pause hook reads PGCELLAR_TEST_PAUSE_AT and ignores anything else")
    func pauseHook() {
        #expect(RotationPauseHook(environment: [:]).pauseAt == nil)
        #expect(RotationPauseHook(environment: ["PGCELLAR_TEST_PAUSE_AT": "after-alter"]).pauseAt == .afterAlter)
        #expect(RotationPauseHook(environment: ["PGCELLAR_TEST_PAUSE_AT": "nonsense"]).pauseAt == nil)
        // Not paused: returns at once.
        RotationPauseHook(pauseAt: .beforeAlter).reached(.afterAlter)
    }

    @Test("durations read back the way the user wrote them")
    func describeDurations() {
        #expect(Rotator.describe(30 * 86_400) == "30d")
        #expect(Rotator.describe(36 * 3_600) == "1.5d")
        #expect(Rotator.describe(7_200) == "2h")
        #expect(Rotator.describe(59) == "59s")
    }

    @Test("roles: all login roles by default, named ones on request, unknown names refused")
    func selectingRoles() throws {
        let secret = { (name: String) in SecretConfig(name: name, namespace: "ns", file: "\(name).yaml") }
        let config = PgcellarConfig(
            cluster: ClusterConfig(host: "db", user: "postgres"),
            database: DatabaseConfig(name: "app", owner: "owner"),
            roles: [
                RoleConfig(name: "owner", profile: .owner, secret: secret("owner")),
                RoleConfig(name: "group", login: false, profile: .readonly),
                RoleConfig(name: "app", profile: .readwrite, secret: secret("app")),
            ])
        let rotator = Rotator(config: config, adminDSN: nil, logger: .init(label: "test"))
        #expect(try rotator.selectedRoles(RotationOptions()).map(\.name) == ["owner", "app"])
        #expect(try rotator.selectedRoles(RotationOptions(roles: ["app", "app"])).map(\.name) == ["app"])
        #expect(throws: RotationError.self) { try rotator.selectedRoles(RotationOptions(roles: ["nobody"])) }
        #expect(throws: RotationError.self) { try rotator.selectedRoles(RotationOptions(roles: ["group"])) }
    }

    @Test("the command line: --print excludes --json and --dry-run; durations are checked before connecting")
    func commandLine() throws {
        _ = try RotateCommand.parse(["-c", "x.yaml", "--role", "a", "--role", "b", "--if-older-than", "30d", "--dry-run"])
        #expect(throws: (any Error).self) { try RotateCommand.parse(["-c", "x.yaml", "--print", "--json"]) }
        #expect(throws: (any Error).self) { try RotateCommand.parse(["-c", "x.yaml", "--print", "--dry-run"]) }
        #expect(throws: (any Error).self) { try RotateCommand.parse(["-c", "x.yaml", "--if-older-than", "30"]) }
        #expect(throws: (any Error).self) { try RotateCommand.parse(["-c", "x.yaml", "--admin-dsn", "host=x password=y"]) }
    }
}
