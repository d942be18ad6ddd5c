extension CatalogQueries {
    /// The ICU locale is read through to_jsonb: PostgreSQL 15 and 16 call its
    /// column colliculocale, 17 colllocale, and older releases have none.
    static let collations = jsonRows("""
        SELECT c.oid::int8 AS oid, n.nspname AS schema, c.collname AS name, \(qualified("n.nspname", "c.collname")) AS qname,
               pg_catalog.pg_get_userbyid(c.collowner) AS owner, c.collprovider AS provider,
               c.collisdeterministic AS deterministic, c.collcollate AS collate, c.collctype AS ctype,
               coalesce(pg_catalog.to_jsonb(c) ->> 'colliculocale', pg_catalog.to_jsonb(c) ->> 'colllocale') AS "iculocale"
        FROM pg_catalog.pg_collation c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
        WHERE \(userSchema("n")) AND \(notExtensionMember("pg_collation", "c.oid"))
        ORDER BY n.nspname, c.collname
        """)
}
