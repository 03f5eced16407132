#include "pgmcp_commit.h"

// Package.swift defines PGMCP_COMMIT for this file alone, so a new commit recompiles one C file.
#ifndef PGMCP_COMMIT
#define PGMCP_COMMIT ""
#endif

const char *pgmcp_build_commit(void) { return PGMCP_COMMIT; }
