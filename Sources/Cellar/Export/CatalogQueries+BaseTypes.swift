// Catalog query for base types and shell (pseudo-) types, as pg_dump's
// dumpBaseType and dumpUndefinedType read them.

extension CatalogQueries {
    static let baseTypes = jsonRows("""
        SELECT t.oid::int8 AS oid, n.nspname AS schema, t.typname AS name, \(qualified("n.nspname", "t.typname")) AS qname,
               t.typtype AS kind, t.typisdefined AS defined, pg_catalog.pg_get_userbyid(t.typowner) AS owner, \(acl("t.typacl")) AS acl,
               t.typlen AS length, t.typinput::pg_catalog.regproc::text AS input, t.typoutput::pg_catalog.regproc::text AS output,
               CASE WHEN t.typreceive <> 0 THEN t.typreceive::pg_catalog.regproc::text END AS receive,
               CASE WHEN t.typsend <> 0 THEN t.typsend::pg_catalog.regproc::text END AS send,
               CASE WHEN t.typmodin <> 0 THEN t.typmodin::pg_catalog.regproc::text END AS typmodin,
               CASE WHEN t.typmodout <> 0 THEN t.typmodout::pg_catalog.regproc::text END AS typmodout,
               CASE WHEN t.typanalyze <> 0 THEN t.typanalyze::pg_catalog.regproc::text END AS analyze,
               CASE WHEN t.typsubscript <> 0 THEN t.typsubscript::pg_catalog.regproc::text END AS "subscriptHandler",
               t.typcollation <> 0 AS collatable, t.typdefault AS "defaultValue",
               CASE WHEN t.typelem <> 0 THEN pg_catalog.format_type(t.typelem, NULL) END AS element,
               t.typcategory AS category, t.typispreferred AS preferred, t.typdelim AS delimiter,
               t.typalign AS alignment, t.typstorage AS storage, t.typbyval AS byvalue
        FROM pg_catalog.pg_type t
        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE \(userSchema("n")) AND (t.typtype = 'b' OR (t.typtype = 'p' AND NOT t.typisdefined))
          AND NOT (t.typelem <> 0 AND t.typlen = -1 AND EXISTS (
                SELECT 1 FROM pg_catalog.pg_type et WHERE et.oid = t.typelem AND et.typarray = t.oid))
          AND \(notExtensionMember("pg_type", "t.oid"))
        ORDER BY n.nspname, t.typname
        """)
}
