// What pg_dump 15 writes about objects that belong to extensions: the rows of
// their configuration tables (pg_extension_config_dump).

extension CatalogQueries {
    /// Each extension's configuration tables with the condition that picks
    /// the rows to export (`extcondition`: "" or "WHERE ...", written by the
    /// extension's script) and the stored columns COPY names.
    static let extensionConfigurationData = jsonRows("""
        SELECT e.oid::int8 AS "extensionOid", e.extname AS "extensionName", c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name,
               \(qualified("n.nspname", "c.relname")) AS qname, pg_catalog.pg_get_userbyid(c.relowner) AS owner,
               coalesce(cfg.condition, '') AS condition, pg_catalog.pg_relation_size(c.oid) AS "estimatedBytes",
               (SELECT json_agg(pg_catalog.quote_ident(a.attname) ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns
        FROM pg_catalog.pg_extension e
        CROSS JOIN LATERAL unnest(e.extconfig, e.extcondition) AS cfg(reloid, condition)
        JOIN pg_catalog.pg_class c ON c.oid = cfg.reloid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r'
        ORDER BY n.nspname, c.relname
        """)
}
