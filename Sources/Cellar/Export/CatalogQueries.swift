import Foundation

/// The catalog queries, which `CatalogCursor` fetches a page at a time
/// through a cursor and decodes row by row. Those whose rows are many in a
/// schema of thousands of tables (relations and their columns, sequences,
/// constraints, indexes, types, functions, dependencies) return plain
/// columns, decoded column by column (`CatalogRowDecoder`), a list or a
/// nested row as a `json` column; the others one JSON object a row
/// (`jsonRows`), which costs the server and the client more a row.
///
/// They run inside the export's snapshot with `search_path` empty, so every
/// `regproc`/`regclass`/`format_type` output comes schema-qualified (except
/// for `pg_catalog`, which is always searched). Each is linear in the size of
/// the catalogs: correlated subqueries only where an index serves them.
enum CatalogQueries {
    /// Schemas that hold no user objects.
    static func userSchema(_ alias: String) -> String {
        "\(alias).nspname NOT IN ('pg_catalog', 'information_schema') AND \(alias).nspname !~ '^pg_toast' AND \(alias).nspname !~ '^pg_temp_'"
    }

    /// Objects created by `CREATE EXTENSION` are the extension's, not the export's.
    static func notExtensionMember(_ catalog: String, _ oid: String) -> String {
        "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend xd WHERE xd.classid = '\(catalog)'::pg_catalog.regclass AND xd.objid = \(oid) AND xd.deptype = 'e')"
    }

    /// An ACL as JSON privileges in order; NULL for the default, [] for none.
    static func acl(_ column: String) -> String {
        """
        CASE WHEN \(column) IS NULL THEN NULL ELSE coalesce((
          SELECT json_agg(json_build_object(
            'grantor', pg_catalog.pg_get_userbyid(a.grantor),
            'grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
            'privilege', a.privilege_type, 'grantable', a.is_grantable) ORDER BY a.ord)
          FROM pg_catalog.aclexplode(\(column)) WITH ORDINALITY AS a(grantor, grantee, privilege_type, is_grantable, ord)), '[]'::json) END
        """
    }

    /// One `row` column holding each row of `select` as a JSON object, in its order.
    static func jsonRows(_ select: String) -> String {
        "SELECT pg_catalog.row_to_json(x)::text AS row FROM (\(select)) x"
    }

    /// The name of the tablespace a `reltablespace`-like column holds; NULL
    /// for 0, the database's default.
    static func tablespace(of column: String) -> String {
        "(SELECT ts.spcname FROM pg_catalog.pg_tablespace ts WHERE ts.oid = \(column))"
    }

    static func qualified(_ schema: String, _ name: String) -> String {
        "pg_catalog.quote_ident(\(schema)) || '.' || pg_catalog.quote_ident(\(name))"
    }

    /// A column's properties (``ColumnRow``), by name, over `pg_attribute a`,
    /// its type `atyp` and its default `ad` (``columnJoins``): read as JSON
    /// objects by ``columns(of:)`` and as plain columns by ``relationColumns``.
    static let columnFields: KeyValuePairs<String, String> = [
        "num": "a.attnum", "name": "a.attname", "qname": "pg_catalog.quote_ident(a.attname)",
        "type": "pg_catalog.format_type(a.atttypid, a.atttypmod)",
        "notnull": "a.attnotnull", "generated": "a.attgenerated", "identity": "a.attidentity",
        "islocal": "a.attislocal", "inhcount": "a.attinhcount",
        "collation": """
            CASE WHEN a.attcollation <> 0 AND a.attcollation <> atyp.typcollation THEN
                (SELECT \(qualified("cn.nspname", "co.collname")) FROM pg_catalog.pg_collation co
                 JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END
            """,
        "defaultOid": "ad.oid::int8", "defaultExpr": "pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)",
        "acl": acl("a.attacl"),
        "storage": "a.attstorage", "typstorage": "atyp.typstorage", "compression": "a.attcompression",
        "stattarget": "a.attstattarget", "options": "pg_catalog.to_json(a.attoptions)",
    ]

    /// What ``columnFields`` read besides `pg_attribute a`.
    static let columnJoins = """
        JOIN pg_catalog.pg_type atyp ON atyp.oid = a.atttypid
        LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
        """

