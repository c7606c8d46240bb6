/* fd.h - kvmse's own file descriptors, kept high and hidden from the guest. */
#ifndef KVMSE_FD_H
#define KVMSE_FD_H
#include <stdbool.h>

/* Move *fdp above the guest's usual range, close-on-exec, and remember where it lives
 * so it can be moved again if the guest dup2()s onto it. */
void fd_hide(int *fdp);
bool fd_hidden(int fd);
/* Move a hidden descriptor out of the way of guest descriptor 'fd' (dup2 target). */
void fd_evict(int fd);
/* Forget *fdp (before closing it). */
void fd_unhide(int *fdp);

#endif
