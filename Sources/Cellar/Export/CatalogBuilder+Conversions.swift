import PostgresClient

// Encoding conversions, as pg_dump 15's dumpConversion writes them.

extension CatalogBuilder {
    mutating func buildConversions() throws {
        guard wholeDatabase else { return }
        let conversions: [ConversionRow] = try decodeRows(connection, CatalogQueries.conversions)
        for conversion in conversions where schemaIncluded(conversion.schema) && !excluded("pg_conversion", conversion.oid) {
            let key = ObjectKey(catalog: "pg_conversion", oid: conversion.oid)
            represented[key] = key
            let sql = "CREATE \(conversion.isDefault ? "DEFAULT " : "")CONVERSION \(conversion.qname) FOR \(try SQLQuoting.literal(conversion.from)) "
                + "TO \(try SQLQuoting.literal(conversion.to)) FROM \(conversion.function);\n\n"
            add(DumpObject(key: key, kind: .conversion, schema: conversion.schema, name: conversion.name, owner: conversion.owner,
                           section: .preData, sql: sql))
            try addOwner(of: key, kind: .conversion, target: "CONVERSION \(conversion.qname)", schema: conversion.schema,
                         name: conversion.name, owner: conversion.owner, section: .preData)
            commentable("pg_conversion", conversion.oid, CommentTarget(target: "CONVERSION \(conversion.qname)", key: key, section: .preData,
                                                                       schema: conversion.schema, name: "CONVERSION \(conversion.name)", owner: conversion.owner))
        }
    }
}