    /// The columns of one relation as a JSON list, for a query over few
    /// relations (composite types, foreign tables); ``relationColumns`` reads
    /// those of every relation at once.
    static func columns(of relation: String) -> String {
        """
        (SELECT json_agg(json_build_object(\(columnFields.map { "'\($0)', \($1)" }.joined(separator: ", "))) ORDER BY a.attnum)
         FROM pg_catalog.pg_attribute a
         \(columnJoins)
         WHERE a.attrelid = \(relation) AND a.attnum > 0 AND NOT a.attisdropped)
        """
    }

    static let schemas = jsonRows("""
        SELECT n.oid::int8 AS oid, n.nspname AS name, pg_catalog.quote_ident(n.nspname) AS qname,
               pg_catalog.pg_get_userbyid(n.nspowner) AS owner, \(acl("n.nspacl")) AS acl
        FROM pg_catalog.pg_namespace n
        WHERE \(userSchema("n")) AND \(notExtensionMember("pg_namespace", "n.oid"))
        ORDER BY n.nspname
        """)

    static let extensions = jsonRows("""
        SELECT e.oid::int8 AS oid, e.extname AS name, pg_catalog.quote_ident(e.extname) AS qname, n.nspname AS schema,
               pg_catalog.quote_ident(n.nspname) AS qschema, e.extversion AS version
        FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
        WHERE e.oid >= 16384
        ORDER BY e.extname
        """)

    /// Plain columns (``CatalogRowDecoder``); the columns of each relation
    /// come from ``relationColumns``.
    static let relations = """
        SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, \(qualified("n.nspname", "c.relname")) AS qname,
               c.relkind AS kind, c.relpersistence AS persistence, pg_catalog.pg_get_userbyid(c.relowner) AS owner,
               c.relispartition AS ispartition, pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS partbound,
               CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partkey,
               pg_catalog.to_json(c.reloptions) AS reloptions, \(acl("c.relacl")) AS acl,
               pg_catalog.to_json((SELECT t.reloptions FROM pg_catalog.pg_class t WHERE t.oid = c.reltoastrelid)) AS toastoptions,
               c.relrowsecurity AS rowsecurity, c.relforcerowsecurity AS forcerowsecurity, c.relispopulated AS ispopulated,
               am.amname AS "accessMethod",
               CASE WHEN c.relkind IN ('r', 'm') THEN pg_catalog.pg_relation_size(c.oid) ELSE 0 END AS "estimatedBytes",
               CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS viewdef,
               (SELECT json_agg(\(qualified("pn.nspname", "p.relname")) ORDER BY i.inhseqno)
                  FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
                  JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) AS parents,
               (SELECT json_agg(i.inhparent::int8 ORDER BY i.inhseqno) FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid) AS "parentOids",
               c.relreplident AS replident, \(tablespace(of: "c.reltablespace")) AS tablespace,
               CASE WHEN c.reloftype <> 0 THEN pg_catalog.format_type(c.reloftype, NULL) END AS oftype
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
        WHERE \(relationScope("c", "n"))
        ORDER BY n.nspname, c.relname
        """

    /// The relations ``relations`` reads.
    static func relationScope(_ relation: String, _ schema: String) -> String {
        "\(relation).relkind IN ('r', 'p', 'v', 'm') AND \(userSchema(schema)) AND \(notExtensionMember("pg_class", "\(relation).oid"))"
    }

    /// The columns of every relation ``relations`` reads, in one pass over
    /// pg_attribute, by relation and number: plain columns
    /// (``RelationColumnRow``). A subquery a relation that built each
    /// relation's columns as JSON was two thirds of the relations query.
    static let relationColumns = """
        SELECT a.attrelid::int8 AS "relationOid", \(columnFields.map { "\($1) AS \"\($0)\"" }.joined(separator: ", "))
        FROM pg_catalog.pg_attribute a
        JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        \(columnJoins)
        WHERE a.attnum > 0 AND NOT a.attisdropped AND \(relationScope("c", "n"))
        ORDER BY a.attrelid, a.attnum
        """

