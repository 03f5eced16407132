#ifndef PGMCP_COMMIT_H
#define PGMCP_COMMIT_H

/// The git commit this binary was built from, as scripts/release passed it (PGMCP_COMMIT), or ""
/// for a plain `swift build`. A C function because Swift's -D defines carry no value.
const char *pgmcp_build_commit(void);

#endif
