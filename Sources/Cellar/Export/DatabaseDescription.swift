import Foundation
import PostgresClient

/// The exported database's own properties, for the archive's header: what
/// `restore --create` needs to make a database like it.
///
/// Settings and privileges are recorded as typed values (`settingValues`,
/// `privileges`); a restore renders its statements from those. The
/// ready-made `settings` and `grants` statements are still written, for
/// readers of the first header layout, but rendered the same safe way.
enum DatabaseDescription {
    static func read(_ connection: Connection) throws -> ArchiveHeader.Database {
        let version = connection.serverVersionNumber
        let locale = version >= 170000 ? "d.datlocprovider::text AS provider, d.datlocale AS iculocale"
            : version >= 150000 ? "d.datlocprovider::text AS provider, d.daticulocale AS iculocale"
            : "'c' AS provider, NULL::text AS iculocale"
        let sql = CatalogQueries.database.replacingOccurrences(of: "d.datconnlimit,", with: "d.datconnlimit, \(locale),")
        guard let row = try connection.query(sql).first else {
            throw ClientError("cannot read the current database's entry in pg_database")
        }
        let privileges: [ArchiveHeader.Privilege]? = try row.optionalString("acl").map {
            try JSONDecoder().decode([PrivilegeRow].self, from: Data($0.utf8)).map {
                .init(grantor: $0.grantor, grantee: $0.grantee, privilege: $0.privilege, grantable: $0.grantable)
            }
        }
        let name = try row.string("datname")
        let owner = try row.string("owner")
        let settings = try readSettings(connection)
        return ArchiveHeader.Database(
            name: name, owner: owner, encoding: try row.string("encoding"),
            collate: try row.string("datcollate"), ctype: try row.string("datctype"),
            localeProvider: try row.string("provider"), iculocale: try row.optionalString("iculocale"),
            connectionLimit: try row.int("datconnlimit"), comment: try row.optionalString("comment"),
            privileges: privileges,
            settingValues: settings.map { .init(role: $0.role, name: $0.name, value: $0.value) },
            settings: legacySettingStatements(settings, database: name),
            grants: try legacyGrantStatements(privileges, database: name, owner: owner),
            tablespace: try row.optionalString("tablespace"))
    }

    /// The database's stored settings, for everyone and per role, in
    /// `pg_db_role_setting` order within each role.
    static func readSettings(_ connection: Connection) throws -> [SettingValue] {
        struct SettingRow: Decodable { var role: String?; var config: [String] }
        return try decodeRows(connection, CatalogQueries.databaseSettings, as: SettingRow.self).flatMap { row in
            row.config.compactMap { SettingValue(role: row.role, configItem: $0) }
        }
    }

    /// The settings as statements naming the source database, with a
    /// semicolon each (the first header layout's `settings`). A value that
    /// pg_dump's rendering cannot state is left out: the typed values hold it.
    static func legacySettingStatements(_ settings: [SettingValue], database: String) -> [String] {
        settings.compactMap { try? $0.statement(database: database) + ";" }
    }

    /// The privileges as statements naming the source database (the first
    /// header layout's `grants`); empty for the default ACL.
    static func legacyGrantStatements(_ privileges: [ArchiveHeader.Privilege]?, database: String, owner: String) throws -> [String] {
        guard let privileges else { return [] }
        return try DatabaseGrants.statements(privileges: privileges, database: database, sourceOwner: owner, owner: .role(owner))
            .map { $0 + ";" }
    }
}