    static let sequences = """
        SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, \(qualified("n.nspname", "c.relname")) AS qname,
               pg_catalog.pg_get_userbyid(c.relowner) AS owner, pg_catalog.format_type(s.seqtypid, NULL) AS type,
               c.relpersistence AS persistence,
               s.seqstart::text AS start, s.seqincrement::text AS increment, s.seqmax::text AS max, s.seqmin::text AS min,
               s.seqcache::text AS cache, s.seqcycle AS cycle, \(acl("c.relacl")) AS acl,
               d.refobjid::int8 AS "ownerTableOid", \(qualified("tn.nspname", "t.relname")) AS "ownerTable",
               a.attname AS "ownerColumn", pg_catalog.quote_ident(a.attname) AS "ownerColumnQ", d.deptype AS ownership
        FROM pg_catalog.pg_sequence s
        JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_class'::pg_catalog.regclass AND d.objid = c.oid
             AND d.refclassid = 'pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
        LEFT JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
        LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
        LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE \(userSchema("n")) AND \(notExtensionMember("pg_class", "c.oid"))
        ORDER BY n.nspname, c.relname
        """

    static let constraints = """
        SELECT co.oid::int8 AS oid, co.conname AS name, pg_catalog.quote_ident(co.conname) AS qname, co.contype AS type,
               co.conrelid::int8 AS "relationOid", coalesce(\(qualified("n.nspname", "c.relname")), '') AS relation,
               coalesce(n.nspname, '') AS "relationSchema", coalesce(c.relname, '') AS "relationName",
               coalesce(c.relkind::text, '') AS "relationKind", co.contypid::int8 AS "typeOid",
               co.conislocal AS islocal, co.conparentid::int8 AS "parentOid", co.convalidated AS validated,
               pg_catalog.pg_get_constraintdef(co.oid) AS definition, co.conindid::int8 AS "indexOid",
               CASE WHEN co.contype IN ('p', 'u', 'x') THEN
                 (SELECT \(tablespace(of: "ci.reltablespace")) FROM pg_catalog.pg_class ci WHERE ci.oid = co.conindid) END AS "indexTablespace"
        FROM pg_catalog.pg_constraint co
        JOIN pg_catalog.pg_namespace cn ON cn.oid = co.connamespace
        LEFT JOIN pg_catalog.pg_class c ON c.oid = co.conrelid
        LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE co.contype IN ('c', 'p', 'u', 'f', 'x') AND \(userSchema("cn"))
        ORDER BY co.conrelid, co.conname
        """

    static let indexes = """
        SELECT i.indexrelid::int8 AS oid, n.nspname AS schema, ic.relname AS name, \(qualified("n.nspname", "ic.relname")) AS qname,
               i.indrelid::int8 AS "tableOid", \(qualified("tn.nspname", "t.relname")) AS "table",
               pg_catalog.pg_get_indexdef(i.indexrelid) AS definition, i.indisclustered AS clustered,
               i.indisreplident AS "replicaIdentity", co.oid::int8 AS "constraintOid",
               i.indisvalid AS valid, i.indisready AS ready, t.relkind AS "tableKind",
               \(tablespace(of: "ic.reltablespace")) AS tablespace,
               (SELECT \(qualified("pn.nspname", "p.relname")) FROM pg_catalog.pg_inherits h
                  JOIN pg_catalog.pg_class p ON p.oid = h.inhparent JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
                  WHERE h.inhrelid = i.indexrelid) AS "parentIndex",
               (SELECT h.inhparent::int8 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid) AS "parentIndexOid"
        FROM pg_catalog.pg_index i
        JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
        JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
        JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
        -- pg_constraint has no index on conindid: a join, not a subquery a row
        LEFT JOIN pg_catalog.pg_constraint co ON co.conrelid = i.indrelid AND co.conindid = i.indexrelid
             AND co.contype IN ('p', 'u', 'x')
        WHERE t.relkind IN ('r', 'p', 'm') AND \(userSchema("tn")) AND \(notExtensionMember("pg_class", "t.oid"))
        ORDER BY n.nspname, ic.relname
        """

    static let functions = """
        SELECT p.oid::int8 AS oid, n.nspname AS schema, p.proname AS name, \(qualified("n.nspname", "p.proname")) AS qname,
               p.prokind AS kind, pg_catalog.pg_get_userbyid(p.proowner) AS owner,
               pg_catalog.pg_get_function_identity_arguments(p.oid) AS "identityArguments",
               pg_catalog.pg_get_function_arguments(p.oid) AS arguments, \(acl("p.proacl")) AS acl,
               CASE WHEN p.prokind <> 'a' THEN pg_catalog.pg_get_functiondef(p.oid) END AS definition,
               l.lanname AS language
        FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        JOIN pg_catalog.pg_language l ON l.oid = p.prolang
        WHERE \(userSchema("n")) AND \(notExtensionMember("pg_proc", "p.oid"))
          -- range and multirange constructors come with their type
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend id WHERE id.classid = 'pg_proc'::pg_catalog.regclass
                          AND id.objid = p.oid AND id.deptype = 'i')
        ORDER BY n.nspname, p.proname, p.oid
        """

