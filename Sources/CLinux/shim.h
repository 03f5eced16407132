#ifndef PGMCP_CLINUX_SHIM_H
#define PGMCP_CLINUX_SHIM_H
/* Linux headers that Glibc's Swift module does not carry: PGClient's socket reactor uses epoll and
   eventfd, and names its thread with prctl. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

/* prctl is variadic, which Swift cannot call. */
static inline int pgmcp_set_thread_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }
#endif
