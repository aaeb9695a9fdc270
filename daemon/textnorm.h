/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Text normalisation for Vietnamese administrative text, clean or scanned.
 *
 * Three layers, all pure: Unicode normalisation (NFC) and diacritic folding
 * with utf8proc; a tokeniser that keeps every token's byte range in the
 * source, so callers can quote what was written; and agency matching that
 * survives OCR damage ("S& Tai chinh", "SO Noi vu", "Péau tu" for "Đầu tư"):
 * names and mentions are folded, tokenised, common abbreviations expanded
 * (UBND, VPUB, KH&ĐT, …) and aligned word by word with an edit distance
 * that knows the usual OCR confusions.
 *
 * Matching never guesses silently: below TEXTNORM_MATCH_THRESHOLD, or when
 * two different candidates score almost alike, the mention is reported as
 * unknown (id NULL) together with the closest candidates.
 *
 * Candidates are plain (id, names) pairs rather than the configuration, so
 * this module depends on nothing else. Ids in results point at the caller's
 * candidate strings and stay valid as long as those do. */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* The largest text any function here accepts (-EFBIG beyond). */
#define TEXTNORM_MAX_INPUT (1024 * 1024)
/* Limits on a candidate list; beyond them textnorm_index_new() fails with
 * -E2BIG. A name longer than TEXTNORM_MAX_NAME_WORDS words (after
 * abbreviations are expanded) is matched on its first words only. */
#define TEXTNORM_MAX_CANDIDATES 4096
#define TEXTNORM_MAX_NAMES 64
#define TEXTNORM_MAX_NAME 512
#define TEXTNORM_MAX_NAME_WORDS 32

#define TEXTNORM_MATCH_THRESHOLD 0.75
#define TEXTNORM_SUGGESTIONS 3

/* NFC-normalises UTF-8 text. Returns 0 and a NUL-terminated copy, or
 * -EBADMSG for invalid UTF-8 or a NUL byte, -EFBIG above the size limit. */
int textnorm_nfc(const char *s, size_t len, char **ret);

/* Folds text for comparison: compatibility decomposition, combining marks
 * stripped, case folded, đ/Đ to d, dashes and quotes lumped to ASCII.
 * "Sở Kế hoạch và Đầu tư" becomes "so ke hoach va dau tu". Same errors as
 * textnorm_nfc(). */
int textnorm_fold(const char *s, size_t len, char **ret);

/* Whether a folded word is `keyword` (folded, ASCII) up to the shapes OCR
 * confuses: "p" for "d", "1" or "|" for "l", "0" or "6" for "o", and the
 * mangled forms of "so" ("s&", "sd", "s6", …). */
bool textnorm_word_is(const char *word, const char *keyword);

/* Whether two folded characters are the same or confused by OCR ("o"
 * and "6", "h" and "b", "s" and "8"). */
bool textnorm_char_confused(char a, char b);

/* Whether a folded word is `keyword` (folded, ASCII) within an edit
 * distance that grows with the keyword's length, OCR's confusions costing
 * less than other edits: "thanb" is "thanh", "truve" "truoc", "ndm"
 * "nam". The first letter must be right or confused, and a word that is
 * itself a Vietnamese syllable ("truc", "truong", "thanh") is only
 * itself. For cue words, where what follows (a date) confirms them. */
bool textnorm_word_near(const char *word, const char *keyword);
/* The same without the rule on real words: the caller has other evidence
 * ("phi hợp" where "hợp" is read whole). */
bool textnorm_word_within(const char *word, const char *keyword);
/* Whether a folded word is a Vietnamese syllable: an onset and a rhyme of
 * the language ("truc", "thanh"; not "truve", "ndm"). */
bool textnorm_is_syllable(const char *folded);
/* The weighted distance under textnorm_word_near(): 0 for equal, INFINITY
 * when the lengths or the first letters are too far apart. */
double textnorm_word_cost(const char *word, const char *keyword);

