extension CatalogQueries {
    static let conversions = jsonRows("""
        SELECT c.oid::int8 AS oid, n.nspname AS schema, c.conname AS name, \(qualified("n.nspname", "c.conname")) AS qname,
               pg_catalog.pg_get_userbyid(c.conowner) AS owner,
               pg_catalog.pg_encoding_to_char(c.conforencoding) AS "from", pg_catalog.pg_encoding_to_char(c.contoencoding) AS "to",
               c.conproc::pg_catalog.regproc::text AS function, c.condefault AS "isDefault"
        FROM pg_catalog.pg_conversion c JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace
        WHERE \(userSchema("n")) AND \(notExtensionMember("pg_conversion", "c.oid"))
        ORDER BY n.nspname, c.conname
        """)
}
