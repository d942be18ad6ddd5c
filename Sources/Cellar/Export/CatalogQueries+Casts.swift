// Catalog queries for casts and transforms: user objects outside schemas.

extension CatalogQueries {
    /// `schema.name(argument types)` of a function, as CREATE CAST and
    /// CREATE TRANSFORM name it (pg_dump's format_function_signature).
    static func functionSignature(_ oid: String) -> String {
        """
        (SELECT \(qualified("fn.nspname", "fp.proname")) || '(' || pg_catalog.oidvectortypes(fp.proargtypes) || ')'
         FROM pg_catalog.pg_proc fp JOIN pg_catalog.pg_namespace fn ON fn.oid = fp.pronamespace WHERE fp.oid = \(oid))
        """
    }

    /// User casts: not built in, not an extension's, not made with a type.
    static let casts = jsonRows("""
        SELECT c.oid::int8 AS oid, pg_catalog.format_type(c.castsource, NULL) AS source,
               pg_catalog.format_type(c.casttarget, NULL) AS target, c.castmethod AS method, c.castcontext AS context,
               CASE WHEN c.castfunc <> 0 THEN \(functionSignature("c.castfunc")) END AS function
        FROM pg_catalog.pg_cast c
        WHERE c.oid >= 16384 AND \(notExtensionMember("pg_cast", "c.oid"))
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_cast'::pg_catalog.regclass
                          AND d.objid = c.oid AND d.deptype = 'i')
        ORDER BY 2, 3
        """)

    static let transforms = jsonRows("""
        SELECT t.oid::int8 AS oid, pg_catalog.format_type(t.trftype, NULL) AS type, l.lanname AS language,
               pg_catalog.quote_ident(l.lanname) AS qlanguage,
               CASE WHEN t.trffromsql <> 0 THEN \(functionSignature("t.trffromsql")) END AS "fromSQL",
               CASE WHEN t.trftosql <> 0 THEN \(functionSignature("t.trftosql")) END AS "toSQL"
        FROM pg_catalog.pg_transform t JOIN pg_catalog.pg_language l ON l.oid = t.trflang
        WHERE \(notExtensionMember("pg_transform", "t.oid"))
        ORDER BY 2, 3
        """)

    /// Procedural languages not made by an extension; a handler, inline or
    /// validator function in pg_catalog is not named (pg_dump does not dump it).
    static let languages = jsonRows("""
        SELECT l.oid::int8 AS oid, l.lanname AS name, pg_catalog.quote_ident(l.lanname) AS qname, l.lanpltrusted AS trusted,
               pg_catalog.pg_get_userbyid(l.lanowner) AS owner, \(acl("l.lanacl")) AS acl,
               CASE WHEN l.lanplcallfoid <> 0 THEN l.lanplcallfoid::pg_catalog.regproc::text END AS handler,
               CASE WHEN l.laninline <> 0 THEN l.laninline::pg_catalog.regproc::text END AS inline,
               CASE WHEN l.lanvalidator <> 0 THEN l.lanvalidator::pg_catalog.regproc::text END AS validator,
               (SELECT bool_and(n.nspname <> 'pg_catalog') FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                WHERE p.oid IN (l.lanplcallfoid, l.laninline, l.lanvalidator)) AS "userFunctions"
        FROM pg_catalog.pg_language l
        WHERE l.oid >= 16384 AND \(notExtensionMember("pg_language", "l.oid"))
        ORDER BY l.lanname
        """)

    static let accessMethods = jsonRows("""
        SELECT a.oid::int8 AS oid, a.amname AS name, pg_catalog.quote_ident(a.amname) AS qname, a.amtype AS type,
               a.amhandler::pg_catalog.regproc::text AS handler
        FROM pg_catalog.pg_am a
        WHERE a.oid >= 16384 AND \(notExtensionMember("pg_am", "a.oid"))
        ORDER BY a.amname
        """)
}
