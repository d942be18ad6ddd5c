extension CatalogQueries {
    static let publications = jsonRows("""
        SELECT p.oid::int8 AS oid, p.pubname AS name, pg_catalog.quote_ident(p.pubname) AS qname,
               pg_catalog.pg_get_userbyid(p.pubowner) AS owner, p.puballtables AS "allTables",
               p.pubinsert AS insert, p.pubupdate AS update, p.pubdelete AS delete, p.pubtruncate AS truncate,
               p.pubviaroot AS "viaRoot"
        FROM pg_catalog.pg_publication p
        ORDER BY p.pubname
        """)

    /// Tables of publications, with the row filter and the column list.
    static let publicationTables = jsonRows("""
        SELECT pr.oid::int8 AS oid, pr.prpubid::int8 AS "publicationOid", pr.prrelid::int8 AS "tableOid",
               \(qualified("n.nspname", "c.relname")) AS "table", n.nspname AS schema, c.relname AS "tableName",
               pg_catalog.pg_get_expr(pr.prqual, pr.prrelid) AS "rowFilter",
               (SELECT json_agg(pg_catalog.quote_ident(a.attname) ORDER BY k.ord)
                  FROM pg_catalog.unnest(pr.prattrs::pg_catalog.int2[]) WITH ORDINALITY AS k(num, ord)
                  JOIN pg_catalog.pg_attribute a ON a.attrelid = pr.prrelid AND a.attnum = k.num) AS columns
        FROM pg_catalog.pg_publication_rel pr
        JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        ORDER BY pr.prpubid, n.nspname, c.relname
        """)

    static let publicationSchemas = jsonRows("""
        SELECT pn.oid::int8 AS oid, pn.pnpubid::int8 AS "publicationOid", pn.pnnspid::int8 AS "schemaOid",
               n.nspname AS schema, pg_catalog.quote_ident(n.nspname) AS qschema
        FROM pg_catalog.pg_publication_namespace pn JOIN pg_catalog.pg_namespace n ON n.oid = pn.pnnspid
        ORDER BY pn.pnpubid, n.nspname
        """)

    /// Subscriptions of this database. Readable only by a superuser (the
    /// connection string may hold a password). Options that differ between
    /// releases are read through to_jsonb.
    static let subscriptions = jsonRows("""
        SELECT s.oid::int8 AS oid, s.subname AS name, pg_catalog.quote_ident(s.subname) AS qname,
               pg_catalog.pg_get_userbyid(s.subowner) AS owner, s.subconninfo AS conninfo, s.subslotname AS "slotName",
               (SELECT json_agg(pg_catalog.quote_ident(x) ORDER BY o) FROM pg_catalog.unnest(s.subpublications) WITH ORDINALITY AS u(x, o)) AS publications, s.subsynccommit AS "synchronousCommit",
               pg_catalog.quote_ident(s.subsynccommit) AS "synchronousCommitQ",
               pg_catalog.to_jsonb(s) ->> 'subbinary' AS binary, pg_catalog.to_jsonb(s) ->> 'substream' AS stream,
               pg_catalog.to_jsonb(s) ->> 'subtwophasestate' AS "twoPhase",
               pg_catalog.to_jsonb(s) ->> 'subdisableonerr' AS "disableOnError"
        FROM pg_catalog.pg_subscription s JOIN pg_catalog.pg_database d ON d.oid = s.subdbid
        WHERE d.datname = pg_catalog.current_database()
        ORDER BY s.subname
        """)
}
