import Foundation

// MARK: - Header

/// What an archive says about itself and the database it came from: the
/// first frame of every archive (docs/archive-format.md, "Header").
///
/// The archive layer only carries these values; Export fills them in from the
/// server and Restore uses them to recreate the database and check roles.
public struct ArchiveHeader: Codable, Sendable, Equatable {
    /// Always ``ArchiveFormat/name``.
    public var format: String
    /// The format version the archive was written with (``ArchiveFormat/version``).
    public var formatVersion: Int
    /// The tool that wrote the archive, e.g. "pgcellar 0.1.0".
    public var producer: String
    /// When the snapshot was taken (ISO 8601, UTC).
    public var snapshotTakenAt: String
    /// The exported snapshot's name (`pg_export_snapshot()`), for the record.
    public var snapshotID: String?
    public var server: Server
    public var database: Database
    /// Every role the export names as an owner or grantee, sorted.
    public var roles: [Role]
    /// The options the export ran with, for the record.
    public var options: Options
    /// How each data chunk's `rowDigest` was computed; nil in archives
    /// written before row digests (they are drilled by row counts only).
    public var rowDigest: RowDigestInfo?
    /// The export session's settings that shape COPY text output (DateStyle,
    /// TimeZone, bytea_output, ...), so that a reader can read restored rows
    /// back in the same text; nil in older archives.
    public var copySettings: [SessionSetting]?
    /// Every tablespace the archive names (its entries' `tablespace` and
    /// the database's own), sorted, so that a restore can check they exist
    /// before it writes anything, even when it reads a stream; nil or empty
    /// when it names none.
    public var tablespaces: [String]?

    public init(producer: String, snapshotTakenAt: String, snapshotID: String? = nil,
                server: Server, database: Database, roles: [Role] = [], options: Options = Options(),
                rowDigest: RowDigestInfo? = nil, copySettings: [SessionSetting]? = nil) {
        self.format = ArchiveFormat.name
        self.formatVersion = ArchiveFormat.version
        self.producer = producer
        self.snapshotTakenAt = snapshotTakenAt
        self.snapshotID = snapshotID
        self.server = server
        self.database = database
        self.roles = roles
        self.options = options
        self.rowDigest = rowDigest
        self.copySettings = copySettings
    }

    /// `{"algorithm": "xxh3-128-sum", "seed": "<16 hex digits>"}`: see ``RowDigest``.
    public struct RowDigestInfo: Codable, Sendable, Equatable {
        /// ``RowDigest/algorithm``; a reader that does not know the name
        /// must not compare digests.
        public var algorithm: String
        /// The XXH3 seed, 16 lowercase hex digits.
        public var seed: String

        public init(algorithm: String = RowDigest.algorithm, seed: UInt64) {
            self.algorithm = algorithm
            self.seed = RowDigest.hex(seed: seed)
        }

        /// The seed, when the algorithm is one this reader computes.
        public var usableSeed: UInt64? {
            algorithm == RowDigest.algorithm ? RowDigest.seed(hex: seed) : nil
        }
    }

    /// One run-time setting of the export's session, as `current_setting` showed it.
    public struct SessionSetting: Codable, Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct Server: Codable, Sendable, Equatable {
        /// `server_version`, e.g. "15.18 (Debian 15.18-0+deb12u1)".
        public var version: String
        /// `server_version_num`, e.g. 150018.
        public var versionNumber: Int

        public init(version: String, versionNumber: Int) {
            self.version = version
            self.versionNumber = versionNumber
        }
    }

    public struct Database: Codable, Sendable, Equatable {
        public var name: String
        public var owner: String
        public var encoding: String
        public var collate: String
        public var ctype: String
        /// `c` (libc), `i` (ICU) or `d` (builtin), as `pg_database.datlocprovider`.
        public var localeProvider: String
        /// The ICU locale, when the provider is ICU.
        public var iculocale: String?
        public var connectionLimit: Int
        /// The database's comment, if any.
        public var comment: String?
        /// The privileges on the database in `aclitem` order; nil for the
        /// built-in default (CONNECT and TEMPORARY for PUBLIC).
        public var privileges: [Privilege]?
        /// The database's stored settings (with `role` for `ALTER ROLE ... IN DATABASE ... SET`).
        public var settingValues: [Setting]
        /// The same settings as complete statements naming the source
        /// database (`ALTER DATABASE name SET work_mem = '8MB';`).
        public var settings: [String]
        /// The privileges as complete statements naming the source database
        /// (`REVOKE ALL ON DATABASE name FROM PUBLIC;`, `GRANT CONNECT ON DATABASE name TO app;`);
        /// empty for the default privileges.
        public var grants: [String]
        /// The database's default tablespace (`pg_database.dattablespace`)
        /// when it is not `pg_default`: `restore --create` makes the new
        /// database there (`CREATE DATABASE ... TABLESPACE`), as pg_dump
        /// --create. nil for `pg_default`, with `export --no-tablespaces`,
        /// and in older archives.
        public var tablespace: String?

