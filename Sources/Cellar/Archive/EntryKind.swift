extension ArchiveEntry {
    /// What an entry creates or does, in pg_dump's words (`pg_restore -l`
    /// shows the same): `TABLE`, `TABLE DATA`, `INDEX`, `FK CONSTRAINT`, ...
    ///
    /// A struct with constants rather than an enum: an archive written by a
    /// newer pgcellar may hold kinds this one does not know, and reading it
    /// must still work (the restore runs an unknown kind's SQL in its section).
    public struct Kind: RawRepresentable, Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
        public let rawValue: String

        public init(rawValue: String) { self.rawValue = rawValue }

        public var description: String { rawValue }

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }

        // MARK: The session and the database
        public static let settings = Kind(rawValue: "SETTINGS")
        public static let database = Kind(rawValue: "DATABASE")
        public static let databaseProperties = Kind(rawValue: "DATABASE PROPERTIES")

        // MARK: Schemas, extensions, languages
        public static let schema = Kind(rawValue: "SCHEMA")
        public static let `extension` = Kind(rawValue: "EXTENSION")
        public static let proceduralLanguage = Kind(rawValue: "PROCEDURAL LANGUAGE")
        public static let accessMethod = Kind(rawValue: "ACCESS METHOD")

        // MARK: Types, collations, casts
        public static let type = Kind(rawValue: "TYPE")
        public static let shellType = Kind(rawValue: "SHELL TYPE")
        public static let domain = Kind(rawValue: "DOMAIN")
        public static let collation = Kind(rawValue: "COLLATION")
        public static let cast = Kind(rawValue: "CAST")
        public static let conversion = Kind(rawValue: "CONVERSION")
        public static let transform = Kind(rawValue: "TRANSFORM")

        // MARK: Routines and operators
        public static let function = Kind(rawValue: "FUNCTION")
        public static let procedure = Kind(rawValue: "PROCEDURE")
        public static let aggregate = Kind(rawValue: "AGGREGATE")
        public static let `operator` = Kind(rawValue: "OPERATOR")
        public static let operatorClass = Kind(rawValue: "OPERATOR CLASS")
        public static let operatorFamily = Kind(rawValue: "OPERATOR FAMILY")

        // MARK: Text search
        public static let textSearchParser = Kind(rawValue: "TEXT SEARCH PARSER")
        public static let textSearchTemplate = Kind(rawValue: "TEXT SEARCH TEMPLATE")
        public static let textSearchDictionary = Kind(rawValue: "TEXT SEARCH DICTIONARY")
        public static let textSearchConfiguration = Kind(rawValue: "TEXT SEARCH CONFIGURATION")

        // MARK: Foreign data
        public static let foreignDataWrapper = Kind(rawValue: "FOREIGN DATA WRAPPER")
        public static let server = Kind(rawValue: "SERVER")
        public static let userMapping = Kind(rawValue: "USER MAPPING")

        // MARK: Relations and their parts
        public static let sequence = Kind(rawValue: "SEQUENCE")
        public static let sequenceOwnedBy = Kind(rawValue: "SEQUENCE OWNED BY")
        public static let sequenceSet = Kind(rawValue: "SEQUENCE SET")
        public static let table = Kind(rawValue: "TABLE")
        public static let foreignTable = Kind(rawValue: "FOREIGN TABLE")
        public static let view = Kind(rawValue: "VIEW")
        public static let materializedView = Kind(rawValue: "MATERIALIZED VIEW")
        public static let materializedViewData = Kind(rawValue: "MATERIALIZED VIEW DATA")
        public static let tableAttach = Kind(rawValue: "TABLE ATTACH")
        public static let tableData = Kind(rawValue: "TABLE DATA")
        public static let `default` = Kind(rawValue: "DEFAULT")
        public static let identity = Kind(rawValue: "IDENTITY")
        public static let constraint = Kind(rawValue: "CONSTRAINT")
        public static let checkConstraint = Kind(rawValue: "CHECK CONSTRAINT")
        public static let foreignKeyConstraint = Kind(rawValue: "FK CONSTRAINT")
        public static let index = Kind(rawValue: "INDEX")
        public static let indexAttach = Kind(rawValue: "INDEX ATTACH")
        public static let statistics = Kind(rawValue: "STATISTICS")
        public static let rule = Kind(rawValue: "RULE")
        public static let trigger = Kind(rawValue: "TRIGGER")
        public static let rowSecurity = Kind(rawValue: "ROW SECURITY")
        public static let policy = Kind(rawValue: "POLICY")

        // MARK: Large objects (pg_dump 15's words)
        public static let largeObject = Kind(rawValue: "BLOB")
        public static let largeObjectData = Kind(rawValue: "BLOBS")

        // MARK: Replication and events
        public static let publication = Kind(rawValue: "PUBLICATION")
        public static let publicationTable = Kind(rawValue: "PUBLICATION TABLE")
        public static let publicationTablesInSchema = Kind(rawValue: "PUBLICATION TABLES IN SCHEMA")
        public static let subscription = Kind(rawValue: "SUBSCRIPTION")
        public static let eventTrigger = Kind(rawValue: "EVENT TRIGGER")

        // MARK: Properties of other objects
        public static let comment = Kind(rawValue: "COMMENT")
        public static let securityLabel = Kind(rawValue: "SECURITY LABEL")
        public static let owner = Kind(rawValue: "OWNER")
        public static let acl = Kind(rawValue: "ACL")
        public static let defaultACL = Kind(rawValue: "DEFAULT ACL")

        /// pg_dump's sort priority (pg_dump_sort.c's `dbObjectTypePriority`),
        /// which orders objects that do not depend on each other; unknown
        /// kinds sort between data and post-data.
        public var sortPriority: Int { Self.priorities[self] ?? 30 }

        private static let priorities: [Kind: Int] = [
            .settings: 0, .database: 0, .databaseProperties: 0,
            .schema: 1, .proceduralLanguage: 2, .collation: 3, .transform: 4, .extension: 5,
            .type: 6, .shellType: 6, .domain: 6, .cast: 7,
            .function: 8, .procedure: 8, .aggregate: 9, .accessMethod: 10,
            .operator: 11, .operatorFamily: 12, .operatorClass: 12, .conversion: 13,
            .textSearchParser: 14, .textSearchTemplate: 15, .textSearchDictionary: 16, .textSearchConfiguration: 17,
            .foreignDataWrapper: 18, .server: 19, .userMapping: 19,
            .sequence: 20, .table: 21, .foreignTable: 21, .view: 21, .materializedView: 21,
            .tableAttach: 22, .default: 24, .sequenceOwnedBy: 24, .identity: 24, .largeObject: 25,
            .tableData: 27, .sequenceSet: 28, .largeObjectData: 29,
            .constraint: 32, .checkConstraint: 32, .index: 33, .indexAttach: 34, .statistics: 35,
            .rule: 36, .trigger: 37, .foreignKeyConstraint: 38, .rowSecurity: 39, .policy: 39,
            .publication: 40, .publicationTable: 41, .publicationTablesInSchema: 42, .subscription: 43,
            .defaultACL: 44, .eventTrigger: 45, .materializedViewData: 47,
            .comment: 50, .securityLabel: 50, .owner: 51, .acl: 52,
        ]
    }
}
