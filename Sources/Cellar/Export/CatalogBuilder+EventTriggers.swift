// Event triggers, as pg_dump 15's dumpEventTrigger writes them. Their kind
// sorts last, so they do not fire on the restore's own DDL.

extension CatalogBuilder {
    mutating func buildEventTriggers() throws {
        guard wholeDatabase, selection.schemas.isEmpty else { return }
        let triggers: [EventTriggerRow] = try decodeRows(connection, CatalogQueries.eventTriggers)
        for trigger in triggers where !excluded("pg_event_trigger", trigger.oid) { try addEventTrigger(trigger) }
    }

    mutating func addEventTrigger(_ trigger: EventTriggerRow) throws {
        let key = ObjectKey(catalog: "pg_event_trigger", oid: trigger.oid)
        represented[key] = key
        var sql = "CREATE EVENT TRIGGER \(trigger.qname) ON \(trigger.event)"
        if !trigger.tags.isEmpty { sql += "\n         WHEN TAG IN (\(trigger.tags))" }
        sql += "\n   EXECUTE FUNCTION \(trigger.function)();\n"
        if let action = Self.enableAction(trigger.enabled) { sql += "\nALTER EVENT TRIGGER \(trigger.qname) \(action);\n" }
        add(DumpObject(key: key, kind: .eventTrigger, schema: nil, name: trigger.name, owner: trigger.owner, section: .postData, sql: sql + "\n"))
        try addOwner(of: key, kind: .eventTrigger, target: "EVENT TRIGGER \(trigger.qname)", schema: nil, name: trigger.name,
                     owner: trigger.owner, section: .postData)
        commentable("pg_event_trigger", trigger.oid, CommentTarget(target: "EVENT TRIGGER \(trigger.qname)", key: key, section: .postData,
                                                                   schema: nil, name: "EVENT TRIGGER \(trigger.name)", owner: trigger.owner))
    }
}
