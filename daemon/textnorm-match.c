/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Agency matching (textnorm.h): names and mentions become sequences of
 * folded words with abbreviations expanded, aligned by a small dynamic
 * programme whose word costs come from an OCR-aware edit distance. */

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "textnorm-internal.h"

/* Words longer than this are compared for equality only. */
#define WORD_MAX 40
/* How far past a name's length a mention may run (inserted words). */
#define WINDOW_SLACK 6
#define TEXT_WORDS_MAX (TEXTNORM_MAX_NAME_WORDS + WINDOW_SLACK)
/* Two different candidates closer than this are a tie, not a match,
 * unless the better one is nearly exact. */
#define AMBIGUITY_MARGIN 0.03
#define UNAMBIGUOUS_SCORE 0.95
#define FIND_MAX 4096

/* Abbreviations of agency names as offices write them, already folded.
 * Expanding both names and mentions lets "Sở KH&ĐT" meet "Sở Kế hoạch và
 * Đầu tư" and "UBND" meet "Ủy ban nhân dân". Sorted by abbreviation, for
 * bsearch(). */
static const struct abbreviation {
        const char *abbr;
        const char *words[8];
} abbreviations[] = {
        { "&",        { "va" } },
        { "bchqs",    { "bo", "chi", "huy", "quan", "su" } },
        { "bhxh",     { "bao", "hiem", "xa", "hoi" } },
        { "gd&dt",    { "giao", "duc", "va", "dao", "tao" } },
        { "gddt",     { "giao", "duc", "va", "dao", "tao" } },
        { "gtvt",     { "giao", "thong", "van", "tai" } },
        { "hdnd",     { "hoi", "dong", "nhan", "dan" } },
        { "kbnn",     { "kho", "bac", "nha", "nuoc" } },
        { "kh&cn",    { "khoa", "hoc", "va", "cong", "nghe" } },
        { "kh&dt",    { "ke", "hoach", "va", "dau", "tu" } },
        { "khcn",     { "khoa", "hoc", "va", "cong", "nghe" } },
        { "khdt",     { "ke", "hoach", "va", "dau", "tu" } },
        { "ld-tb&xh", { "lao", "dong", "thuong", "binh", "va", "xa", "hoi" } },
        { "ldtbxh",   { "lao", "dong", "thuong", "binh", "va", "xa", "hoi" } },
        { "mttq",     { "mat", "tran", "to", "quoc" } },
        { "nn&ptnt",  { "nong", "nghiep", "va", "phat", "trien", "nong", "thon" } },
        { "nnptnt",   { "nong", "nghiep", "va", "phat", "trien", "nong", "thon" } },
        { "tn&mt",    { "tai", "nguyen", "va", "moi", "truong" } },
        { "tnmt",     { "tai", "nguyen", "va", "moi", "truong" } },
        { "tp",       { "thanh", "pho" } },
        { "tt&tt",    { "thong", "tin", "va", "truyen", "thong" } },
        { "tttt",     { "thong", "tin", "va", "truyen", "thong" } },
        { "tx",       { "thi", "xa" } },
        { "ubnd",     { "uy", "ban", "nhan", "dan" } },
        { "vh-tt&dl", { "van", "hoa", "the", "thao", "va", "du", "lich" } },
        { "vhttdl",   { "van", "hoa", "the", "thao", "va", "du", "lich" } },
        { "vp",       { "van", "phong" } },
        { "vpub",     { "van", "phong", "uy", "ban", "nhan", "dan" } },
        { "vpubnd",   { "van", "phong", "uy", "ban", "nhan", "dan" } },
};

/* Words that say little about which agency is meant; they weigh less, so
 * that "Sở Tư pháp" does not pass for "Sở Tài chính" on the strength of
 * "Sở". */
static const char *const generic_words[] = { "so", "uy", "ban", "nhan", "dan", "tinh", "cac", "va", "cua" };

/* A word of a name or of a text, after expansion. */
struct subword {
        const char *w;
        double weight;
        size_t tok;             /* text: the token it came from */
        bool tok_end;           /* text: the last subword of its token */
        bool optional;          /* name: may be missing ("các" first, "tỉnh" last) */
};

struct name_seq {
        size_t cand;
        /* Its first word among the index's distinct first words, and the
         * second when the first is optional (SIZE_MAX otherwise). */
        size_t first[2];
        struct subword sw[TEXTNORM_MAX_NAME_WORDS];
        size_t k;
        double total;           /* sum of the weights of the words that must be there */
};

