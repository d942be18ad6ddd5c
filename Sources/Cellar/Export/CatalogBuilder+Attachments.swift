import PostgresClient

// What COMMENT ON and SECURITY LABEL ON attach to: the objects registered
// with `commentable`. A comment or label on an object the export writes but
// did not register would be lost without a word: it is refused instead, as
// an unsupported object is (or left out with a warning under
// --exclude-unsupported).

extension CatalogBuilder {
    enum Attachment {
        /// The object is not in the export (not selected, an extension's, or
        /// left out under --exclude-unsupported): its comment goes with it.
        case notExported
        /// The export writes the object but cannot name it for COMMENT ON.
        case unregistered
        /// `what` follows COMMENT ON / SECURITY LABEL ... ON; `name` is the entry's name.
        case target(CommentTarget, what: String, name: String)
    }

    /// How COMMENT ON or SECURITY LABEL ON names the object (catalog, oid,
    /// sub-object: a column's number, or 0).
    func attachment(_ catalog: String, _ oid: UInt32, sub: Int) -> Attachment {
        let key = ObjectKey(catalog: catalog, oid: oid)
        guard let target = commentTargets[key] else {
            // Written (on its own or as part of another), yet not registered:
            // a kind or sub-object whose comment the exporter cannot place.
            let exported = representative(of: key) != nil
            return exported ? .unregistered : .notExported
        }
        guard sub != 0 else { return .target(target, what: target.target, name: target.name) }
        guard let column = target.columns[sub] else { return .unregistered }
        return .target(target, what: "COLUMN \(target.qualifiedName ?? target.target).\(column)",
                       name: "COLUMN \(target.name).\(column)")
    }

    /// Refuses the export over comments or labels it could not place, or,
    /// under --exclude-unsupported, warns that it leaves them out.
    func refuseUnattached(_ unattached: [String]) throws {
        guard !unattached.isEmpty else { return }
        guard selection.excludeUnsupported else { throw UnsupportedObjectsError(objects: unattached) }
        for what in unattached {
            logger.warning("--exclude-unsupported: leaving out the \(what), which the export cannot attach")
        }
    }

    // MARK: - Security labels

    /// SECURITY LABEL FOR provider ON object IS 'label', for every label on
    /// an exported object (pg_seclabel; labels on roles, databases and
    /// tablespaces are cluster-wide and not the database's).
    mutating func addSecurityLabels() throws {
        let labels: [SecurityLabelRow] = try decodeRows(connection, CatalogQueries.securityLabels)
        var unattached: [String] = []
        for label in labels {
            switch attachment(label.catalog, label.oid, sub: label.sub) {
            case .notExported:
                continue
            case .unregistered:
                unattached.append("security label (\(label.provider)) on \(label.object ?? "\(label.catalog) \(label.oid)")")
            case .target(let target, let what, let name):
                let part = "label:\(label.sub):\(label.provider)"
                add(DumpObject(key: target.key.with(part: part), kind: .securityLabel, schema: target.schema, name: name,
                               owner: target.owner, section: target.section,
                               sql: "SECURITY LABEL FOR \(label.qprovider) ON \(what) IS \(try SQLQuoting.literal(label.label));\n\n",
                               dependencies: [target.key]))
            }
        }
        try refuseUnattached(unattached)
    }
}