    static let aggregates = """
        SELECT a.aggfnoid::oid::int8 AS oid, a.aggkind, a.aggtransfn::text AS transfn,
               pg_catalog.format_type(a.aggtranstype, NULL) AS transtype, a.aggtransspace AS transspace,
               CASE WHEN a.aggfinalfn::oid <> 0 THEN a.aggfinalfn::text END AS finalfn, a.aggfinalextra AS finalextra,
               a.aggfinalmodify AS finalmodify,
               CASE WHEN a.aggcombinefn::oid <> 0 THEN a.aggcombinefn::text END AS combinefn,
               CASE WHEN a.aggserialfn::oid <> 0 THEN a.aggserialfn::text END AS serialfn,
               CASE WHEN a.aggdeserialfn::oid <> 0 THEN a.aggdeserialfn::text END AS deserialfn,
               a.agginitval AS initval,
               CASE WHEN a.aggmtransfn::oid <> 0 THEN a.aggmtransfn::text END AS mtransfn,
               CASE WHEN a.aggminvtransfn::oid <> 0 THEN a.aggminvtransfn::text END AS minvtransfn,
               CASE WHEN a.aggmtranstype <> 0 THEN pg_catalog.format_type(a.aggmtranstype, NULL) END AS mtranstype,
               a.aggmtransspace AS mtransspace,
               CASE WHEN a.aggmfinalfn::oid <> 0 THEN a.aggmfinalfn::text END AS mfinalfn, a.aggmfinalextra AS mfinalextra,
               a.aggmfinalmodify AS mfinalmodify, a.aggminitval AS minitval,
               CASE WHEN a.aggsortop <> 0 THEN 'OPERATOR(' || pg_catalog.quote_ident(opn.nspname) || '.' || o.oprname || ')' END AS sortop,
               p.proparallel AS parallel
        FROM pg_catalog.pg_aggregate a
        JOIN pg_catalog.pg_proc p ON p.oid = a.aggfnoid
        JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        LEFT JOIN pg_catalog.pg_operator o ON o.oid = a.aggsortop
        LEFT JOIN pg_catalog.pg_namespace opn ON opn.oid = o.oprnamespace
        WHERE \(userSchema("n")) AND \(notExtensionMember("pg_proc", "p.oid"))
        """

    static let types = """
        SELECT t.oid::int8 AS oid, n.nspname AS schema, t.typname AS name, \(qualified("n.nspname", "t.typname")) AS qname,
               t.typtype AS kind, pg_catalog.pg_get_userbyid(t.typowner) AS owner, \(acl("t.typacl")) AS acl,
               CASE WHEN t.typtype = 'e' THEN (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder)
                  FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) END AS labels,
               CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END AS "baseType",
               t.typnotnull AS notnull, pg_catalog.pg_get_expr(t.typdefaultbin, 0) AS "defaultExpr",
               CASE WHEN t.typtype = 'd' AND t.typcollation <> 0 AND t.typcollation <>
                    (SELECT bt.typcollation FROM pg_catalog.pg_type bt WHERE bt.oid = t.typbasetype) THEN
                  (SELECT \(qualified("cn.nspname", "co.collname")) FROM pg_catalog.pg_collation co
                   JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation) END AS collation,
               CASE WHEN t.typtype = 'c' THEN \(columns(of: "t.typrelid")) END AS attributes,
               pg_catalog.format_type(r.rngsubtype, NULL) AS "rangeSubtype",
               CASE WHEN r.rngtypid IS NOT NULL AND NOT opc.opcdefault THEN \(qualified("opcn.nspname", "opc.opcname")) END AS "rangeOpclass",
               CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> (SELECT st.typcollation FROM pg_catalog.pg_type st WHERE st.oid = r.rngsubtype) THEN
                  (SELECT \(qualified("cn.nspname", "co.collname")) FROM pg_catalog.pg_collation co
                   JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = r.rngcollation) END AS "rangeCollation",
               CASE WHEN r.rngcanonical::oid <> 0 THEN r.rngcanonical::text END AS "rangeCanonical",
               CASE WHEN r.rngsubdiff::oid <> 0 THEN r.rngsubdiff::text END AS "rangeSubdiff",
               (SELECT \(qualified("mn.nspname", "m.typname")) FROM pg_catalog.pg_type m
                  JOIN pg_catalog.pg_namespace mn ON mn.oid = m.typnamespace WHERE m.oid = r.rngmultitypid) AS multirange,
               t.typrelid::int8 AS "relationOid"
        FROM pg_catalog.pg_type t
        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        LEFT JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid
        LEFT JOIN pg_catalog.pg_opclass opc ON opc.oid = r.rngsubopc
        LEFT JOIN pg_catalog.pg_namespace opcn ON opcn.oid = opc.opcnamespace
        WHERE \(userSchema("n")) AND t.typtype IN ('b', 'c', 'd', 'e', 'r', 'p')
          AND (t.typrelid = 0 OR (SELECT rc.relkind FROM pg_catalog.pg_class rc WHERE rc.oid = t.typrelid) = 'c')
          AND NOT (t.typelem <> 0 AND t.typlen = -1 AND EXISTS (
                SELECT 1 FROM pg_catalog.pg_type et WHERE et.oid = t.typelem AND et.typarray = t.oid))
          AND \(notExtensionMember("pg_type", "t.oid"))
        ORDER BY n.nspname, t.typname
        """

