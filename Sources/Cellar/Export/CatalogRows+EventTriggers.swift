struct EventTriggerRow: Decodable {
    var oid: UInt32
    var name: String
    var qname: String
    /// The event, quoted.
    var event: String
    var owner: String
    /// regproc text: quoted and qualified by the server.
    var function: String
    /// pg_event_trigger.evtenabled: O (origin, the default), D, R or A.
    var enabled: String
    /// Quoted literals, comma-separated; empty for all tags.
    var tags: String
}
