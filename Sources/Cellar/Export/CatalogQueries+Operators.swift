// Catalog queries for operators, operator families and operator classes.

extension CatalogQueries {
    /// `OPERATOR(schema.name)`, as pg_dump names a commutator, negator or sort operator.
    static func operatorReference(_ oid: String) -> String {
        """
        (SELECT 'OPERATOR(' || pg_catalog.quote_ident(rn.nspname) || '.' || ro.oprname || ')'
         FROM pg_catalog.pg_operator ro JOIN pg_catalog.pg_namespace rn ON rn.oid = ro.oprnamespace WHERE ro.oid = \(oid))
        """
    }

    /// Shell operators (made by a COMMUTATOR or NEGATOR reference, never
    /// defined) are left out, as pg_dump does: the operator naming one remakes it.
    static let operators = jsonRows("""
        SELECT o.oid::int8 AS oid, n.nspname AS schema, pg_catalog.quote_ident(n.nspname) AS qschema, o.oprname AS name,
               pg_catalog.pg_get_userbyid(o.oprowner) AS owner,
               CASE WHEN o.oprleft <> 0 THEN pg_catalog.format_type(o.oprleft, NULL) END AS "left",
               CASE WHEN o.oprright <> 0 THEN pg_catalog.format_type(o.oprright, NULL) END AS "right",
               CASE WHEN o.oprcode <> 0 THEN o.oprcode::pg_catalog.regproc::text END AS function,
               CASE WHEN o.oprcom <> 0 THEN \(operatorReference("o.oprcom")) END AS commutator,
               CASE WHEN o.oprnegate <> 0 THEN \(operatorReference("o.oprnegate")) END AS negator,
               CASE WHEN o.oprrest <> 0 THEN o.oprrest::pg_catalog.regproc::text END AS restrict,
               CASE WHEN o.oprjoin <> 0 THEN o.oprjoin::pg_catalog.regproc::text END AS "join",
               o.oprcanmerge AS merges, o.oprcanhash AS hashes
        FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
        WHERE o.oprcode <> 0 AND \(userSchema("n")) AND \(notExtensionMember("pg_operator", "o.oid"))
        ORDER BY n.nspname, o.oprname, o.oid
        """)

    /// Operators and support functions of a family or class: `owner` is the
    /// column (amopfamily/amprocfamily) or pg_depend reference that makes one
    /// a member, as in pg_dump's dumpOpclass and dumpOpfamily.
    static func members(deptype: String, refCatalog: String, ref: String, family: String) -> String {
        """
        (SELECT json_agg(json_build_object('catalog', m.catalog, 'oid', m.oid::int8, 'text', m.text) ORDER BY m.kind, m.number, m.text) FROM (
           SELECT 'pg_amop' AS catalog, ao.oid, 1 AS kind, ao.amopstrategy AS number,
                  'OPERATOR ' || ao.amopstrategy || ' ' || ao.amopopr::pg_catalog.regoperator::text
                  || CASE WHEN ao.amoppurpose = 'o' THEN ' FOR ORDER BY ' || \(qualified("sfn.nspname", "sf.opfname")) ELSE '' END AS text
           FROM pg_catalog.pg_amop ao
           JOIN pg_catalog.pg_depend dep ON dep.classid = 'pg_amop'::pg_catalog.regclass AND dep.objid = ao.oid
                AND dep.refclassid = '\(refCatalog)'::pg_catalog.regclass AND dep.refobjid = \(ref) AND dep.deptype = '\(deptype)'
           LEFT JOIN pg_catalog.pg_opfamily sf ON sf.oid = ao.amopsortfamily
           LEFT JOIN pg_catalog.pg_namespace sfn ON sfn.oid = sf.opfnamespace
           WHERE ao.amopfamily = \(family)
           UNION ALL
           SELECT 'pg_amproc', ap.oid, 2, ap.amprocnum,
                  'FUNCTION ' || ap.amprocnum || ' (' || pg_catalog.format_type(ap.amproclefttype, NULL) || ', '
                  || pg_catalog.format_type(ap.amprocrighttype, NULL) || ') ' || ap.amproc::pg_catalog.regprocedure::text
           FROM pg_catalog.pg_amproc ap
           JOIN pg_catalog.pg_depend dep ON dep.classid = 'pg_amproc'::pg_catalog.regclass AND dep.objid = ap.oid
                AND dep.refclassid = '\(refCatalog)'::pg_catalog.regclass AND dep.refobjid = \(ref) AND dep.deptype = '\(deptype)'
           WHERE ap.amprocfamily = \(family)) m)
        """
    }

    static let operatorFamilies = jsonRows("""
        SELECT f.oid::int8 AS oid, n.nspname AS schema, f.opfname AS name, \(qualified("n.nspname", "f.opfname")) AS qname,
               pg_catalog.pg_get_userbyid(f.opfowner) AS owner, pg_catalog.quote_ident(am.amname) AS method,
               \(members(deptype: "a", refCatalog: "pg_opfamily", ref: "f.oid", family: "f.oid")) AS members
        FROM pg_catalog.pg_opfamily f JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace
        JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod
        WHERE \(userSchema("n")) AND \(notExtensionMember("pg_opfamily", "f.oid"))
        ORDER BY n.nspname, f.opfname, f.oid
        """)

    static let operatorClasses = jsonRows("""
        SELECT c.oid::int8 AS oid, n.nspname AS schema, c.opcname AS name, \(qualified("n.nspname", "c.opcname")) AS qname,
               pg_catalog.pg_get_userbyid(c.opcowner) AS owner, pg_catalog.quote_ident(am.amname) AS method,
               c.opcdefault AS "isDefault", pg_catalog.format_type(c.opcintype, NULL) AS type,
               CASE WHEN c.opckeytype <> 0 THEN pg_catalog.format_type(c.opckeytype, NULL) END AS storage,
               CASE WHEN f.opfname <> c.opcname OR f.opfnamespace <> c.opcnamespace THEN \(qualified("fn.nspname", "f.opfname")) END AS family,
               \(members(deptype: "i", refCatalog: "pg_opclass", ref: "c.oid", family: "c.opcfamily")) AS members
        FROM pg_catalog.pg_opclass c JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace
        JOIN pg_catalog.pg_am am ON am.oid = c.opcmethod
        JOIN pg_catalog.pg_opfamily f ON f.oid = c.opcfamily
        JOIN pg_catalog.pg_namespace fn ON fn.oid = f.opfnamespace
        WHERE \(userSchema("n")) AND \(notExtensionMember("pg_opclass", "c.oid"))
        ORDER BY n.nspname, c.opcname, c.oid
        """)
}
