extension CatalogQueries {
    /// `tags` is pg_dump's rendering: each tag quoted by quote_literal, comma-separated.
    static let eventTriggers = jsonRows("""
        SELECT e.oid::int8 AS oid, e.evtname AS name, pg_catalog.quote_ident(e.evtname) AS qname,
               pg_catalog.quote_ident(e.evtevent) AS event, pg_catalog.pg_get_userbyid(e.evtowner) AS owner,
               e.evtfoid::pg_catalog.regproc::text AS function, e.evtenabled AS enabled,
               pg_catalog.array_to_string(ARRAY(SELECT pg_catalog.quote_literal(x) FROM pg_catalog.unnest(e.evttags) AS t(x)), ', ') AS tags
        FROM pg_catalog.pg_event_trigger e
        WHERE \(notExtensionMember("pg_event_trigger", "e.oid"))
        ORDER BY e.evtname
        """)
}
