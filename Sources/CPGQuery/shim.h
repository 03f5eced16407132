#ifndef PGMCP_CPGQUERY_SHIM_H
#define PGMCP_CPGQUERY_SHIM_H
#include <pg_query.h>
#endif
