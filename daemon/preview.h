/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What a dry run (deadlined --once --dry-run) would send. The pass runs
 * as it always does, on a store opened with STORE_DRY; its send step hands
 * each composed job here instead of to a transport, and what was kept is
 * printed once the pass is over: for people, one line per delivery; or as
 * JSON, the shape deadlined(8) documents. */

#include <stdint.h>
#include <stdio.h>

#include "job.h"
#include "macro.h"

struct preview;

int preview_new(struct preview **ret);
struct preview *preview_free(struct preview *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct preview *, preview_free);

/* Keeps what job j would send: each of its rows still to go (a row whose
 * every address has it already is left out; one that could not be
 * composed is kept with its error). The rows of one job are one message. */
int preview_add(struct preview *p, const struct job *j);
size_t preview_deliveries(const struct preview *p);

/* `now` is the moment the pass was run for. */
int preview_print_text(const struct preview *p, int64_t now, FILE *f);
int preview_print_json(const struct preview *p, int64_t now, FILE *f);
