import Foundation

// Rows the catalog queries return, one JSON object per row (row_to_json),
// decoded row by row. Names come twice: raw (for metadata) and quoted by the
// server's quote_ident (for SQL), so quoting follows the server's keyword
// list. Role names come raw only: SQL quotes them through `RoleQuoting`.

struct PrivilegeRow: Decodable {
    /// Raw role names, as in pg_roles.
    var grantor: String
    /// nil for PUBLIC.
    var grantee: String?
    var privilege: String
    var grantable: Bool
}

struct ColumnRow: Decodable {
    var num: Int
    var name: String
    var qname: String
    var type: String
    var notnull: Bool
    /// "" or "s" (stored generated column).
    var generated: String
    /// "", "a" (always) or "d" (by default).
    var identity: String
    var islocal: Bool
    var inhcount: Int
    /// Quoted, qualified collation when it differs from the type's.
    var collation: String?
    var defaultOid: UInt32?
    var defaultExpr: String?
    var acl: [PrivilegeRow]?
    /// attcompression: `p` (pglz), `l` (lz4), empty for the default.
    var compression: String?
    var storage: String?
    var typstorage: String?
    var stattarget: Int?
    var options: [String]?
}

/// A column with the relation it belongs to (`CatalogQueries.relationColumns`).
struct RelationColumnRow: Decodable {
    var relationOid: UInt32
    var column: ColumnRow

    private enum CodingKeys: String, CodingKey { case relationOid }

    init(from decoder: any Decoder) throws {
        relationOid = try decoder.container(keyedBy: CodingKeys.self).decode(UInt32.self, forKey: .relationOid)
        column = try ColumnRow(from: decoder)
    }
}

struct RelationRow: Decodable {
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var kind: String
    var persistence: String
    var owner: String
    var ispartition: Bool
    var partbound: String?
    var partkey: String?
    var reloptions: [String]?
    /// Storage parameters of its TOAST table, written as `toast.<name>=<value>`.
    var toastoptions: [String]?
    var acl: [PrivilegeRow]?
    var rowsecurity: Bool
    var forcerowsecurity: Bool
    var ispopulated: Bool
    var accessMethod: String?
    var estimatedBytes: Int64
    var viewdef: String?
    var parents: [String]?
    var parentOids: [UInt32]?
    var replident: String
    /// Its tablespace; nil for the database's default.
    var tablespace: String?
    var oftype: String?
    var columns: [ColumnRow]?
}

struct SequenceRow: Decodable {
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var owner: String
    /// `u` for an unlogged sequence.
    var persistence: String?
    var type: String
    var start: String
    var increment: String
    var max: String
    var min: String
    var cache: String
    var cycle: Bool
    var acl: [PrivilegeRow]?
    /// The table and column that own it (OWNED BY or identity).
    var ownerTableOid: UInt32?
    var ownerTable: String?
    var ownerColumn: String?
    var ownerColumnQ: String?
    /// "a" (OWNED BY) or "i" (identity column).
    var ownership: String?
}

struct ConstraintRow: Decodable {
    var oid: UInt32
    var name: String
    var qname: String
    var type: String
    var relationOid: UInt32
    var relation: String
    var relationSchema: String
    var relationName: String
    var relationKind: String
    var typeOid: UInt32
    var islocal: Bool
    var parentOid: UInt32
    var validated: Bool
    var definition: String
    var indexOid: UInt32
    /// The tablespace of a primary key's, unique or exclusion constraint's
    /// index; nil for the database's default.
    var indexTablespace: String?
}

struct IndexRow: Decodable {
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var tableOid: UInt32
    var table: String
    var definition: String
    var clustered: Bool
    var replicaIdentity: Bool
    var constraintOid: UInt32?
    var parentIndex: String?
    var parentIndexOid: UInt32?
    /// `indisvalid` and `indisready`: false for an index a failed
    /// `CREATE INDEX CONCURRENTLY` left behind, or (valid only) for a
    /// partitioned table's index that not every partition's index is attached to yet.
    var valid: Bool
    var ready: Bool
    /// The relkind of the indexed table.
    var tableKind: String
    /// Its tablespace; nil for the database's default.
    var tablespace: String?
}