struct textnorm_index {
        const char **ids;
        size_t n_cands;
        struct name_seq *names;
        size_t n_names;
        struct textnorm_tokens *toks;   /* own the names' words */
        size_t n_toks;
        /* The distinct words names begin with, sorted: a mention's first
         * word is compared with each once, not once per name. */
        const char **firsts;
        size_t n_firsts;
        size_t max_k;           /* the most words of any name */
};

/* How many first words a look-up remembers its verdict on. */
#define FIRSTS_CACHED 256

static bool is_generic(const char *w) {
        for (size_t k = 0; k < ELEMENTSOF(generic_words); k++)
                if (streq(w, generic_words[k]))
                        return true;
        return false;
}

static double word_weight(const char *w) {
        size_t n = strlen(w);
        if (is_generic(w))
                return 1.0;
        return (double) MIN(MAX(n, (size_t) 2), (size_t) 6);
}

static int cmp_abbreviation(const void *key, const void *a) {
        return strcmp(key, ((const struct abbreviation *) a)->abbr);
}

static const struct abbreviation *abbreviation_find(const char *w) {
        return bsearch(w, abbreviations, ELEMENTSOF(abbreviations), sizeof(abbreviations[0]), cmp_abbreviation);
}

/* Expands one folded word into up to `max` subwords. OCR shapes of "Sở"
 * become "so"; "SKHĐT" is "Sở" plus an abbreviation; an abbreviation read
 * with "P" for "Đ" ("KH&PT") is tried again with "d". The subwords point
 * into static strings or into `w`. */
static size_t expand_word(const char *w, const char **out, size_t max) {
        const struct abbreviation *a;
        char buf[WORD_MAX + 1];
        size_t n = 0;

        if (max == 0)
                return 0;
        if (textnorm_word_is(w, "so")) {
                out[0] = "so";
                return 1;
        }
        /* "Sở" run into a one-letter word ("SOY tế"): no Vietnamese
         * syllable has "o" before these letters, so the space was lost. */
        if (max >= 2 && strlen(w) == 3 && strchr("bdhklqrsuvxy", w[2])) {
                buf[0] = w[0], buf[1] = w[1], buf[2] = 0;
                if (textnorm_word_is(buf, "so")) {
                        out[0] = "so";
                        out[1] = w + 2;
                        return 2;
                }
        }
        a = abbreviation_find(w);
        if (!a && strchr(w, '&') && strlen(w) <= WORD_MAX) {
                strcpy(buf, w);
                for (char *p = buf; *p; p++)
                        if (*p == 'p' && (p == buf || p[-1] == '&'))
                                *p = 'd';
                a = abbreviation_find(buf);
        }
        if (!a && w[0] == 's' && strlen(w) > 3) {
                const struct abbreviation *b = abbreviation_find(w + 1);
                if (b && strlen(b->abbr) >= 4 && !streq(b->abbr, "ubnd") && !streq(b->abbr, "hdnd")) {
                        out[n++] = "so";
                        a = b;
                }
        }
        if (!a) {
                out[0] = w;
                return 1;
        }
        for (size_t k = 0; k < ELEMENTSOF(a->words) && a->words[k] && n < max; k++)
                out[n++] = a->words[k];
        return n;
}

/* The characters OCR confuses, either way round, in folded text: the
 * shapes of Vietnamese letters once their marks are lost or misread ("ơ"
 * as "&" or "6", "â" as "d", "h" as "b"), and digits for letters. */
static const char *const confusions[] = {
        "o0", "o6", "o&", "oe", "oc", "ov", "od", "ob", "o9", "ed", "ec", "ad", "a4", "a&", "pd", "l1", "l|", "li",
        "i1", "i|", "it", "s8", "s5", "s$", "hb", "hn", "uv", "iu", "wu", "ut", "gq", "g9", "b6", "b8", "z2",
};

bool textnorm_char_confused(char a, char b) {
        if (a == b)
                return true;
        for (size_t k = 0; k < ELEMENTSOF(confusions); k++)
                if ((confusions[k][0] == a && confusions[k][1] == b) || (confusions[k][0] == b && confusions[k][1] == a))
                        return true;
        return false;
}

/* This is the inner loop of every distance, hence a switch for the
 * confusions that agency names meet most. */