        public init(name: String, owner: String, encoding: String, collate: String, ctype: String,
                    localeProvider: String, iculocale: String? = nil, connectionLimit: Int = -1,
                    comment: String? = nil, privileges: [Privilege]? = nil, settingValues: [Setting] = [],
                    settings: [String] = [], grants: [String] = [], tablespace: String? = nil) {
            self.name = name
            self.owner = owner
            self.encoding = encoding
            self.collate = collate
            self.ctype = ctype
            self.localeProvider = localeProvider
            self.iculocale = iculocale
            self.connectionLimit = connectionLimit
            self.comment = comment
            self.privileges = privileges
            self.settingValues = settingValues
            self.settings = settings
            self.grants = grants
            self.tablespace = tablespace
        }
    }

    /// One privilege of an `aclitem`, as `aclexplode` gives it.
    public struct Privilege: Codable, Sendable, Equatable {
        public var grantor: String
        /// nil for PUBLIC.
        public var grantee: String?
        /// "CONNECT", "CREATE", "TEMPORARY", ...
        public var privilege: String
        public var grantable: Bool

        public init(grantor: String, grantee: String?, privilege: String, grantable: Bool) {
            self.grantor = grantor
            self.grantee = grantee
            self.privilege = privilege
            self.grantable = grantable
        }
    }

    /// One configuration setting stored for the database.
    public struct Setting: Codable, Sendable, Equatable {
        /// The role it applies to (`ALTER ROLE role IN DATABASE ...`); nil for everyone.
        public var role: String?
        public var name: String
        /// The value as stored (`pg_db_role_setting`), e.g. `8MB` or `"$user", public`.
        public var value: String

        public init(role: String? = nil, name: String, value: String) {
            self.role = role
            self.name = name
            self.value = value
        }
    }

    public struct Role: Codable, Sendable, Equatable {
        public var name: String
        /// Why the export names it: "owner", "grantee" or both.
        public var referencedAs: [String]

        public init(name: String, referencedAs: [String]) {
            self.name = name
            self.referencedAs = referencedAs
        }
    }

    public struct Options: Codable, Sendable, Equatable {
        public var schemaOnly: Bool
        public var dataOnly: Bool
        public var tables: [String]
        public var excludedTables: [String]
        public var schemas: [String]
        public var excludedUnsupported: [String]
        public var compressionLevel: Int

        public init(schemaOnly: Bool = false, dataOnly: Bool = false, tables: [String] = [], excludedTables: [String] = [],
                    schemas: [String] = [], excludedUnsupported: [String] = [], compressionLevel: Int = 3) {
            self.schemaOnly = schemaOnly
            self.dataOnly = dataOnly
            self.tables = tables
            self.excludedTables = excludedTables
            self.schemas = schemas
            self.excludedUnsupported = excludedUnsupported
            self.compressionLevel = compressionLevel
        }
    }
}

// MARK: - Entries

/// One entry of the table of contents: a piece of the SQL script (one
/// object's DDL, one statement group, or one chunk of one table's rows) with
/// where it lies in the file and how to check it.
///
/// The bytes of an entry are always one complete zstd frame, preceded in the
/// file by a small skippable frame holding this metadata (without `offset`),
/// so a sequential reader knows what each entry is before reading it.
public struct ArchiveEntry: Codable, Sendable, Equatable, Hashable {
    /// Unique within the archive; dependencies refer to it.
    public var id: Int
    /// What the entry creates or does, in pg_dump's words: "TABLE",
    /// "TABLE DATA", "INDEX", "FK CONSTRAINT", "ACL", "SEQUENCE SET", ...
    public var kind: Kind
    public var section: Section
    /// The object's schema; nil for objects outside schemas (schemas
    /// themselves, extensions, the settings preamble).
    public var schema: String?
    /// The object's name as `pg_restore -l` shows it (functions with their
    /// argument types, constraints as "table name").
    public var name: String
    public var owner: String?
    /// Entries that must be restored before this one.
    public var dependencies: [Int]
    /// For "TABLE DATA": the table the rows belong to, and which chunk this is.
    public var data: DataInfo? {
        get { dataStorage?.value }
        set { dataStorage = newValue.map(DataBox.init) }
    }
    /// Boxed: most entries have none, and an archive of thousands of tables
    /// holds tens of thousands of entries in memory.
    private var dataStorage: DataBox?
    /// Size of the entry's SQL before compression.
    public var uncompressedSize: UInt64
    /// Size of the entry's zstd frame in the file.
    public var compressedSize: UInt64
    /// SHA-256 of the uncompressed SQL, lowercase hex.
    public var sha256: String {
        get { digest.hex }
        set { digest = EntryDigest(hex: newValue) }
    }
    /// The SHA-256 held as 32 bytes, not 64 characters on the heap.
    private var digest: EntryDigest