    static let triggers = jsonRows("""
        SELECT t.oid::int8 AS oid, t.tgname AS name, pg_catalog.quote_ident(t.tgname) AS qname, t.tgrelid::int8 AS "tableOid",
               \(qualified("n.nspname", "c.relname")) AS "table", n.nspname AS schema, c.relname AS "tableName",
               pg_catalog.pg_get_triggerdef(t.oid, false) AS definition, t.tgenabled AS enabled
        FROM pg_catalog.pg_trigger t
        JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND \(userSchema("n")) AND \(notExtensionMember("pg_class", "c.oid"))
        ORDER BY n.nspname, c.relname, t.tgname
        """)

    static let policies = jsonRows("""
        SELECT p.oid::int8 AS oid, p.polname AS name, pg_catalog.quote_ident(p.polname) AS qname, p.polrelid::int8 AS "tableOid",
               \(qualified("n.nspname", "c.relname")) AS "table", n.nspname AS schema, c.relname AS "tableName",
               p.polpermissive AS permissive, p.polcmd AS command,
               CASE WHEN p.polroles = '{0}' THEN NULL ELSE (SELECT json_agg(CASE WHEN u.r <> 0
                    THEN pg_catalog.pg_get_userbyid(u.r) END ORDER BY u.ord)
                  FROM unnest(p.polroles) WITH ORDINALITY AS u(r, ord)) END AS roles,
               pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual,
               pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS "withCheck"
        FROM pg_catalog.pg_policy p
        JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE \(userSchema("n"))
        ORDER BY n.nspname, c.relname, p.polname
        """)

    static let statistics = jsonRows("""
        SELECT s.oid::int8 AS oid, n.nspname AS schema, s.stxname AS name, \(qualified("n.nspname", "s.stxname")) AS qname,
               pg_catalog.pg_get_userbyid(s.stxowner) AS owner, pg_catalog.pg_get_statisticsobjdef(s.oid) AS definition,
               s.stxrelid::int8 AS "tableOid", s.stxstattarget AS stattarget
        FROM pg_catalog.pg_statistic_ext s
        JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
        WHERE \(userSchema("n"))
        ORDER BY n.nspname, s.stxname
        """)

    static let defaultPrivileges = jsonRows("""
        SELECT d.oid::int8 AS oid, pg_catalog.pg_get_userbyid(d.defaclrole) AS role, n.nspname AS schema,
               pg_catalog.quote_ident(n.nspname) AS qschema, d.defaclobjtype AS objtype, \(acl("d.defaclacl")) AS acl
        FROM pg_catalog.pg_default_acl d
        LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
        ORDER BY 2, 3 NULLS FIRST, 5
        """)