static bool ocr_pair(char a, char b) {
        switch (a) {
        case 'p':
                return b == 'd';
        case 'd':
                return b == 'p';
        case 'l':
                return b == '1' || b == '|' || b == 'i';
        case '1':
                return b == 'l' || b == 'i';
        case 'i':
                return b == 'l' || b == '1';
        case '|':
                return b == 'l';
        case 'o':
                return b == '0';
        case '0':
                return b == 'o';
        default:
                return false;
        }
}

/* A Levenshtein distance in which an insertion, deletion or substitution
 * costs 1 and a substitution OCR commits 0.3: among the few pairs that
 * agency names meet (ocr_pair()), or, for cue words, among all of
 * textnorm_char_confused(). */
static double edit_cost(const char *a, size_t na, const char *b, size_t nb, bool broad) {
        double row[WORD_MAX + 1];

        for (size_t j = 0; j <= nb; j++)
                row[j] = (double) j;
        for (size_t i = 1; i <= na; i++) {
                double diag = row[0];
                row[0] = (double) i;
                for (size_t j = 1; j <= nb; j++) {
                        bool confused = broad ? textnorm_char_confused(a[i - 1], b[j - 1]) : ocr_pair(a[i - 1], b[j - 1]);
                        double sub = a[i - 1] == b[j - 1] ? 0.0 : confused ? 0.3 : 1.0;
                        double best = MIN(row[j] + 1.0, row[j - 1] + 1.0);
                        best = MIN(best, diag + sub);
                        diag = row[j];
                        row[j] = best;
                }
        }
        return row[nb];
}

double textnorm_word_cost(const char *word, const char *keyword) {
        char buf[WORD_MAX + 1];
        size_t nw, nk, k = 0;

        if (!word || !keyword || strlen(word) > WORD_MAX)
                return INFINITY;
        /* "ư" read as "ir" ("triroc", "chir"): no Vietnamese word has "ir". */
        for (const char *c = word; *c; c++) {
                if (c[0] == 'i' && c[1] == 'r' && c != word) {
                        buf[k++] = 'u';
                        c++;
                } else
                        buf[k++] = *c;
        }
        buf[k] = 0;
        word = buf;
        nw = strlen(word);
        nk = strlen(keyword);
        if (nw == 0 || nk == 0 || nw > WORD_MAX || nk > WORD_MAX || nw + 2 < nk || nk + 2 < nw)
                return INFINITY;
        if (nw == nk && memcmp(word, keyword, nk) == 0)
                return 0.0;
        /* The first letter is read right, or confused: most of what a
         * short keyword could be mistaken for differs there. */
        if (!textnorm_char_confused(word[0], keyword[0]))
                return INFINITY;
        return edit_cost(word, nw, keyword, nk, true);
}

/* Vietnamese syllables, once folded: an onset from a short list, then a
 * rhyme from the language's inventory of rhymes (vần), marks gone. Used
 * to tell a real word from OCR's damage: OCR that loses a diacritic keeps
 * a syllable ("trước" -> "truoc"), one that misreads a letter seldom
 * makes another ("truve", "thanb", "ndm"), and a real word that is another
 * ("trực", "trường", "thành") must never stand in for a cue word. */
static const char *const onsets[] = {
        "ngh", "ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr", "b", "c", "d", "g", "h", "k", "l",
        "m", "n", "p", "r", "s", "t", "v", "x", "",
};
static const char *const rhymes[] = {
        "a", "ac", "ach", "ai", "am", "an", "ang", "anh", "ao", "ap", "at", "au", "ay",
        "e", "ec", "ech", "em", "en", "eng", "enh", "eo", "ep", "et", "eu",
        "i", "ia", "ich", "iec", "iem", "ien", "ieng", "iep", "iet", "ieu", "im", "in", "inh", "ip", "it", "iu",
        "o", "oa", "oac", "oach", "oai", "oam", "oan", "oang", "oanh", "oao", "oap", "oat", "oay", "oc", "oe",
        "oen", "oeo", "oet", "oi", "om", "on", "ong", "oong", "op", "ot",
        "u", "ua", "uan", "uang", "uanh", "uat", "uay", "uc", "ue", "uech", "uenh", "ui", "um", "un", "ung",
        "uo", "uoc", "uoi", "uom", "uon", "uong", "uop", "uot", "uou", "up", "ut", "uu", "uy", "uya", "uych",
        "uyen", "uyet", "uyn", "uynh", "uyp", "uyt", "uyu",
        "y", "yem", "yen", "yet", "yeu",
};