/* Whether the text begins with an upper-case letter. */
bool textnorm_starts_upper(const char *s, size_t len);

struct textnorm_token {
        const char *word;       /* folded; punctuation is its single ASCII character */
        size_t start, end;      /* byte range in the text that was tokenised */
        bool punct;             /* , ; : . ! ? ( ) [ ] " ' or a dash standing alone */
        bool upper;             /* the source begins with an upper-case letter */
};

struct textnorm_tokens {
        struct textnorm_token *tokens;
        size_t n;
        char *pool;             /* owns the words */
};

/* Splits text into words and punctuation. Words keep "/", "-", "&" and
 * digits together ("15/5/2025", "2417/UBND-KTTH", "KH&ĐT"), and "." or ","
 * between digits ("15.5.2025"). Returns 0, -EBADMSG for invalid UTF-8 or a
 * NUL byte, -EFBIG above the size limit, -ENOMEM. */
int textnorm_tokenize(const char *s, size_t len, struct textnorm_tokens *ret);
void textnorm_tokens_done(struct textnorm_tokens *t);

struct textnorm_candidate {
        const char *id;
        const char *const *names; /* name first, then aliases; NULL-terminated */
};

struct textnorm_suggestion {
        const char *id;
        double score;           /* 0..1 */
};

struct textnorm_match {
        const char *id;         /* the candidate matched, or NULL: unknown */
        double confidence;      /* the best candidate's score, 0..1 */
        /* The closest candidates, best first, distinct ids, each scoring at
         * least TEXTNORM_SUGGEST_MIN; suggestions[0] is the match itself
         * when id is set. */
        struct textnorm_suggestion suggestions[TEXTNORM_SUGGESTIONS];
        size_t n_suggestions;
};

#define TEXTNORM_SUGGEST_MIN 0.35

/* A candidate list compiled once for many look-ups. */
struct textnorm_index;

int textnorm_index_new(const struct textnorm_candidate *c, size_t n, struct textnorm_index **ret);
struct textnorm_index *textnorm_index_free(struct textnorm_index *idx);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct textnorm_index *, textnorm_index_free);

/* Matches a whole mention ("Sở Tài chính", "S& Tai chinh", "SKHĐT") against
 * the candidates. Returns 0 with *ret filled (id NULL when unknown), or
 * -EINVAL, -EBADMSG, -EFBIG, -ENOMEM. */
int textnorm_index_match(const struct textnorm_index *idx, const char *mention, size_t len,
                         struct textnorm_match *ret);

/* The same without an index, for a single look-up. */
int textnorm_match(const struct textnorm_candidate *c, size_t n, const char *mention,
                   struct textnorm_match *ret);

/* An agency named inside a longer text. */
struct textnorm_mention {
        size_t first, last;     /* tokens [first, last) */
        size_t start, end;      /* bytes in the text */
        struct textnorm_match match;
};

enum {
        /* Also report agency-shaped phrases that match no candidate ("Sở
         * Giáo dục và Đào tạo" when the list has no such agency): a
         * capitalised head word (Sở, Ban, UBND, Văn phòng, Kho bạc, Công
         * an, …) up to the verb that follows it. */
        TEXTNORM_FIND_UNKNOWN = 1 << 0,
};

/* Whether a mention starts exactly at token i. Returns 1 and fills *ret,
 * or 0 when none does. A mention never crosses ; : . ( ) and consumes a
 * trailing "tỉnh". */
int textnorm_index_mention_at(const struct textnorm_index *idx, const struct textnorm_tokens *t, size_t i,
                              unsigned flags, struct textnorm_mention *ret);

/* Every mention in a text, left to right, not overlapping, at most 4096.
 * Returns the count (>= 0) and a malloc'd array in *ret (NULL when none),
 * or a negative errno as textnorm_tokenize(). */
int textnorm_index_find(const struct textnorm_index *idx, const char *text, size_t len, unsigned flags,
                        struct textnorm_mention **ret);
