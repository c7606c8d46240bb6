/* stats.h - the --stats report. */
#ifndef KVMSE_STATS_H
#define KVMSE_STATS_H
#include "proc.h"

void stats_write(struct proc *p, const char *path, uint64_t wall_ns);

#endif