bool textnorm_is_syllable(const char *w) {
        for (size_t o = 0; o < ELEMENTSOF(onsets); o++) {
                size_t n = strlen(onsets[o]);
                if (strncmp(w, onsets[o], n) != 0)
                        continue;
                for (size_t r = 0; r < ELEMENTSOF(rhymes); r++)
                        if (streq(w + n, rhymes[r]))
                                return true;
        }
        return false;
}

bool textnorm_word_within(const char *word, const char *keyword) {
        size_t nk = keyword ? strlen(keyword) : 0, nw = word ? strlen(word) : 0;
        /* Short words allow only confusions; four letters one edit and a
         * confusion; five or six two misread letters, but one edit at
         * most when a letter is gained or lost: "truong" (trường) is
         * two edits from "truoc", and a real word. */
        double budget = nk <= 3 ? 0.61 : nk == 4 ? 1.31 : nk <= 6 ? (nw == nk ? 2.0 : 1.31) : 0.35 * (double) nk;

        return textnorm_word_cost(word, keyword) <= budget + 1e-9;
}

bool textnorm_word_near(const char *word, const char *keyword) {
        return textnorm_word_within(word, keyword) && (streq(word, keyword) || !textnorm_is_syllable(word));
}

/* Similarity of two folded words, 1 for equal, from edit_cost(). */
static double word_sim_n(const char *a, size_t na, const char *b, size_t nb) {
        if (na == nb && memcmp(a, b, na) == 0)
                return 1.0;
        if (na == 0 || nb == 0 || na > WORD_MAX || nb > WORD_MAX)
                return 0.0;
        return MAX(0.0, 1.0 - edit_cost(a, na, b, nb, false) / (double) MAX(na, nb));
}

static double word_sim(const char *a, const char *b) {
        return word_sim_n(a, strlen(a), b, strlen(b));
}

/* The similarity of two words read as one ("ke"+"hoach" vs "kehoach").
 * Lengths far apart bound the similarity below any use, so the distance
 * is not computed then: this is the inner loop of every alignment. */
static double word_sim_joined(const char *a1, const char *a2, const char *b) {
        char buf[WORD_MAX + 1];
        size_t n1 = strlen(a1), n2 = strlen(a2), nb = strlen(b);

        if (n1 + n2 > WORD_MAX || n1 + n2 > nb + 2 || nb > n1 + n2 + 2)
                return 0.0;
        memcpy(buf, a1, n1);
        memcpy(buf + n1, a2, n2);
        return word_sim_n(buf, n1 + n2, b, nb);
}

/* Hard punctuation ends a mention; commas, dashes and quotes inside one
 * ("Ban Chỉ huy Phòng, chống thiên tai") are skipped. */
static bool is_hard_punct(const struct textnorm_token *tok) {
        return tok->punct && !strchr(",-\"'`", tok->word[0]);
}

/* Collects the subwords of the text from token i on, stopping at hard
 * punctuation, after `max_tokens` tokens or when `max` subwords are held.
 * Returns the number collected. */
static size_t text_subwords(const struct textnorm_tokens *t, size_t i, size_t max_tokens,
                            struct subword *out, size_t max) {
        size_t n = 0;

        for (size_t j = i; j < t->n && j < i + max_tokens && n < max; j++) {
                const char *ws[8];
                size_t k;

                if (is_hard_punct(&t->tokens[j]))
                        break;
                if (t->tokens[j].punct)
                        continue;
                k = expand_word(t->tokens[j].word, ws, MIN(ELEMENTSOF(ws), max - n));
                for (size_t x = 0; x < k; x++)
                        out[n++] = (struct subword) {
                                .w = ws[x],
                                .weight = word_weight(ws[x]),
                                .tok = j,
                                .tok_end = x + 1 == k,
                        };
        }
        return n;
}

/* Aligns a name with text subwords. With `anchored`, the name must begin at
 * the first text word and may end at any token boundary (the cheapest end
 * is chosen, *ret_used set to the subwords consumed); otherwise the whole
 * text must be consumed. Returns the score, 0..1. */
