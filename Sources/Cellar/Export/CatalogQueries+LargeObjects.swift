import Foundation

extension CatalogQueries {
    /// Every large object with its owner and ACL, in oid order. Their bytes
    /// are read later, in the data phase (`LargeObjectData`).
    static let largeObjects = jsonRows("""
        SELECT l.oid::int8 AS oid, pg_catalog.pg_get_userbyid(l.lomowner) AS owner, \(acl("l.lomacl")) AS acl
        FROM pg_catalog.pg_largeobject_metadata l
        ORDER BY l.oid
        """)
}
