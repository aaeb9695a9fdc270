/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Whether two texts say the same thing up to OCR damage: the scanned copy
 * of a directive against its clean text ("Sd Tai chinh chu trì" for "Sở Tài
 * chính chủ trì"). Pure.
 *
 * Both texts are folded (textnorm_fold(): no diacritics, no case) and
 * compared with an edit distance: they are the same when the distance is
 * at most (1 - threshold) times the longer one's length. A text ending in
 * "…" was cut short (a title made from a longer item), so it is compared
 * with the beginning of the other, as far as the best match reaches, and
 * the distance is measured against its own length. The work grows with
 * the length times the distance: texts so long and so far apart that it
 * would take more than a few hundred million steps count as different. */

#include <stddef.h>

/* The threshold for titles and item text: OCR copies of the sample
 * directives score 0.92 and above; rewording a clause of a long title
 * scores about 0.93, a different item below 0.5. */
#define TEXTSIM_OCR_SAME 0.85

/* 1 when the same, 0 when not, or -EBADMSG (invalid UTF-8), -EFBIG (a text
 * too long to fold), -ENOMEM. NULL texts are the same only as each other. */
int textsim_same(const char *a, const char *b, double threshold);