static double align(const struct name_seq *name, const struct subword *text, size_t m, bool anchored,
                    size_t *ret_used) {
        double dp[TEXTNORM_MAX_NAME_WORDS + 1][TEXT_WORDS_MAX + 1];
        size_t k = name->k, best_y = 0;
        double best = INFINITY, row_min;

        m = MIN(m, (size_t) TEXT_WORDS_MAX);
        dp[0][0] = 0;
        for (size_t y = 1; y <= m; y++)
                dp[0][y] = anchored ? INFINITY : dp[0][y - 1] + 0.7 * text[y - 1].weight;
        for (size_t x = 1; x <= k; x++) {
                const struct subword *a = &name->sw[x - 1];
                double del = a->optional ? 0.0 : a->weight;

                dp[x][0] = dp[x - 1][0] + del;
                for (size_t y = 1; y <= m; y++) {
                        const struct subword *b = &text[y - 1];
                        double c = dp[x - 1][y - 1] + a->weight * (1.0 - word_sim(a->w, b->w));

                        c = MIN(c, dp[x - 1][y] + del);
                        c = MIN(c, dp[x][y - 1] + 0.7 * b->weight);
                        if (x >= 2) {
                                const struct subword *a0 = &name->sw[x - 2];
                                c = MIN(c, dp[x - 2][y - 1] +
                                        (a0->weight + a->weight) * (1.0 - word_sim_joined(a0->w, a->w, b->w)));
                        }
                        if (y >= 2)
                                c = MIN(c, dp[x - 1][y - 2] +
                                        a->weight * (1.0 - word_sim_joined(text[y - 2].w, b->w, a->w)));
                        dp[x][y] = c;
                }
                /* Costs only grow with x: once a whole row is past what a
                 * suggestion may cost, the rest cannot matter. */
                row_min = dp[x][0];
                for (size_t y = 1; y <= m; y++)
                        row_min = MIN(row_min, dp[x][y]);
                if (row_min > (1.0 - TEXTNORM_SUGGEST_MIN) * name->total) {
                        if (ret_used)
                                *ret_used = 0;
                        return 0.0;
                }
        }
        if (anchored) {
                for (size_t y = 1; y <= m; y++)
                        if (text[y - 1].tok_end && dp[k][y] <= best + 1e-9) {
                                best = dp[k][y];
                                best_y = y;
                        }
        } else {
                best = dp[k][m];
                best_y = m;
        }
        if (ret_used)
                *ret_used = best_y;
        if (!isfinite(best) || best_y == 0)
                return 0.0;
        return MAX(0.0, 1.0 - best / name->total);
}

static void match_reset(struct textnorm_match *m) {
        *m = (struct textnorm_match) {};
}

/* Keeps the best TEXTNORM_SUGGESTIONS candidates, distinct, best first. */
static void suggest(struct textnorm_match *m, const char *id, double score) {
        size_t n = m->n_suggestions, at;

        if (score < TEXTNORM_SUGGEST_MIN)
                return;
        for (size_t k = 0; k < n; k++)
                if (m->suggestions[k].id == id) {
                        if (m->suggestions[k].score >= score)
                                return;
                        memmove(&m->suggestions[k], &m->suggestions[k + 1], (n - k - 1) * sizeof(m->suggestions[0]));
                        n--;
                        break;
                }
        for (at = 0; at < n && m->suggestions[at].score >= score; at++)
                ;
        if (at >= TEXTNORM_SUGGESTIONS) {
                m->n_suggestions = n;
                return;
        }
        if (n == TEXTNORM_SUGGESTIONS)
                n--;
        memmove(&m->suggestions[at + 1], &m->suggestions[at], (n - at) * sizeof(m->suggestions[0]));
        m->suggestions[at] = (struct textnorm_suggestion) { .id = id, .score = score };
        m->n_suggestions = n + 1;
}

/* Decides from the suggestions whether the best one is a match. */
static void match_decide(struct textnorm_match *m) {
        m->id = NULL;
        m->confidence = m->n_suggestions > 0 ? m->suggestions[0].score : 0.0;
        if (m->confidence < TEXTNORM_MATCH_THRESHOLD)
                return;
        if (m->n_suggestions > 1 && m->confidence < UNAMBIGUOUS_SCORE &&
            m->suggestions[1].score > m->confidence - AMBIGUITY_MARGIN)
                return;
        m->id = m->suggestions[0].id;
}

/* Whether a word is at least `min` similar to another, with the bound
 * the lengths give tried first. */
