import CellarSupport
import Foundation

/// A catalog object, named the way `pg_depend` names it: the catalog
/// (`pg_class`, `pg_proc`, ...) and the object's oid, plus a tag for the
/// several script pieces one catalog object can give rise to (its owner,
/// comment, privileges, a column default).
///
/// Held as three numbers, 12 bytes: the catalog and the tag are interned
/// (``ObjectKeyNames``). Keys are in every object, every dependency and
/// every index of the catalog phase; as two strings and an oid, 40 bytes
/// hashed string by string, they were a tenth of its memory at 5,000 tables.
struct ObjectKey: Hashable, Comparable, CustomStringConvertible, Sendable {
    private let catalogCode: UInt32
    var oid: UInt32
    private let partCode: UInt32

    init(catalog: String, oid: UInt32, part: String = "") {
        catalogCode = ObjectKeyNames.catalogs.code(for: catalog)
        self.oid = oid
        partCode = part.isEmpty ? 0 : ObjectKeyNames.parts.code(for: part)
    }

    private init(catalogCode: UInt32, oid: UInt32, partCode: UInt32) {
        (self.catalogCode, self.oid, self.partCode) = (catalogCode, oid, partCode)
    }

    var catalog: String { ObjectKeyNames.catalogs.name(catalogCode) }
    var part: String { partCode == 0 ? "" : ObjectKeyNames.parts.name(partCode) }

    static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        if lhs.catalogCode != rhs.catalogCode { return lhs.catalog < rhs.catalog }
        if lhs.oid != rhs.oid { return lhs.oid < rhs.oid }
        return lhs.partCode != rhs.partCode && lhs.part < rhs.part
    }

    var description: String { "\(catalog):\(oid)\(part.isEmpty ? "" : ":" + part)" }

    func with(part: String) -> ObjectKey {
        ObjectKey(catalogCode: catalogCode, oid: oid, partCode: part.isEmpty ? 0 : ObjectKeyNames.parts.code(for: part))
    }
}

/// The catalog names and tags of ``ObjectKey``s, each stored once for the
/// process and numbered: few and short (`pg_class`, `owner`, `comment:3`).
enum ObjectKeyNames {
    static let catalogs = Interner()
    /// Code 0 is the empty tag.
    static let parts = Interner(reserving: "")

    final class Interner: Sendable {
        private let names: Locked<(codes: [String: UInt32], names: [String])>

        init(reserving reserved: String? = nil) {
            names = Locked(reserved.map { ([$0: 0], [$0]) } ?? ([:], []))
        }

        func code(for name: String) -> UInt32 {
            names.withLock { names in
                if let code = names.codes[name] { return code }
                let code = UInt32(names.names.count)
                names.codes[name] = code
                names.names.append(name)
                return code
            }
        }

        func name(_ code: UInt32) -> String { names.read { $0.names[Int(code)] } }
    }
}

/// One piece of the script: an object's DDL or one of the statements
/// attached to it, with what it needs restored first.
struct DumpObject {
    var key: ObjectKey
    /// pg_dump's word for it: `.table`, `.index`, `.foreignKeyConstraint`, ...
    var kind: ArchiveEntry.Kind
    var schema: String?
    var name: String
    var owner: String?
    var section: DumpSection
    /// The statements, ending in a newline.
    var sql: String
    /// A list, not a set: most objects have one or two, and an export of
    /// thousands of tables holds tens of thousands of objects, where a set's
    /// hash storage per object was most of the catalog phase's memory.
    /// `insert(_:)` below keeps it free of repeats.
    var dependencies: [ObjectKey] = []
    /// The tablespace it is created in (a table's, a materialized view's, an
    /// index's, a constraint's index's); nil for the database's default.
    var tablespace: String? = nil

    var priority: Int { kind.sortPriority }

    /// The entry's SQL in the archive: its statements, inside the selection
    /// of its tablespace when it has one (``TablespaceSelection``).
    var archiveSQL: String {
        get throws { try TablespaceSelection.wrap(sql, in: tablespace) }
    }
}

extension [ObjectKey] {
    /// Adds `key` unless it is already there. Lists are short; a long one
    /// (over 64) takes repeats, which every reader tolerates (the ordering
    /// counts an edge twice and releases it twice; entry ids are made unique).
    mutating func insert(_ key: ObjectKey) {
        if count > 64 || !contains(key) { append(key) }
    }

    /// Removes every occurrence of `key`; whether there was one.
    @discardableResult
    mutating func remove(_ key: ObjectKey) -> Bool {
        let before = count
        removeAll { $0 == key }
        return count != before
    }
}

enum DumpSection: Int, Comparable {
    case preData, data, postData

    static func < (lhs: DumpSection, rhs: DumpSection) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What the data phase needs to know about one table.
struct TableDataSource: Sendable {
    var oid: UInt32
    var schema: String
    var name: String
    var owner: String
    /// `schema.table`, quoted.
    var qualifiedName: String
    /// `COPY schema.table (columns)` without direction.
    var copyTarget: String
    /// The catalog's estimate of the table's size, for ordering and the ETA.
    var estimatedBytes: Int64
    /// What `COPY ... TO STDOUT` reads when not `copyTarget`: a query, in
    /// parentheses (an extension configuration table's rows, filtered).
    var copySource: String? = nil
    /// The entry the rows are restored after when not the table's own (an
    /// extension configuration table comes with its extension).
    var dependsOn: ObjectKey? = nil

