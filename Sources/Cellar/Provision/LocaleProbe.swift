import Foundation
import PostgresClient

/// Finds out, before `CREATE DATABASE`, whether the server can use a locale.
public enum LocaleProbe {
    /// Returns the spelling of `locale` the server accepts.
    ///
    /// The probe creates a temporary collation inside a transaction that is
    /// always rolled back: PostgreSQL loads the locale through the C library
    /// to create it, exactly as CREATE DATABASE would, and nothing remains.
    ///
    /// - Throws: `ProvisionError` naming the locale and the ways out.
    public static func findUsableSpelling(of locale: String, on connection: Connection, encoding: String) throws -> String {
        if locale == "C" || locale == "POSIX" { return locale }
        var lastReason = ""
        for spelling in LocaleName.variants(locale) {
            do {
                try connection.transaction {
                    try connection.execute("CREATE COLLATION pg_temp.pgcellar_locale_probe (LOCALE = \(try connection.escapeLiteral(spelling)))")
                    throw ProbeDone()
                }
            } catch is ProbeDone {
                return spelling
            } catch let error as PostgresError where error.code == .insufficientPrivilege {
                // No TEMP on the maintenance database: fall back on the collations
                // initdb imported from the operating system.
                let known = try connection.query(
                    "SELECT 1 FROM pg_collation WHERE collcollate = ANY($1::text[]) LIMIT 1",
                    [textArrayParameter(LocaleName.variants(locale))]).rowCount > 0
                if known { return locale }
                lastReason = "pg_collation has no collation for it"
                break
            } catch let error as PostgresError {
                lastReason = error.message
            }
        }
        throw ProvisionError(problems: [
            "the server cannot use locale \(locale) (\(lastReason)); nothing was created. Ways out: install the locale on the database server (Debian: locales-all, or enable it in /etc/locale.gen and run locale-gen, then restart PostgreSQL), choose C.UTF-8 in database.locale, or use an ICU locale"
        ])
    }

    private struct ProbeDone: Error {}
}
