import Foundation

extension CatalogQueries {
    /// Security labels on the database's own objects (pg_seclabel).
    static let securityLabels = jsonRows("""
        SELECT l.classoid::pg_catalog.regclass::text AS catalog, l.objoid::int8 AS oid, l.objsubid AS sub,
               l.provider, pg_catalog.quote_ident(l.provider) AS qprovider, l.label,
               pg_catalog.pg_describe_object(l.classoid, l.objoid, l.objsubid) AS object
        FROM pg_catalog.pg_seclabel l
        WHERE l.objoid >= 16384 OR (l.classoid = 'pg_namespace'::pg_catalog.regclass AND l.objoid = 2200)
              OR l.classoid = 'pg_largeobject'::pg_catalog.regclass
        ORDER BY l.classoid, l.objoid, l.objsubid, l.provider
        """)
}