struct FunctionRow: Decodable {
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var kind: String
    var owner: String
    var identityArguments: String
    var arguments: String
    var acl: [PrivilegeRow]?
    var definition: String?
    var language: String
}

struct AggregateRow: Decodable {
    var oid: UInt32
    var aggkind: String
    var transfn: String
    var transtype: String
    var transspace: Int
    var finalfn: String?
    var finalextra: Bool
    var finalmodify: String
    var combinefn: String?
    var serialfn: String?
    var deserialfn: String?
    var initval: String?
    var mtransfn: String?
    var minvtransfn: String?
    var mtranstype: String?
    var mtransspace: Int
    var mfinalfn: String?
    var mfinalextra: Bool
    var mfinalmodify: String
    var minitval: String?
    var sortop: String?
    var parallel: String
}

struct TypeRow: Decodable {
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var kind: String
    var owner: String
    var acl: [PrivilegeRow]?
    var labels: [String]?
    var baseType: String?
    var notnull: Bool
    var defaultExpr: String?
    var collation: String?
    var attributes: [ColumnRow]?
    var rangeSubtype: String?
    var rangeOpclass: String?
    var rangeCollation: String?
    var rangeCanonical: String?
    var rangeSubdiff: String?
    var multirange: String?
    var relationOid: UInt32?
}

struct TriggerRow: Decodable {
    var oid: UInt32
    var name: String
    var qname: String
    var tableOid: UInt32
    var table: String
    var schema: String
    var tableName: String
    var definition: String
    var enabled: String
}

struct PolicyRow: Decodable {
    var oid: UInt32
    var name: String
    var qname: String
    var tableOid: UInt32
    var table: String
    var schema: String
    var tableName: String
    var permissive: Bool
    var command: String
    /// Raw role names, nil for PUBLIC; the whole list nil when the policy
    /// applies to PUBLIC alone (no TO clause).
    var roles: [String?]?
    var qual: String?
    var withCheck: String?
}

/// One pg_depend row between user objects: (catalog, oid) depends on (refCatalog, refOid).
struct DependencyRow: Equatable {
    var catalog: String
    var oid: UInt32
    var refCatalog: String
    var refOid: UInt32
    var type: DependencyType

    var key: ObjectKey { ObjectKey(catalog: catalog, oid: oid) }
    var refKey: ObjectKey { ObjectKey(catalog: refCatalog, oid: refOid) }
}

/// pg_depend's `deptype`.
struct DependencyType: RawRepresentable, Hashable {
    var rawValue: String

    static let normal = DependencyType(rawValue: "n")
    static let auto = DependencyType(rawValue: "a")
    /// The dependent object is part of the referenced one's implementation
    /// (an array type of its element type, a view's rule of its view).
    static let `internal` = DependencyType(rawValue: "i")
    static let partitionPrimary = DependencyType(rawValue: "P")
    static let partitionSecondary = DependencyType(rawValue: "S")
    static let extensionMember = DependencyType(rawValue: "e")
}

struct DescribedObjectRow: Decodable {
    var catalog: String
    var oid: UInt32
}

struct DescriptionRow: Decodable {
    var catalog: String
    var oid: UInt32
    var sub: Int
    var description: String
    /// How the server describes the object (`pg_describe_object`), for errors.
    var object: String?
}

/// An object of a kind the export does not write (`CatalogQueries.unsupported`).
struct UnsupportedRow {
    /// How warnings and errors name it.
    var name: String
    /// Its (catalog, oid) as pg_depend names it; nil for what is no object
    /// (a security label, the rows of an extension's configuration table).
    var key: ObjectKey?
}

struct StatisticsRow: Decodable {
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var owner: String
    var definition: String
    var tableOid: UInt32
    var stattarget: Int?
}

struct SchemaRow: Decodable {
    var oid: UInt32
    var name: String
    var qname: String
    var owner: String
    var acl: [PrivilegeRow]?
}

struct ExtensionRow: Decodable {
    var oid: UInt32
    var name: String
    var qname: String
    var schema: String
    var qschema: String
    var version: String
}

struct DefaultPrivilegeRow: Decodable {
    var oid: UInt32
    var role: String
    var schema: String?
    var qschema: String?
    var objtype: String
    var acl: [PrivilegeRow]?
}
