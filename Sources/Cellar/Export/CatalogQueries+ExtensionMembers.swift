// What pg_dump 15 writes about objects that belong to extensions: the rows of
// their configuration tables (pg_extension_config_dump).

extension CatalogQueries {
    /// Each extension's configuration tables with the condition that picks
    /// the rows to export (`extcondition`: "" or "WHERE ...", written by the
    /// extension's script) and the stored columns COPY names.
    static let extensionConfigurationData = jsonRows("""
        SELECT e.oid::int8 AS "extensionOid", e.extname AS "extensionName", c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name,
               \(qualified("n.nspname", "c.relname")) AS qname, pg_catalog.pg_get_userbyid(c.relowner) AS owner,
               coalesce(cfg.condition, '') AS condition, pg_catalog.pg_relation_size(c.oid) AS "estimatedBytes",
               (SELECT json_agg(pg_catalog.quote_ident(a.attname) ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns
        FROM pg_catalog.pg_extension e
        CROSS JOIN LATERAL unnest(e.extconfig, e.extcondition) AS cfg(reloid, condition)
        JOIN pg_catalog.pg_class c ON c.oid = cfg.reloid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r'
        ORDER BY n.nspname, c.relname
        """)
}

extension CatalogQueries {
    /// Privileges changed since they were set up (pg_init_privs, else the
    /// default for the kind), on built-in objects in pg_catalog and on
    /// extension members, as pg_dump 15 writes them: what is to be revoked
    /// and what granted, privilege by privilege, for objects and for table
    /// columns (`sub` > 0). `extensionOid` is 0 for built-in objects.
    static let initialPrivilegeChanges = jsonRows("""
        WITH members AS (
          SELECT d.classid, d.objid, d.refobjid AS ext FROM pg_catalog.pg_depend d
          WHERE d.deptype = 'e' AND d.refclassid = 'pg_extension'::pg_catalog.regclass
        ), objects AS (
          SELECT 'pg_class'::text AS catalog, c.oid, coalesce(m.ext, 0) AS ext, c.relnamespace AS nsp,
                 CASE WHEN c.relkind = 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || \(qualified("n.nspname", "c.relname")) AS target,
                 c.relname::text AS name, c.relowner AS owner, c.relacl AS acl,
                 CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char" AS objtype, 0 AS sub, NULL::text AS col
          FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN members m ON m.classid = 'pg_class'::pg_catalog.regclass AND m.objid = c.oid
          WHERE c.relkind IN ('r', 'v', 'm', 'S', 'f', 'p') AND (n.nspname = 'pg_catalog' OR m.ext IS NOT NULL)
          UNION ALL
          SELECT 'pg_proc', p.oid, coalesce(m.ext, 0), p.pronamespace,
                 CASE WHEN p.prokind = 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END || \(qualified("n.nspname", "p.proname"))
                   || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
                 p.proname::text || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')', p.proowner, p.proacl, 'f', 0, NULL
          FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
          LEFT JOIN members m ON m.classid = 'pg_proc'::pg_catalog.regclass AND m.objid = p.oid
          WHERE n.nspname = 'pg_catalog' OR m.ext IS NOT NULL
          UNION ALL
          SELECT 'pg_type', t.oid, coalesce(m.ext, 0), t.typnamespace, 'TYPE ' || \(qualified("n.nspname", "t.typname")),
                 t.typname::text, t.typowner, t.typacl, 'T', 0, NULL
          FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
          LEFT JOIN members m ON m.classid = 'pg_type'::pg_catalog.regclass AND m.objid = t.oid
          WHERE (n.nspname = 'pg_catalog' OR m.ext IS NOT NULL) AND NOT (t.typelem <> 0 AND t.typlen = -1)
          UNION ALL
          SELECT 'pg_namespace', n.oid, coalesce(m.ext, 0), n.oid, 'SCHEMA ' || pg_catalog.quote_ident(n.nspname),
                 n.nspname::text, n.nspowner, n.nspacl, 'n', 0, NULL
          FROM pg_catalog.pg_namespace n
          LEFT JOIN members m ON m.classid = 'pg_namespace'::pg_catalog.regclass AND m.objid = n.oid
          WHERE n.nspname = 'pg_catalog' OR m.ext IS NOT NULL
          UNION ALL
          SELECT 'pg_foreign_data_wrapper', w.oid, m.ext, 0, 'FOREIGN DATA WRAPPER ' || pg_catalog.quote_ident(w.fdwname),
                 w.fdwname::text, w.fdwowner, w.fdwacl, 'F', 0, NULL
          FROM pg_catalog.pg_foreign_data_wrapper w
          JOIN members m ON m.classid = 'pg_foreign_data_wrapper'::pg_catalog.regclass AND m.objid = w.oid
          UNION ALL
          SELECT 'pg_language', l.oid, coalesce(m.ext, 0), 0, 'LANGUAGE ' || pg_catalog.quote_ident(l.lanname),
                 l.lanname::text, l.lanowner, l.lanacl, 'l', 0, NULL
          FROM pg_catalog.pg_language l
          LEFT JOIN members m ON m.classid = 'pg_language'::pg_catalog.regclass AND m.objid = l.oid
          WHERE l.oid < 16384 OR m.ext IS NOT NULL
          UNION ALL
          SELECT 'pg_class', c.oid, coalesce(m.ext, 0), c.relnamespace, 'TABLE ' || \(qualified("n.nspname", "c.relname")),
                 c.relname::text || '.' || a.attname::text, c.relowner, a.attacl, 'c', a.attnum, pg_catalog.quote_ident(a.attname)
          FROM pg_catalog.pg_attribute a
          JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN members m ON m.classid = 'pg_class'::pg_catalog.regclass AND m.objid = c.oid
          WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
            AND (n.nspname = 'pg_catalog' OR m.ext IS NOT NULL)
        ), changed AS (
          SELECT o.*, coalesce(o.acl, pg_catalog.acldefault(o.objtype, o.owner)) AS now,
                 coalesce(ip.initprivs, pg_catalog.acldefault(o.objtype, o.owner)) AS base
          FROM objects o
          LEFT JOIN pg_catalog.pg_init_privs ip ON ip.classoid = o.catalog::pg_catalog.regclass AND ip.objoid = o.oid AND ip.objsubid = o.sub
          WHERE coalesce(o.acl, pg_catalog.acldefault(o.objtype, o.owner))
                IS DISTINCT FROM coalesce(ip.initprivs, pg_catalog.acldefault(o.objtype, o.owner))
        )
        SELECT ch.catalog, ch.oid::int8 AS oid, ch.sub, ch.col AS "column", ch.ext::int8 AS "extensionOid", ch.target, ch.name,
               (SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid = ch.nsp AND ch.catalog <> 'pg_namespace') AS schema,
               pg_catalog.pg_get_userbyid(ch.owner) AS owner,
               (SELECT json_agg(json_build_object(
                   'grantor', pg_catalog.pg_get_userbyid(a.grantor),
                   'grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
                   'privilege', a.privilege_type, 'grantable', a.is_grantable) ORDER BY a.ord)
                FROM pg_catalog.aclexplode(ch.base) WITH ORDINALITY AS a(grantor, grantee, privilege_type, is_grantable, ord)
                WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(ch.now) b
                                  WHERE (b.grantor, b.grantee, b.privilege_type, b.is_grantable) = (a.grantor, a.grantee, a.privilege_type, a.is_grantable))) AS revoked,
               (SELECT json_agg(json_build_object(
                   'grantor', pg_catalog.pg_get_userbyid(a.grantor),
                   'grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
                   'privilege', a.privilege_type, 'grantable', a.is_grantable) ORDER BY a.ord)
                FROM pg_catalog.aclexplode(ch.now) WITH ORDINALITY AS a(grantor, grantee, privilege_type, is_grantable, ord)
                WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(ch.base) b
                                  WHERE (b.grantor, b.grantee, b.privilege_type, b.is_grantable) = (a.grantor, a.grantee, a.privilege_type, a.is_grantable))) AS granted
        FROM changed ch
        ORDER BY ch.catalog, ch.target, ch.sub
        """)
}
