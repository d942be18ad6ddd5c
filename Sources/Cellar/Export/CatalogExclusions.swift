/// What `--exclude-unsupported` leaves out: the unsupported objects and,
/// through pg_depend, every object that depends on one of them, directly or
/// not, so that the archive never holds a statement that needs something it
/// does not create.
///
/// Objects are taken whole, as the script writes them: a column dependency
/// is one on its relation (pg_depend rows arrive without `objsubid`), and an
/// object that is an internal part of another (`deptype = 'i'`: an array type,
/// a table's row type, a view's `_RETURN` rule, a constraint's index, a
/// generated column's expression) stands or falls with that other object. So a
/// table with a column of an excluded type is left out whole, rows included,
/// while a plain column default that calls an excluded function is left out
/// alone, as `DROP ... CASCADE` would drop it.
struct CatalogExclusions {
    /// Object → the object it is an internal part of.
    private var partOf: [ObjectKey: ObjectKey] = [:]
    /// Every left-out object (as a whole) → the left-out object it depends
    /// on; nil for the unsupported objects themselves.
    private var causes: [ObjectKey: ObjectKey?] = [:]
    /// The objects left out because they depend on others, in the order found.
    private(set) var dependents: [ObjectKey] = []

    /// Nothing left out.
    init() {}

    /// - Parameters:
    ///   - roots: the unsupported objects.
    ///   - dependencies: pg_depend between user objects.
    init(excluding roots: [ObjectKey], dependencies: [DependencyRow]) {
        guard !roots.isEmpty else { return }
        for row in dependencies where row.type == .internal && row.key != row.refKey && partOf[row.key] == nil {
            partOf[row.key] = row.refKey
        }
        // Membership of an extension is no dependency on what the extension needs.
        var dependentsOf: [ObjectKey: [ObjectKey]] = [:]
        for row in dependencies where row.type != .extensionMember {
            let whole = self.whole(of: row.key), needed = self.whole(of: row.refKey)
            if whole != needed { dependentsOf[needed, default: []].append(whole) }
        }
        var queue: [ObjectKey] = []
        for root in roots.map(whole(of:)) where causes[root] == nil {
            causes[root] = .some(nil)
            queue.append(root)
        }
        var next = 0
        while next < queue.count {
            let needed = queue[next]
            next += 1
            for dependent in dependentsOf[needed] ?? [] where causes[dependent] == nil {
                causes[dependent] = needed
                dependents.append(dependent)
                queue.append(dependent)
            }
        }
    }

    var isEmpty: Bool { causes.isEmpty }

    /// Whether the object, or the object it is part of, is left out.
    func contains(_ key: ObjectKey) -> Bool {
        !causes.isEmpty && causes[whole(of: key.with(part: ""))] != nil
    }

    /// For a left-out dependent: the left-out object it depends on.
    func cause(of dependent: ObjectKey) -> ObjectKey? {
        causes[whole(of: dependent)] ?? nil
    }

    /// The object `key` is an internal part of, or `key` itself.
    func whole(of key: ObjectKey) -> ObjectKey {
        var current = key
        // Internal dependencies nest at most a few deep (a constraint's
        // index's ...); the bound only guards against a cycle.
        for _ in 0..<8 {
            guard let whole = partOf[current], whole != key else { break }
            current = whole
        }
        return current
    }
}
