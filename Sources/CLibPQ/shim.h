#ifndef PGMCP_CLIBPQ_SHIM_H
#define PGMCP_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