static bool word_sim_at_least(const char *a, const char *b, double min) {
        size_t na = strlen(a), nb = strlen(b), d = na > nb ? na - nb : nb - na;

        if ((double) d > (1.0 - min) * (double) MAX(na, nb))
                return false;
        return word_sim_n(a, na, b, nb) >= min;
}

/* Whether a name could start the text, the first word already checked: a
 * cheap filter before the alignment. The name's first distinctive word
 * ("tai" of "Sở Tài chính") must resemble one of the text's words near
 * where it should be, because "Sở" alone lets every "Sở …" name through. */
static bool name_may_start(const struct name_seq *name, size_t x, const struct subword *text, size_t m) {
        for (size_t d = x + 1; d < name->k; d++) {
                if (is_generic(name->sw[d].w))
                        continue;
                for (size_t y = d > x + 1 ? d - x - 1 : 0; y < m && y <= d - x + 2; y++)
                        if (word_sim_at_least(name->sw[d].w, text[y].w, 0.5) ||
                            (y + 1 < m && word_sim_joined(text[y].w, text[y + 1].w, name->sw[d].w) >= 0.5))
                                return true;
                return false;
        }
        return true;
}

static int name_compile(struct textnorm_index *idx, size_t cand, const char *name) {
        struct textnorm_tokens *t = &idx->toks[idx->n_toks];
        struct name_seq *s = &idx->names[idx->n_names];
        size_t len = strlen(name);
        int r;

        if (len > TEXTNORM_MAX_NAME)
                return -E2BIG;
        r = textnorm_tokenize(name, len, t);
        if (r < 0)
                return r;
        idx->n_toks++;
        *s = (struct name_seq) { .cand = cand };
        for (size_t j = 0; j < t->n && s->k < TEXTNORM_MAX_NAME_WORDS; j++) {
                const char *ws[8];
                size_t n;
                if (t->tokens[j].punct)
                        continue;
                n = expand_word(t->tokens[j].word, ws, MIN(ELEMENTSOF(ws), TEXTNORM_MAX_NAME_WORDS - s->k));
                for (size_t x = 0; x < n; x++)
                        s->sw[s->k++] = (struct subword) { .w = ws[x], .weight = word_weight(ws[x]) };
        }
        if (s->k == 0)
                return 0;
        if (s->k > 1 && streq(s->sw[0].w, "cac"))
                s->sw[0].optional = true;
        if (s->k > 1 && streq(s->sw[s->k - 1].w, "tinh"))
                s->sw[s->k - 1].optional = true;
        for (size_t x = 0; x < s->k; x++)
                if (!s->sw[x].optional)
                        s->total += s->sw[x].weight;
        idx->max_k = MAX(idx->max_k, s->k);
        s->total = MAX(s->total, 1.0);
        idx->n_names++;
        return 0;
}

