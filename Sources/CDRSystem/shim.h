#ifndef DRCTL_CSYSTEM_SHIM_H
#define DRCTL_CSYSTEM_SHIM_H
// glibc calls that Swift's Glibc module hides behind _GNU_SOURCE. Declarations and
// `static inline` wrappers only.
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>
#include <sys/xattr.h>

extern int pipe2(int pipefd[2], int flags);
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);

/// pipe2(2) with O_CLOEXEC on both ends.
static inline int drctl_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

/// Makes a spawned child start in `path` (glibc 2.29+).
static inline int drctl_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

extern int syncfs(int fd);

/// syncfs(2): flushes the whole filesystem holding `fd` (Linux).
static inline int drctl_syncfs(int fd) { return syncfs(fd); }

extern int sync_file_range(int fd, off_t offset, off_t nbytes, unsigned int flags);

/// sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writing a range to disk and
/// returns without waiting, so a later fsync has less to wait for (Linux).
static inline int drctl_start_writeback(int fd, off_t offset, off_t nbytes) {
    return sync_file_range(fd, offset, nbytes, 2 /* SYNC_FILE_RANGE_WRITE */);
}

/// O_DIRECT (glibc defines it only under _GNU_SOURCE; `__O_DIRECT` always): writes
/// bypass the page cache. Its value differs between architectures.
static inline int drctl_o_direct(void) { return __O_DIRECT; }

#endif