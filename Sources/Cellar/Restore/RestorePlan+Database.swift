import Foundation
import Logging
import PostgresClient

extension RestorePlan {
    /// One step in finishing a database that `--create` made.
    enum DatabaseStep: Sendable, Equatable {
        /// A statement built from the header's typed values.
        case statement(String, object: String)
        /// A setting of a list variable (`search_path`, ...). pg_dump's
        /// rendering (`statement`; nil where it has none) restates the
        /// items, and the server stores them quoted its own way; where that
        /// is not the text the source stored (a value set `FROM CURRENT`),
        /// the text is replayed exactly: `set_config` with the value bound
        /// as a parameter, then `SET ... FROM CURRENT`.
        case listSetting(SettingValue, database: String, statement: String?)
    }

    /// The database's own settings, privileges and comment for a database
    /// that `--create` made under `name`, rendered from the header's typed
    /// values (never from its ready-made statements); run once the restore
    /// has succeeded (a setting such as `default_transaction_read_only` must
    /// not get in the restore's way).
    ///
    /// - Throws: `DatabaseGrants.UnknownPrivilege` for a damaged ACL;
    ///   `ClientError` for a name libpq cannot quote.
    func databaseSteps(name: String) throws -> [DatabaseStep] {
        let database = header.database
        let object = "DATABASE \(name)"
        var steps: [DatabaseStep] = []
        for setting in database.settingValues.map(SettingValue.init) {
            if setting.isList {
                let statement: String?
                do {
                    statement = try setting.statement(database: name)
                } catch is SettingValue.Unrenderable {
                    statement = nil
                }
                steps.append(.listSetting(setting, database: name, statement: statement))
            } else {
                steps.append(.statement(try setting.statement(database: name), object: "\(object) setting \(setting.displayName)"))
            }
        }
        if !options.noPrivileges, let privileges = database.privileges {
            let owner: RoleSpec = options.owner.map { .role($0) } ?? (options.noOwner ? .currentUser : .role(database.owner))
            steps += try DatabaseGrants.statements(privileges: privileges, database: name, sourceOwner: database.owner, owner: owner)
                .map { .statement($0, object: "\(object) privileges") }
        }
        if let comment = database.comment {
            steps.append(.statement("COMMENT ON DATABASE \(try SQLQuoting.identifier(name)) IS \(try SQLQuoting.literal(comment))",
                                    object: "\(object) comment"))
        }
        return steps
    }
}

extension RestorePlan.DatabaseStep {
    /// Runs the step on a connection to the maintenance database.
    ///
    /// - Throws: ``RestoreError`` naming the database, the setting and the statement.
    func run(on connection: Connection, logger: Logger) throws {
        switch self {
        case .statement(let sql, let object):
            do {
                try connection.execute(sql)
            } catch {
                throw RestoreError.wrapping(error, object: object, statement: sql)
            }
        case .listSetting(let setting, let database, let statement):
            let object = "DATABASE \(database) setting \(setting.displayName)"
            if let statement, try Self.serverStores(setting, on: connection) {
                do {
                    try connection.execute(statement)
                } catch {
                    throw RestoreError.wrapping(error, object: object, statement: statement)
                }
                return
            }
            let alter = try setting.fromCurrentStatement(database: database)
            logger.debug("setting \(setting.displayName) of database \(database): replaying the stored text exactly")
            do {
                try connection.transaction {
                    try connection.execute("SELECT pg_catalog.set_config($1, $2, true)", [setting.name, setting.value])
                    try connection.execute(alter)
                }
            } catch {
                throw RestoreError.wrapping(error, object: object, statement: alter)
            }
        }
    }

    /// Whether `ALTER ... SET name TO 'item', ...` stores exactly the text
    /// the source stored: the server quotes each item with `quote_ident`
    /// and joins them with ", " (`flatten_set_variable_args`).
    private static func serverStores(_ setting: SettingValue, on connection: Connection) throws -> Bool {
        guard let items = SettingValue.splitList(setting.value), !items.isEmpty else { return false }
        let restated = try connection.query("""
            SELECT pg_catalog.string_agg(pg_catalog.quote_ident(item), ', ' ORDER BY n) AS value
              FROM pg_catalog.unnest($1::text[]) WITH ORDINALITY AS t(item, n)
            """, [textArrayParameter(items)]).first?["value"]
        return restated == setting.value
    }
}