static int cmp_word(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static size_t firsts_find(const struct textnorm_index *idx, const char *w) {
        const char **p = bsearch(&w, idx->firsts, idx->n_firsts, sizeof(char *), cmp_word);
        return p ? (size_t) (p - idx->firsts) : SIZE_MAX;
}

static int firsts_build(struct textnorm_index *idx) {
        size_t n = 0;

        idx->firsts = calloc(MAX(idx->n_names * 2, (size_t) 1), sizeof(char *));
        if (!idx->firsts)
                return -ENOMEM;
        for (size_t i = 0; i < idx->n_names; i++) {
                idx->firsts[n++] = idx->names[i].sw[0].w;
                if (idx->names[i].sw[0].optional)
                        idx->firsts[n++] = idx->names[i].sw[1].w;
        }
        qsort(idx->firsts, n, sizeof(char *), cmp_word);
        idx->n_firsts = 0;
        for (size_t i = 0; i < n; i++)
                if (idx->n_firsts == 0 || !streq(idx->firsts[idx->n_firsts - 1], idx->firsts[i]))
                        idx->firsts[idx->n_firsts++] = idx->firsts[i];
        for (size_t i = 0; i < idx->n_names; i++) {
                struct name_seq *s = &idx->names[i];
                s->first[0] = firsts_find(idx, s->sw[0].w);
                s->first[1] = s->sw[0].optional ? firsts_find(idx, s->sw[1].w) : SIZE_MAX;
        }
        return 0;
}

/* Whether the text's first word resembles first word f, remembered in
 * `seen` (0: not yet asked, 1: no, 2: yes) for the first FIRSTS_CACHED. */
static bool first_ok(const struct textnorm_index *idx, size_t f, const char *w, uint8_t *seen) {
        bool ok;

        if (f < FIRSTS_CACHED && seen[f])
                return seen[f] == 2;
        ok = word_sim_at_least(idx->firsts[f], w, 0.5);
        if (f < FIRSTS_CACHED)
                seen[f] = ok ? 2 : 1;
        return ok;
}

int textnorm_index_new(const struct textnorm_candidate *c, size_t n, struct textnorm_index **ret) {
        _cleanup_(textnorm_index_freep) struct textnorm_index *idx = NULL;
        size_t total = 0;
        int r;

        if ((!c && n > 0) || !ret)
                return -EINVAL;
        if (n > TEXTNORM_MAX_CANDIDATES)
                return -E2BIG;
        for (size_t i = 0; i < n; i++) {
                size_t k = strv_length((char *const *) c[i].names);
                if (!c[i].id)
                        return -EINVAL;
                if (k > TEXTNORM_MAX_NAMES)
                        return -E2BIG;
                total += k;
        }
        idx = calloc(1, sizeof(*idx));
        if (!idx)
                return -ENOMEM;
        idx->ids = calloc(MAX(n, (size_t) 1), sizeof(char *));
        idx->names = calloc(MAX(total, (size_t) 1), sizeof(struct name_seq));
        idx->toks = calloc(MAX(total, (size_t) 1), sizeof(struct textnorm_tokens));
        if (!idx->ids || !idx->names || !idx->toks)
                return -ENOMEM;
        idx->n_cands = n;
        for (size_t i = 0; i < n; i++) {
                idx->ids[i] = c[i].id;
                for (size_t k = 0; c[i].names && c[i].names[k]; k++) {
                        r = name_compile(idx, i, c[i].names[k]);
                        if (r < 0)
                                return r;
                }
        }
        r = firsts_build(idx);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(idx);
        return 0;
}

struct textnorm_index *textnorm_index_free(struct textnorm_index *idx) {
        if (!idx)
                return NULL;
        for (size_t i = 0; i < idx->n_toks; i++)
                textnorm_tokens_done(&idx->toks[i]);
        free(idx->toks);
        free(idx->firsts);
        free(idx->names);
        free(idx->ids);
        free(idx);
        return NULL;
}

int textnorm_index_match(const struct textnorm_index *idx, const char *mention, size_t len,
                         struct textnorm_match *ret) {
        struct textnorm_tokens t = {};
        struct subword text[TEXT_WORDS_MAX];
        size_t m = 0;
        int r;

        if (!idx || !mention || !ret)
                return -EINVAL;
        match_reset(ret);
        r = textnorm_tokenize(mention, len, &t);
        if (r < 0)
                return r;
        for (size_t j = 0; j < t.n && m < TEXT_WORDS_MAX; j++) {
                const char *ws[8];
                size_t k;
                if (t.tokens[j].punct)
                        continue;
                k = expand_word(t.tokens[j].word, ws, MIN(ELEMENTSOF(ws), TEXT_WORDS_MAX - m));
                for (size_t x = 0; x < k; x++)
                        text[m++] = (struct subword) { .w = ws[x], .weight = word_weight(ws[x]), .tok_end = true };
        }
        /* "Sở Tài chính tỉnh" is "Sở Tài chính", as names may omit "tỉnh". */
        if (m > 1 && streq(text[m - 1].w, "tinh"))
                m--;
        if (m > 0)
                for (size_t i = 0; i < idx->n_names; i++)
                        suggest(ret, idx->ids[idx->names[i].cand], align(&idx->names[i], text, m, false, NULL));
        match_decide(ret);
        textnorm_tokens_done(&t);
        return 0;
}

int textnorm_match(const struct textnorm_candidate *c, size_t n, const char *mention, struct textnorm_match *ret) {
        _cleanup_(textnorm_index_freep) struct textnorm_index *idx = NULL;
        int r;

        if (!mention || !ret)
                return -EINVAL;
        r = textnorm_index_new(c, n, &idx);
        if (r < 0)
                return r;
        return textnorm_index_match(idx, mention, strlen(mention), ret);
}

/* Scores an agency-shaped phrase as a whole against every name, without
 * the filter: it is rare, and who is closest is what the reader needs. A
 * whole-phrase match the filter missed is taken as a match. */
static void unknown_suggest(const struct textnorm_index *idx, const struct textnorm_tokens *t,
                            struct textnorm_mention *ret) {
        struct subword text[TEXT_WORDS_MAX];
        size_t m = text_subwords(t, ret->first, ret->last - ret->first, text, TEXT_WORDS_MAX);

        ret->match = (struct textnorm_match) {};
        if (m > 1 && streq(text[m - 1].w, "tinh"))
                m--;
        for (size_t n = 0; n < idx->n_names && m > 0; n++)
                suggest(&ret->match, idx->ids[idx->names[n].cand], align(&idx->names[n], text, m, false, NULL));
        match_decide(&ret->match);
}

int textnorm_index_mention_at(const struct textnorm_index *idx, const struct textnorm_tokens *t, size_t i,
                              unsigned flags, struct textnorm_mention *ret) {
        struct subword text[TEXT_WORDS_MAX];
        uint8_t seen[FIRSTS_CACHED] = {};
        double best = -1.0;
        size_t m, best_used = 0, head;

        if (!idx || !t || !ret || i >= t->n || t->tokens[i].punct)
                return 0;
        *ret = (struct textnorm_mention) { .first = i };
        m = text_subwords(t, i, TEXT_WORDS_MAX, text, MIN(idx->max_k + WINDOW_SLACK, (size_t) TEXT_WORDS_MAX));
        if (m == 0)
                return 0;
        for (size_t n = 0; n < idx->n_names; n++) {
                const struct name_seq *name = &idx->names[n];
                size_t used = 0, x;
                double s;

                if (first_ok(idx, name->first[0], text[0].w, seen))
                        x = 0;
                else if (name->first[1] != SIZE_MAX && first_ok(idx, name->first[1], text[0].w, seen))
                        x = 1;
                else
                        continue;
                if (!name_may_start(name, x, text, m))
                        continue;
                s = align(name, text, MIN(m, name->k + WINDOW_SLACK), true, &used);
                suggest(&ret->match, idx->ids[name->cand], s);
                if (s > best + 1e-9 || (fabs(s - best) <= 1e-9 && used > best_used)) {
                        best = s;
                        best_used = used;
                }
        }
        match_decide(&ret->match);
        if (ret->match.id && best_used > 0 && best >= TEXTNORM_MATCH_THRESHOLD) {
                /* The end belongs to the best-scoring name, which is the
                 * matched candidate since suggestions[0] is the best. */
                ret->last = text[best_used - 1].tok + 1;
                if (ret->last < t->n && !t->tokens[ret->last].punct && !t->tokens[ret->last].upper &&
                    streq(t->tokens[ret->last].word, "tinh"))
                        ret->last++;
        } else {
                ret->match.id = NULL;
                head = (flags & TEXTNORM_FIND_UNKNOWN) ? textnorm_head_at(t, i) : 0;
                if (head == 0)
                        return 0;
                ret->last = textnorm_unknown_extent(t, i, head);
                unknown_suggest(idx, t, ret);
        }
        ret->start = t->tokens[ret->first].start;
        ret->end = t->tokens[ret->last - 1].end;
        return 1;
}

int textnorm_index_find(const struct textnorm_index *idx, const char *text, size_t len, unsigned flags,
                        struct textnorm_mention **ret) {
        struct textnorm_tokens t = {};
        _cleanup_free_ struct textnorm_mention *out = NULL;
        size_t n = 0, cap = 0;
        int r;

        if (!idx || !text || !ret)
                return -EINVAL;
        r = textnorm_tokenize(text, len, &t);
        if (r < 0)
                return r;
        for (size_t i = 0; i < t.n && n < FIND_MAX;) {
                struct textnorm_mention m;
                if (textnorm_index_mention_at(idx, &t, i, flags, &m) <= 0) {
                        i++;
                        continue;
                }
                if (n == cap) {
                        size_t c = cap ? cap * 2 : 8;
                        struct textnorm_mention *p = reallocarray(out, c, sizeof(*p));
                        if (!p) {
                                textnorm_tokens_done(&t);
                                return -ENOMEM;
                        }
                        out = p;
                        cap = c;
                }
                out[n++] = m;
                i = m.last;
        }
        textnorm_tokens_done(&t);
        *ret = TAKE_PTR(out);
        return (int) n;
}