    /// ``sha256`` as a JSON string, appended to `out`.
    func appendSHA256JSON(to out: inout [UInt8]) { digest.appendJSON(to: &out) }
    /// Byte offset of the entry's zstd frame in the file; only in the table
    /// of contents (nil in the inline metadata frame that precedes the entry).
    public var offset: UInt64?
    /// Where the entry's SQL starts in its frame's content, when the frame is
    /// a *block* holding several small entries one after the other (format
    /// version 2); nil when the entry is its frame's whole content.
    /// `compressedSize` is then the size of the whole block frame.
    public var blockOffset: UInt64?
    /// The tablespace the object is created in (pg_dump's TOC `tablespace`),
    /// for tables, partitioned tables, materialized views, indexes and the
    /// constraints that own an index; nil for the database's default and for
    /// every other kind, and in archives written before tablespaces were
    /// recorded. The entry's SQL then begins with `SET default_tablespace`
    /// and ends by setting it back (``TablespaceSelection``).
    public var tablespace: String?

    public init(id: Int, kind: Kind, section: Section, schema: String? = nil, name: String,
                owner: String? = nil, dependencies: [Int] = [], data: DataInfo? = nil, tablespace: String? = nil) {
        self.id = id
        self.kind = kind
        self.section = section
        self.schema = schema
        self.name = name
        self.owner = owner
        self.dependencies = dependencies
        self.dataStorage = data.map(DataBox.init)
        self.uncompressedSize = 0
        self.compressedSize = 0
        self.digest = EntryDigest(hex: "")
        self.offset = nil
        self.blockOffset = nil
        self.tablespace = tablespace
    }

