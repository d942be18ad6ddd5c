#ifndef CLIBPQ_SHIM_H
#define CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <postgres_ext.h>

/// The PG_DIAG_* field codes are character-literal macros, which Swift does
/// not import; these return them by name for PQresultErrorField.
static inline int cpq_diag_severity(void) { return PG_DIAG_SEVERITY_NONLOCALIZED; }
static inline int cpq_diag_severity_localized(void) { return PG_DIAG_SEVERITY; }
static inline int cpq_diag_sqlstate(void) { return PG_DIAG_SQLSTATE; }
static inline int cpq_diag_message(void) { return PG_DIAG_MESSAGE_PRIMARY; }
static inline int cpq_diag_detail(void) { return PG_DIAG_MESSAGE_DETAIL; }
static inline int cpq_diag_hint(void) { return PG_DIAG_MESSAGE_HINT; }
static inline int cpq_diag_position(void) { return PG_DIAG_STATEMENT_POSITION; }
static inline int cpq_diag_context(void) { return PG_DIAG_CONTEXT; }
static inline int cpq_diag_schema(void) { return PG_DIAG_SCHEMA_NAME; }
static inline int cpq_diag_table(void) { return PG_DIAG_TABLE_NAME; }
static inline int cpq_diag_column(void) { return PG_DIAG_COLUMN_NAME; }
static inline int cpq_diag_datatype(void) { return PG_DIAG_DATATYPE_NAME; }
static inline int cpq_diag_constraint(void) { return PG_DIAG_CONSTRAINT_NAME; }
#endif
