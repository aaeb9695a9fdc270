/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The sender lock: one process sends from a database at a time.
 *
 * A sending deadlined (the service, or a --once pass) holds an exclusive
 * lock on "<database>.lock" for its whole life and writes its PID and the
 * time it took the lock into the file. The kernel drops the lock when the
 * process exits, kill -9 included, so the PID a dead holder left in the
 * file means nothing: only the lock says whether someone holds it.
 *
 * The lock is an open-file-description lock (fcntl F_OFD_SETLK), not
 * flock(2): F_OFD_GETLK tells whether it is held without taking it, so
 * `deadlinectl status` can report the holder without ever making a
 * starting daemon find the lock taken. flock can only be asked by trying
 * it. Unlike classic POSIX record locks (which SQLite uses on the database
 * itself), an OFD lock is not dropped when some other descriptor of the
 * same file is closed in this process, and it belongs to this descriptor
 * alone, which is O_CLOEXEC. */

#include <stdint.h>
#include <sys/types.h>

struct lock_holder {
        pid_t pid;      /* 0: not recorded (yet) */
        int64_t since;  /* when it took the lock, NO_TIME if not recorded */
};

/* "<database>.lock" into *ret. */
int lockfile_path(const char *database, char **ret);

/* Takes the lock of `database` without waiting, records getpid() and
 * `now`, and returns its descriptor: closing it (or exiting) releases it.
 * -EBUSY when another process holds it, with the holder in *ret_holder
 * (may be NULL). Any other negative errno: the file could not be made or
 * locked. */
int lockfile_take(const char *database, int64_t now, struct lock_holder *ret_holder);

/* Whether a process holds the lock of `database`, without taking it: 1
 * and the holder in *ret_holder, or 0 (no lock file is no holder). A
 * negative errno when the file cannot be read (-EACCES). */
int lockfile_query(const char *database, struct lock_holder *ret_holder);