    private enum CodingKeys: String, CodingKey {
        case id, kind, section, schema, name, owner, dependencies, data, uncompressedSize, compressedSize, sha256, offset, blockOffset, tablespace
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int.self, forKey: .id)
        kind = try container.decode(Kind.self, forKey: .kind)
        section = try container.decode(Section.self, forKey: .section)
        schema = try container.decodeIfPresent(String.self, forKey: .schema)
        name = try container.decode(String.self, forKey: .name)
        owner = try container.decodeIfPresent(String.self, forKey: .owner)
        dependencies = try container.decode([Int].self, forKey: .dependencies)
        dataStorage = try container.decodeIfPresent(DataInfo.self, forKey: .data).map(DataBox.init)
        uncompressedSize = try container.decode(UInt64.self, forKey: .uncompressedSize)
        compressedSize = try container.decode(UInt64.self, forKey: .compressedSize)
        digest = EntryDigest(hex: try container.decode(String.self, forKey: .sha256))
        offset = try container.decodeIfPresent(UInt64.self, forKey: .offset)
        blockOffset = try container.decodeIfPresent(UInt64.self, forKey: .blockOffset)
        tablespace = try container.decodeIfPresent(String.self, forKey: .tablespace)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(section, forKey: .section)
        try container.encodeIfPresent(schema, forKey: .schema)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(owner, forKey: .owner)
        try container.encode(dependencies, forKey: .dependencies)
        try container.encodeIfPresent(data, forKey: .data)
        try container.encode(uncompressedSize, forKey: .uncompressedSize)
        try container.encode(compressedSize, forKey: .compressedSize)
        try container.encode(sha256, forKey: .sha256)
        try container.encodeIfPresent(offset, forKey: .offset)
        try container.encodeIfPresent(blockOffset, forKey: .blockOffset)
        try container.encodeIfPresent(tablespace, forKey: .tablespace)
    }

    /// Holds a ``DataInfo`` out of line; compared and hashed by value.
    private final class DataBox: Hashable, Sendable {
        let value: DataInfo
        init(_ value: DataInfo) { self.value = value }
        static func == (lhs: DataBox, rhs: DataBox) -> Bool { lhs.value == rhs.value }
        func hash(into hasher: inout Hasher) { hasher.combine(value) }
    }

    /// A SHA-256 as four words; any text that is not 64 hex digits is kept
    /// as it was (so that a damaged archive's value still compares unequal).
    private struct EntryDigest: Hashable, Sendable {
        var words: (UInt64, UInt64, UInt64, UInt64)
        var other: String?

        init(hex: String) {
            words = (0, 0, 0, 0)
            let utf8 = Array(hex.utf8)
            guard utf8.count == 64, utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                other = hex
                return
            }
            other = nil
            func word(_ index: Int) -> UInt64 {
                var value: UInt64 = 0
                for byte in utf8[(index * 16)..<(index * 16 + 16)] {
                    value = value << 4 | UInt64(byte <= 57 ? byte - 48 : byte - 87)
                }
                return value
            }
            words = (word(0), word(1), word(2), word(3))
        }

        /// As ``hex``, as a JSON string, without making the string.
        func appendJSON(to out: inout [UInt8]) {
            if let other { return appendJSONString(other, to: &out) }
            let digits: StaticString = "0123456789abcdef"
            out.append(UInt8(ascii: "\""))
            for word in [words.0, words.1, words.2, words.3] {
                for shift in stride(from: 60, through: 0, by: -4) {
                    out.append(digits.utf8Start[Int((word >> UInt64(shift)) & 0xF)])
                }
            }
            out.append(UInt8(ascii: "\""))
        }

        var hex: String {
            if let other { return other }
            func hex(_ word: UInt64) -> String {
                let text = String(word, radix: 16)
                return String(repeating: "0", count: 16 - text.count) + text
            }
            return hex(words.0) + hex(words.1) + hex(words.2) + hex(words.3)
        }

        static func == (lhs: EntryDigest, rhs: EntryDigest) -> Bool {
            lhs.words == rhs.words && lhs.other == rhs.other
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
            hasher.combine(words.2)
            hasher.combine(words.3)
            hasher.combine(other)
        }
    }

    /// The sections of a script, in pg_dump's order.
    public enum Section: String, Codable, Sendable, CaseIterable, Comparable {
        case preData = "pre-data"
        case data = "data"
        case postData = "post-data"

        public static func < (lhs: Section, rhs: Section) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// Where a chunk of table data belongs.
    ///
    /// The entry's bytes are exactly `copyStatement + "\n"`, then the rows in
    /// COPY text format (one line each), then `"\\.\n\n"`; see
    /// ``ArchiveReader/readCopyRows(_:_:)`` for just the rows.
    public struct DataInfo: Codable, Sendable, Equatable, Hashable {
        public var tableSchema: String
        public var tableName: String
        /// The `COPY schema.table (columns) FROM stdin;` line, without its newline.
        public var copyStatement: String
        /// 0-based position of this chunk among the table's chunks.
        public var chunk: Int
        /// How many chunks the table has; known only in the table of contents.
        public var chunkCount: Int?
        /// Rows in this chunk.
        public var rows: Int
        /// The chunk's ``RowDigest`` (32 hex digits), seeded as the header's
        /// `rowDigest` says; nil in archives written before row digests.
        public var rowDigest: String?

        public init(tableSchema: String, tableName: String, copyStatement: String, chunk: Int, chunkCount: Int? = nil, rows: Int,
                    rowDigest: String? = nil) {
            self.tableSchema = tableSchema
            self.tableName = tableName
            self.copyStatement = copyStatement
            self.chunk = chunk
            self.chunkCount = chunkCount
            self.rows = rows
            self.rowDigest = rowDigest
        }
    }

    /// Whether two descriptions agree on everything but the placement fields
    /// that only the table of contents knows (offset, chunk count).
    func matchesInline(_ inline: ArchiveEntry) -> Bool {
        var mine = self
        mine.offset = nil
        mine.data?.chunkCount = nil
        var theirs = inline
        theirs.offset = nil
        theirs.data?.chunkCount = nil
        return mine == theirs
    }
}

/// The table of contents: every entry in file order.
public struct ArchiveTableOfContents: Codable, Sendable, Equatable {
    public var entries: [ArchiveEntry]

    public init(entries: [ArchiveEntry]) {
        self.entries = entries
    }
}
