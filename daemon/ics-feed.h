/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The daemon's calendar feeds: one AGENCY.ics per agency of the
 * configuration in calendar_dir, for a web server to publish, each
 * replaced atomically and only when its content changed (so an unchanged
 * file keeps its mtime and a subscriber's conditional GET stays cheap). */

#include "config.h"
#include "store.h"

/* Creates the folder (0755) when missing and checks that it can be
 * written: 0 or -errno. */
int ics_feed_prepare(const char *dir);

/* Rewrites the calendars whose content differs from the files, from the
 * open tasks in the store. Returns how many files were written, or a
 * negative errno: a store error (store_last_error() has the detail) or,
 * with *ret_path set to the file (malloc'd), the error writing it. Slow:
 * reads every open task; the daemon calls it after a change to the
 * database, never on a timer. */
int ics_feed_update(const struct config *c, struct store *s, char **ret_path);
