/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What becomes of a message read from the office's mailbox (imap.h): it is
 * read (reply.h), matched to a task and an agency, and recorded once in
 * the store for the officer (store_inbox_*); nothing in it changes a task.
 *
 * The task is the one its In-Reply-To / References name (ids deadlined
 * wrote, of this database's instance), else its tag ("[#123]", "#123"),
 * else its reference ("nhiệm vụ 5.c") when exactly one open task has it.
 * A reply to a digest that names no task, or one naming a reference that
 * several open tasks share, is UNASSIGNED. It is accepted only from an
 * address the configuration lists (email or cc, any case) for one of that
 * task's agencies; a message from anyone else, about a task that does not
 * exist, too large, or unreadable, is logged in one line and recorded as
 * IGNORED, so that it is not read again. A PENDING reply gets an
 * acknowledgement through the outbox ("ack:<inbox id>"). */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

/* Returns 1 when recorded, 0 when it was there already (by UIDVALIDITY and
 * UID, or by Message-ID), or a negative errno from the store (nothing
 * recorded: read it again later). */
int inbox_receive(struct store *s, const struct config *c, int64_t uidvalidity, int64_t uid, const char *data,
                  size_t size, int64_t now);
/* A message larger than inbox.max_size, not fetched: recorded as ignored. */
int inbox_receive_too_large(struct store *s, const struct config *c, int64_t uidvalidity, int64_t uid,
                            uint64_t size, int64_t now);
