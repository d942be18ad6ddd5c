// Column and storage details that pg_dump 15 writes with their relation,
// index or sequence: column compression, TOAST storage parameters, unlogged
// sequences, statistics targets of index columns and the enable state of
// cloned partition triggers.

extension CatalogQueries {
    /// Columns with a compression method of their own (`attcompression`).
    static let columnCompression = jsonRows("""
        SELECT a.attrelid::int8 AS "relationOid", pg_catalog.quote_ident(a.attname) AS qname,
               CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END AS method
        FROM pg_catalog.pg_attribute a
        JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE a.attcompression IN ('p', 'l') AND a.attnum > 0 AND NOT a.attisdropped
          AND c.relkind IN ('r', 'p', 'm', 'f') AND \(userSchema("n"))
        ORDER BY a.attrelid, a.attnum
        """)

    /// Storage parameters set on relations' TOAST tables.
    static let toastOptions = jsonRows("""
        SELECT c.oid::int8 AS "relationOid", t.reloptions AS options
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE t.reloptions IS NOT NULL AND c.relkind IN ('r', 'p', 'm') AND \(userSchema("n"))
        """)

    static let unloggedSequences = jsonRows("""
        SELECT c.oid::int8 AS oid, \(qualified("n.nspname", "c.relname")) AS qname
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'S' AND c.relpersistence = 'u' AND \(userSchema("n"))
        """)

    /// Index columns (expressions) with a statistics target, by column number.
    static let indexStatistics = jsonRows("""
        SELECT a.attrelid::int8 AS "indexOid", \(qualified("n.nspname", "c.relname")) AS qname, a.attnum AS num, a.attstattarget AS target
        FROM pg_catalog.pg_attribute a
        JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('i', 'I') AND a.attnum > 0 AND a.attstattarget >= 0 AND \(userSchema("n"))
        ORDER BY a.attrelid, a.attnum
        """)

    /// Triggers cloned onto partitions whose enable state differs from the
    /// parent trigger's (pg_dump 15 writes only those, as ALTER ... TRIGGER).
    static let partitionTriggerStates = jsonRows("""
        SELECT t.oid::int8 AS oid, t.tgparentid::int8 AS "parentOid", pg_catalog.quote_ident(t.tgname) AS qname, t.tgname AS name,
               t.tgrelid::int8 AS "tableOid", \(qualified("n.nspname", "c.relname")) AS "table", n.nspname AS schema,
               c.relname AS "tableName", c.relkind AS "tableKind", t.tgenabled AS enabled
        FROM pg_catalog.pg_trigger t
        JOIN pg_catalog.pg_trigger u ON u.oid = t.tgparentid
        JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE t.tgenabled <> u.tgenabled AND \(userSchema("n"))
        ORDER BY t.tgrelid, t.tgname
        """)
}