    /// The object whose entry the table's data entries depend on.
    var dataDependency: ObjectKey { dependsOn ?? ObjectKey(catalog: "pg_class", oid: oid) }
}

// MARK: - Ordering

enum DependencyOrder {
    /// Sorts objects so that each comes after what it depends on, choosing
    /// among the ready ones by pg_dump's priority, then schema and name.
    /// Dependencies on objects not in `objects` are ignored; a cycle is broken
    /// by emitting the best-placed object of the cycle (logged by the caller
    /// through the returned list).
    static func sort(_ objects: [DumpObject]) -> (ordered: [DumpObject], brokenCycles: [ObjectKey]) {
        let order = order(objects)
        return (order.positions.map { objects[$0] }, order.brokenCycles)
    }

    /// As ``sort(_:)``, as positions in `objects`: the export writes from
    /// its one array of objects instead of holding a sorted copy.
    /// `referenced[p]`: whether another object in `objects` depends on the
    /// one at `p` (the export records entry ids only for those it will look up).
    static func order(_ objects: [DumpObject]) -> (positions: [Int], brokenCycles: [ObjectKey], referenced: [Bool]) {
        // Cost: O(n log n + e). Objects are ranked once by one sort; the ready
        // set is a binary heap of ranks; dependencies are adjacency lists of
        // positions found through a dictionary keyed by object, kept in one
        // flat array (compressed rows): a list per object was 2 MiB of array
        // headers at 40,000 objects, at the export's peak.
        // Ranked by priority first, read once into a compact list (a kind's
        // priority is a dictionary lookup); names are compared in place:
        // comparing `objects[a]` with `objects[b]` copied (and retained and
        // released) two whole objects a comparison, a fifth of the pre-data phase.
        let priorities = objects.map { Int32($0.priority) }
        let byRank = objects.withUnsafeBufferPointer { objects in
            priorities.indices.sorted { a, b in
                if priorities[a] != priorities[b] { return priorities[a] < priorities[b] }
                let x = objects.baseAddress! + a, y = objects.baseAddress! + b
                if x.pointee.schema != y.pointee.schema { return (x.pointee.schema ?? "") < (y.pointee.schema ?? "") }
                if x.pointee.name != y.pointee.name { return x.pointee.name < y.pointee.name }
                return x.pointee.key < y.pointee.key
            }
        }
        var rankOf = [Int](repeating: 0, count: objects.count)
        for (rank, position) in byRank.enumerated() { rankOf[position] = rank }

        var waitingOn = [Int32](repeating: 0, count: objects.count)
        // dependents of `target`: dependentList[dependentStart[target] ..< dependentStart[target + 1]].
        var dependentStart = [Int32](repeating: 0, count: objects.count + 1)
        var dependentList: [Int32] = []
        do {
            // Edges as (target, dependent), then counted into place.
            var edges: [(target: Int32, dependent: Int32)] = []
            do {
                var index: [ObjectKey: Int] = [:]
                index.reserveCapacity(objects.count)
                for (position, object) in objects.enumerated() { index[object.key] = position }
                for (position, object) in objects.enumerated() {
                    for dependency in object.dependencies where dependency != object.key {
                        guard let target = index[dependency] else { continue }
                        edges.append((Int32(target), Int32(position)))
                    }
                }
            }
            for edge in edges {
                waitingOn[Int(edge.dependent)] += 1
                dependentStart[Int(edge.target) + 1] += 1
            }
            for position in objects.indices { dependentStart[position + 1] += dependentStart[position] }
            var filled = Array(dependentStart.dropLast())
            dependentList = [Int32](repeating: 0, count: edges.count)
            for edge in edges {
                dependentList[Int(filled[Int(edge.target)])] = edge.dependent
                filled[Int(edge.target)] += 1
            }
        }
        var ready = Heap<Int>()
        for position in objects.indices where waitingOn[position] == 0 { ready.push(rankOf[position]) }
        var done = [Bool](repeating: false, count: objects.count)
        var ordered: [Int] = []
        var broken: [ObjectKey] = []
        ordered.reserveCapacity(objects.count)
        // For cycles: the best-ranked object not yet emitted, found by a
        // cursor that only moves forward.
        var cycleCursor = 0
        while ordered.count < objects.count {
            let next: Int
            if let rank = ready.pop() {
                next = byRank[rank]
                if done[next] { continue }  // emitted earlier to break a cycle
            } else {
                while done[byRank[cycleCursor]] { cycleCursor += 1 }
                next = byRank[cycleCursor]
                broken.append(objects[next].key)
            }
            done[next] = true
            ordered.append(next)
            for slot in Int(dependentStart[next])..<Int(dependentStart[next + 1]) {
                let dependent = Int(dependentList[slot])
                guard !done[dependent] else { continue }
                waitingOn[dependent] -= 1
                if waitingOn[dependent] == 0 { ready.push(rankOf[dependent]) }
            }
        }
        let referenced = objects.indices.map { dependentStart[$0 + 1] > dependentStart[$0] }
        return (ordered, broken, referenced)
    }
}
