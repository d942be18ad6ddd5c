extension CatalogQueries {
    /// Rules other than a view's `_RETURN`, which is the view itself.
    static let rules = jsonRows("""
        SELECT r.oid::int8 AS oid, r.rulename AS name, pg_catalog.quote_ident(r.rulename) AS qname,
               r.ev_class::int8 AS "tableOid", \(qualified("n.nspname", "c.relname")) AS "table",
               n.nspname AS schema, c.relname AS "tableName",
               pg_catalog.pg_get_ruledef(r.oid) AS definition, r.ev_enabled AS enabled
        FROM pg_catalog.pg_rewrite r
        JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE r.rulename <> '_RETURN' AND \(userSchema("n")) AND \(notExtensionMember("pg_class", "c.oid"))
        ORDER BY n.nspname, c.relname, r.rulename
        """)
}
