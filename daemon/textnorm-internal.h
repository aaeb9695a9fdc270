/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by textnorm-match.c and textnorm-phrase.c. Not a public API. */

#include <stddef.h>

#include "textnorm.h"

/* The number of tokens of an agency head word at j ("Sở" followed by a
 * capitalised word, "UBND", "Văn phòng", …), or 0. */
size_t textnorm_head_at(const struct textnorm_tokens *t, size_t j);

/* The token after an agency-shaped phrase that starts at i with a head
 * word of `head` tokens: it stops at punctuation, a number, a verb in lower
 * case, "và" before another head word, or after "tỉnh". */
size_t textnorm_unknown_extent(const struct textnorm_tokens *t, size_t i, size_t head);
