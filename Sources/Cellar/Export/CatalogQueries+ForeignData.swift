// Foreign-data wrappers, servers, user mappings and foreign tables, read as
// pg_dump 15 reads them (getForeignDataWrappers, getForeignServers,
// dumpUserMappings, dumpTableSchema).

extension CatalogQueries {
    /// Generic options as pg_dump writes them: `name 'value'` pairs, quoted by
    /// the server, in name order, one a line.
    static func genericOptions(_ column: String) -> String {
        """
        pg_catalog.array_to_string(ARRAY(SELECT pg_catalog.quote_ident(o.option_name) || ' ' || pg_catalog.quote_literal(o.option_value)
          FROM pg_catalog.pg_options_to_table(\(column)) o ORDER BY o.option_name), E',\\n    ')
        """
    }

    static let foreignDataWrappers = jsonRows("""
        SELECT w.oid::int8 AS oid, w.fdwname AS name, pg_catalog.quote_ident(w.fdwname) AS qname,
               pg_catalog.pg_get_userbyid(w.fdwowner) AS owner,
               CASE WHEN w.fdwhandler <> 0 THEN w.fdwhandler::pg_catalog.regproc::text END AS handler,
               CASE WHEN w.fdwvalidator <> 0 THEN w.fdwvalidator::pg_catalog.regproc::text END AS validator,
               \(genericOptions("w.fdwoptions")) AS options, \(acl("w.fdwacl")) AS acl
        FROM pg_catalog.pg_foreign_data_wrapper w
        WHERE \(notExtensionMember("pg_foreign_data_wrapper", "w.oid"))
        ORDER BY w.fdwname
        """)

    /// Servers, whether their wrapper is an extension's or not; `extensionMember`
    /// says whether the server itself is.
    static let foreignServers = jsonRows("""
        SELECT s.oid::int8 AS oid, s.srvname AS name, pg_catalog.quote_ident(s.srvname) AS qname,
               pg_catalog.pg_get_userbyid(s.srvowner) AS owner, s.srvtype AS type, s.srvversion AS version,
               pg_catalog.quote_ident(w.fdwname) AS wrapper, \(genericOptions("s.srvoptions")) AS options,
               \(acl("s.srvacl")) AS acl
        FROM pg_catalog.pg_foreign_server s JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
        WHERE \(notExtensionMember("pg_foreign_server", "s.oid"))
        ORDER BY s.srvname
        """)

    /// User mappings with their options, passwords included. As pg_dump,
    /// through the public view pg_user_mappings, which shows no options to
    /// a role without privileges on the server (the mapping then comes
    /// without them).
    static let userMappings = jsonRows("""
        SELECT u.umid::int8 AS oid, u.srvid::int8 AS "serverOid",
               CASE WHEN u.umuser = 0 THEN NULL ELSE u.usename::text END AS "user",
               \(genericOptions("u.umoptions")) AS options,
               EXISTS (SELECT 1 FROM pg_catalog.pg_options_to_table(u.umoptions) o WHERE o.option_name = 'password') AS "hasPassword"
        FROM pg_catalog.pg_user_mappings u
        ORDER BY u.srvid, u.usename
        """)

    /// Foreign tables, with the columns of a `RelationRow` and their own.
    static let foreignTables = jsonRows("""
        SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, \(qualified("n.nspname", "c.relname")) AS qname,
               c.relkind AS kind, c.relpersistence AS persistence,
               pg_catalog.pg_get_userbyid(c.relowner) AS owner, c.relispartition AS ispartition,
               pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS partbound, \(acl("c.relacl")) AS acl,
               c.relrowsecurity AS rowsecurity, c.relforcerowsecurity AS forcerowsecurity, c.relispopulated AS ispopulated,
               0 AS "estimatedBytes", c.relreplident AS replident,
               (SELECT json_agg(\(qualified("pn.nspname", "p.relname")) ORDER BY i.inhseqno)
                  FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
                  JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) AS parents,
               (SELECT json_agg(i.inhparent::int8 ORDER BY i.inhseqno) FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid) AS "parentOids",
               pg_catalog.quote_ident(s.srvname) AS server, \(genericOptions("ft.ftoptions")) AS options,
               \(columns(of: "c.oid")) AS columns,
               (SELECT json_agg(json_build_object('num', a.attnum, 'options', \(genericOptions("a.attfdwoptions"))) ORDER BY a.attnum)
                  FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attfdwoptions IS NOT NULL) AS "columnOptions"
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid
        JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
        WHERE c.relkind = 'f' AND \(userSchema("n")) AND \(notExtensionMember("pg_class", "c.oid"))
        ORDER BY n.nspname, c.relname
        """)
}
