import ArgumentParser
import CellarCommands
import Foundation
import Testing
@testable import Cellar

@Suite("destroy journal without a server")
struct DestroyJournalTests {
    let privileges: [ArchiveHeader.Privilege] = [
        .init(grantor: "shop_owner", grantee: "shop_owner", privilege: "CONNECT", grantable: false),
        .init(grantor: "shop_owner", grantee: "delegate", privilege: "CONNECT", grantable: true),
        .init(grantor: "delegate", grantee: "app \"x\"", privilege: "CONNECT", grantable: false),
    ]

    func journal(directory: String) -> DestroyJournal {
        DestroyJournal(database: "shop", databaseOID: 16_384, owner: "shop_owner", privileges: privileges,
                       effectivePrivileges: privileges, aclText: "{shop_owner=c/shop_owner}", allowConnections: true,
                       exportPath: directory + "/shop.sql.zst", startedAt: Date(timeIntervalSince1970: 1_800_000_000.7))
    }

    @Test("it sits beside the export as .<name>.destroy-journal")
    func path() {
        #expect(DestroyJournal.path(forExport: "/backups/shop.sql.zst") == "/backups/.shop.sql.zst.destroy-journal")
        #expect(DestroyJournal.path(forExport: "shop.sql.zst") == ".shop.sql.zst.destroy-journal")
    }

    @Test("written 0600 and read back the same, a default ACL as null")
    func roundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgc-dj-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var written = journal(directory: directory)
        written.connectionsDisallowedAt = Date(timeIntervalSince1970: 1_800_000_100)
        written.stage = .dropping
        let path = DestroyJournal.path(forExport: written.exportPath)
        try written.write(to: path)
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        #expect(try DestroyJournal.load(path: path) == written)

        var defaultACL = written
        defaultACL.privileges = nil
        defaultACL.aclText = nil
        try defaultACL.write(to: path)
        let read = try DestroyJournal.load(path: path)
        #expect(read?.privileges == nil)
        #expect(read == defaultACL)

        try DestroyJournal.remove(path: path)
        #expect(try DestroyJournal.load(path: path) == nil)
        try DestroyJournal.remove(path: path)
    }

    @Test("a file that is not a journal stops the run")
    func notAJournal() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgc-dj-\(UUID().uuidString)").path
        try Data("{\"format\": \"something else\"}".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: DestroyError.self) { try DestroyJournal.load(path: path) }
    }

    @Test("the message of a run that finds it offers --abort and --resume")
    func message() {
        let text = journal(directory: "/tmp").interruptedMessage(path: "/tmp/.shop.sql.zst.destroy-journal")
        #expect(text.contains("pgcellar destroy --abort") && text.contains("--yes --resume"))
        #expect(text.contains("/tmp/.shop.sql.zst.destroy-journal"))
    }

    @Test("a reopen revokes every current grantee, then grants the journaled items in order, each by its grantor")
    func reopenStatements() throws {
        let current: [ArchiveHeader.Privilege] = [
            .init(grantor: "shop_owner", grantee: nil, privilege: "TEMPORARY", grantable: false),
            .init(grantor: "shop_owner", grantee: "pgadmin", privilege: "CONNECT", grantable: false),
        ]
        let statements = try DatabaseGate.reopenStatements(journal(directory: "/tmp"), current: current, name: "shop", allowConnections: false)
        #expect(statements == [
            #"REVOKE ALL ON DATABASE "shop" FROM PUBLIC CASCADE"#,
            #"REVOKE ALL ON DATABASE "shop" FROM "pgadmin" CASCADE"#,
            #"REVOKE ALL ON DATABASE "shop" FROM PUBLIC"#,
            #"REVOKE ALL ON DATABASE "shop" FROM "shop_owner""#,
            #"GRANT CONNECT ON DATABASE "shop" TO "shop_owner""#,
            #"GRANT CONNECT ON DATABASE "shop" TO "delegate" WITH GRANT OPTION"#,
            #"SET ROLE "delegate""#, #"GRANT CONNECT ON DATABASE "shop" TO "app ""x""""#, "RESET ROLE",
            #"ALTER DATABASE "shop" ALLOW_CONNECTIONS true"#,
        ])
    }

    @Test("--abort does not combine with --yes, --resume needs --yes, and the room ratio is not negative")
    func options() {
        #expect(throws: (any Error).self) { try DestroyCommand.parse(["-c", "x.yaml", "--export-to", "e", "--abort", "--yes"]) }
        #expect(throws: (any Error).self) { try DestroyCommand.parse(["-c", "x.yaml", "--export-to", "e", "--resume"]) }
        #expect(throws: (any Error).self) { try DestroyCommand.parse(["-c", "x.yaml", "--export-to", "e", "--export-room-ratio", "-1"]) }
        #expect(throws: Never.self) { try DestroyCommand.parse(["-c", "x.yaml", "--export-to", "e", "--yes", "--resume"]) }
    }
}
