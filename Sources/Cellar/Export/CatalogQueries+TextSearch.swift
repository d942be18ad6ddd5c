extension CatalogQueries {
    // Support functions come as regproc text: with search_path empty, qualified
    // unless they live in pg_catalog, as pg_dump's convertTSFunction writes them.

    static let textSearchParsers = jsonRows("""
        SELECT p.oid::int8 AS oid, n.nspname AS schema, p.prsname AS name, \(qualified("n.nspname", "p.prsname")) AS qname,
               p.prsstart::pg_catalog.regproc::text AS start, p.prstoken::pg_catalog.regproc::text AS gettoken,
               p.prsend::pg_catalog.regproc::text AS "end", p.prslextype::pg_catalog.regproc::text AS lextypes,
               CASE WHEN p.prsheadline <> 0 THEN p.prsheadline::pg_catalog.regproc::text END AS headline
        FROM pg_catalog.pg_ts_parser p JOIN pg_catalog.pg_namespace n ON n.oid = p.prsnamespace
        WHERE \(userSchema("n")) AND \(notExtensionMember("pg_ts_parser", "p.oid"))
        ORDER BY n.nspname, p.prsname
        """)

    static let textSearchTemplates = jsonRows("""
        SELECT t.oid::int8 AS oid, n.nspname AS schema, t.tmplname AS name, \(qualified("n.nspname", "t.tmplname")) AS qname,
               CASE WHEN t.tmplinit <> 0 THEN t.tmplinit::pg_catalog.regproc::text END AS "init",
               t.tmpllexize::pg_catalog.regproc::text AS lexize
        FROM pg_catalog.pg_ts_template t JOIN pg_catalog.pg_namespace n ON n.oid = t.tmplnamespace
        WHERE \(userSchema("n")) AND \(notExtensionMember("pg_ts_template", "t.oid"))
        ORDER BY n.nspname, t.tmplname
        """)

    /// `options` is the server's own rendering of the option list
    /// (`name = 'value', ...`), which pg_dump writes as it is.
    static let textSearchDictionaries = jsonRows("""
        SELECT d.oid::int8 AS oid, n.nspname AS schema, d.dictname AS name, \(qualified("n.nspname", "d.dictname")) AS qname,
               pg_catalog.pg_get_userbyid(d.dictowner) AS owner, \(qualified("tn.nspname", "t.tmplname")) AS template,
               d.dictinitoption AS options
        FROM pg_catalog.pg_ts_dict d JOIN pg_catalog.pg_namespace n ON n.oid = d.dictnamespace
        JOIN pg_catalog.pg_ts_template t ON t.oid = d.dicttemplate JOIN pg_catalog.pg_namespace tn ON tn.oid = t.tmplnamespace
        WHERE \(userSchema("n")) AND \(notExtensionMember("pg_ts_dict", "d.oid"))
        ORDER BY n.nspname, d.dictname
        """)

    /// Mappings in pg_dump's order: by token type, then the dictionaries in turn.
    static let textSearchConfigurations = jsonRows("""
        SELECT c.oid::int8 AS oid, n.nspname AS schema, c.cfgname AS name, \(qualified("n.nspname", "c.cfgname")) AS qname,
               pg_catalog.pg_get_userbyid(c.cfgowner) AS owner, \(qualified("pn.nspname", "p.prsname")) AS parser,
               (SELECT json_agg(json_build_object('token', pg_catalog.quote_ident(tt.alias),
                                                  'dictionary', m.mapdict::pg_catalog.regdictionary::text)
                                ORDER BY m.maptokentype, m.mapseqno)
                  FROM pg_catalog.pg_ts_config_map m
                  JOIN pg_catalog.ts_token_type(c.cfgparser) tt ON tt.tokid = m.maptokentype
                  WHERE m.mapcfg = c.oid) AS mappings
        FROM pg_catalog.pg_ts_config c JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace
        JOIN pg_catalog.pg_ts_parser p ON p.oid = c.cfgparser JOIN pg_catalog.pg_namespace pn ON pn.oid = p.prsnamespace
        WHERE \(userSchema("n")) AND \(notExtensionMember("pg_ts_config", "c.oid"))
        ORDER BY n.nspname, c.cfgname
        """)
}