    /// pg_depend between user objects, as plain columns (the largest catalog
    /// read; a column dependency counts as one on its relation).
    /// Extension memberships come first: the builder reads the rest a page
    /// at a time, resolving members to their extension as it goes.
    static let dependencies = """
        SELECT d.classid::pg_catalog.regclass::text AS catalog, d.objid::int8 AS oid,
               d.refclassid::pg_catalog.regclass::text AS ref_catalog, d.refobjid::int8 AS ref_oid, d.deptype AS type
        FROM pg_catalog.pg_depend d
        WHERE d.deptype IN ('n', 'a', 'i', 'e', 'P', 'S') AND d.objid >= 16384 AND d.refobjid >= 16384
        ORDER BY d.deptype <> 'e'
        """

    /// Every role's name and the server's quoting of it.
    static let roleNames = "SELECT r.rolname AS name, pg_catalog.quote_ident(r.rolname) AS qname FROM pg_catalog.pg_roles r"

    /// Names of excluded objects, for warnings: `$1` catalogs, `$2` oids.
    static let describeObjects = """
        SELECT u.catalog, u.oid::int8 AS oid,
               pg_catalog.pg_describe_object(u.catalog::pg_catalog.regclass, u.oid, 0) AS description
        FROM unnest($1::text[], $2::oid[]) AS u(catalog, oid)
        """

    /// Catalog rows that stand for another object: array types for their
    /// element type, row types for their relation, view rules for their view.
    static let links = """
        SELECT 'type-element' AS link, t.oid::int8 AS oid, t.typelem::int8 AS target FROM pg_catalog.pg_type t
          WHERE t.oid >= 16384 AND t.typelem <> 0 AND t.typlen = -1
        UNION ALL
        SELECT 'type-relation', t.oid::int8, t.typrelid::int8 FROM pg_catalog.pg_type t WHERE t.oid >= 16384 AND t.typrelid <> 0
        UNION ALL
        SELECT 'rule', r.oid::int8, r.ev_class::int8 FROM pg_catalog.pg_rewrite r WHERE r.oid >= 16384 AND r.rulename = '_RETURN'
        """

    /// The objects with a comment or a security label, of those
    /// ``descriptions`` and ``securityLabels`` read.
    static let describedObjects = jsonRows("""
        SELECT DISTINCT d.classoid::pg_catalog.regclass::text AS catalog, d.objoid::int8 AS oid
        FROM pg_catalog.pg_description d
        WHERE d.objoid >= 16384 OR (d.classoid = 'pg_namespace'::pg_catalog.regclass AND d.objoid = 2200)
              OR d.classoid = 'pg_largeobject'::pg_catalog.regclass
        UNION
        SELECT l.classoid::pg_catalog.regclass::text, l.objoid::int8
        FROM pg_catalog.pg_seclabel l
        WHERE l.objoid >= 16384 OR (l.classoid = 'pg_namespace'::pg_catalog.regclass AND l.objoid = 2200)
              OR l.classoid = 'pg_largeobject'::pg_catalog.regclass
        """)

    static let descriptions = jsonRows("""
        SELECT d.classoid::pg_catalog.regclass::text AS catalog, d.objoid::int8 AS oid, d.objsubid AS sub, d.description,
               pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid) AS object
        FROM pg_catalog.pg_description d
        WHERE d.objoid >= 16384 OR (d.classoid = 'pg_namespace'::pg_catalog.regclass AND d.objoid = 2200)
              OR d.classoid = 'pg_largeobject'::pg_catalog.regclass
        """)

    static let database = """
        SELECT d.oid::int8 AS oid, d.datname, pg_catalog.pg_get_userbyid(d.datdba) AS owner,
               NULLIF(\(tablespace(of: "d.dattablespace")), 'pg_default') AS tablespace,
               pg_catalog.pg_encoding_to_char(d.encoding) AS encoding, d.datcollate, d.datctype,
               d.datconnlimit, pg_catalog.shobj_description(d.oid, 'pg_database') AS comment,
               d.datacl::text[]::text AS acltext, \(acl("d.datacl")) AS acl
        FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()
        """

    static let databaseSettings = jsonRows("""
        SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(s.setrole) END AS role, s.setconfig AS config
        FROM pg_catalog.pg_db_role_setting s
        JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
        WHERE d.datname = pg_catalog.current_database()
        ORDER BY 1 NULLS FIRST
        """)

    /// Object kinds the exporter does not write. Each query returns the
    /// objects' `name`s and, as pg_depend names them, their `catalog` and
    /// `oid` (NULL for what is no object), so that --exclude-unsupported can
    /// also leave out whatever depends on them.
    static let unsupported: [(kind: String, query: String)] = [
    ]
}
