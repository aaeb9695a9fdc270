/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Builds a job's message from its tasks: the e-mail (RFC 5322, through
 * the render and mail modules) or the webhook request. tasks[i] belongs to
 * job->rows[i]. Pure: no I/O. */

#include <stdint.h>

#include "config.h"
#include "outbox.h"
#include "store.h"

int compose_email(const struct config *c, struct job *j, const struct task *const *tasks, int64_t now);
int compose_webhook(const struct config *c, struct job *j, const struct task *const *tasks, int64_t now);
