/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Normalisation, folding and tokenising (textnorm.h); matching lives in
 * textnorm-match.c. */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

#include "textnorm.h"

/* A code point folds to at most this many bytes; the rare compatibility
 * decompositions longer than that (U+FDFA is 18 code points) are kept
 * unfolded instead. */
#define FOLD_MAX_CP 8
#define FOLD_MAX (FOLD_MAX_CP * 4)

static int utf8proc_to_errno(utf8proc_ssize_t r) {
        switch (r) {
        case UTF8PROC_ERROR_NOMEM:
                return -ENOMEM;
        case UTF8PROC_ERROR_OVERFLOW:
                return -EFBIG;
        default:
                return -EBADMSG;
        }
}

/* Decodes one code point, refusing NUL as well as invalid UTF-8: every
 * string here ends up NUL-terminated, and a NUL inside one is binary input
 * rather than text. Returns the bytes consumed or -EBADMSG. */
static int next_codepoint(const char *s, size_t len, size_t i, utf8proc_int32_t *ret) {
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *) s + i, (utf8proc_ssize_t) (len - i), ret);
        if (n <= 0 || *ret == 0)
                return -EBADMSG;
        return (int) n;
}

int textnorm_nfc(const char *s, size_t len, char **ret) {
        utf8proc_uint8_t *out = NULL;
        utf8proc_ssize_t r;

        if (!s || !ret)
                return -EINVAL;
        if (len > TEXTNORM_MAX_INPUT)
                return -EFBIG;
        if (memchr(s, 0, len))
                return -EBADMSG;
        if (len == 0) {
                *ret = strdup("");
                return *ret ? 0 : -ENOMEM;
        }
        r = utf8proc_map((const utf8proc_uint8_t *) s, (utf8proc_ssize_t) len, &out,
                         UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (r < 0)
                return utf8proc_to_errno(r);
        *ret = (char *) out;
        return 0;
}

/* Folds one code point into out (FOLD_MAX bytes), returning the length. */
static size_t fold_codepoint(utf8proc_int32_t cp, char *out) {
        utf8proc_int32_t buf[FOLD_MAX_CP];
        utf8proc_ssize_t n;
        int boundclass = UTF8PROC_BOUNDCLASS_START;
        size_t len = 0;

        if (cp < 0x80) {
                out[0] = (char) (cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp);
                return 1;
        }
        /* đ has no decomposition in Unicode, and OCR renders it as the
         * Icelandic eth now and then. */
        if (cp == 0x0110 || cp == 0x0111 || cp == 0x00D0 || cp == 0x00F0) {
                out[0] = 'd';
                return 1;
        }
        /* OCR reads a "c" with a stroke or a circle as these. */
        if (cp == 0x00A2 || cp == 0x00A9) {
                out[0] = 'c';
                return 1;
        }
        /* utf8proc lumps single quotes but not double ones. */
        if (cp == 0x201C || cp == 0x201D || cp == 0x201E || cp == 0x00AB || cp == 0x00BB) {
                out[0] = '"';
                return 1;
        }
        n = utf8proc_decompose_char(cp, buf, FOLD_MAX_CP,
                                    UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK |
                                    UTF8PROC_CASEFOLD | UTF8PROC_LUMP | UTF8PROC_IGNORE,
                                    &boundclass);
        if (n < 0 || n > FOLD_MAX_CP) {
                buf[0] = cp;
                n = 1;
        }
        for (utf8proc_ssize_t k = 0; k < n; k++) {
                utf8proc_int32_t c = buf[k];
                if (c == 0x0110 || c == 0x0111)
                        c = 'd';
                len += (size_t) utf8proc_encode_char(c, (utf8proc_uint8_t *) out + len);
        }
        return len;
}

int textnorm_fold(const char *s, size_t len, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t cap, n = 0;

        if (!s || !ret)
                return -EINVAL;
        if (len > TEXTNORM_MAX_INPUT)
                return -EFBIG;
        cap = len + FOLD_MAX + 1;
        out = malloc(cap);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len;) {
                utf8proc_int32_t cp;
                char f[FOLD_MAX];
                size_t fl;
                int k = next_codepoint(s, len, i, &cp);
                if (k < 0)
                        return k;
                i += (size_t) k;
                fl = fold_codepoint(cp, f);
                if (n + fl + 1 > cap) {
                        char *p;
                        cap = cap * 2 + fl;
                        p = realloc(out, cap);
                        if (!p)
                                return -ENOMEM;
                        out = p;
                }
                memcpy(out + n, f, fl);
                n += fl;
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static bool ocr_char_eq(char w, char k) {
        if (w == k)
                return true;
        switch (k) {
        case 'd':
                return w == 'p';
        case 'l':
                return w == '1' || w == '|' || w == 'i';
        case 'o':
                return w == '0';
        default:
                return false;
        }
}

/* "Sở" and "số" both fold to "so"; OCR makes of them two characters each
 * equal to or confused with these ("s&", "sd", "s6", "86", "5o"), or
 * three with a symbol or digit among them, but never a real word: "sẽ" is
 * no "Sở", so a vowel other than "o" is out. */
static bool is_so_shape(const char *w) {
        size_t n = strlen(w);

        if (n == 2)
                return textnorm_char_confused(w[0], 's') && textnorm_char_confused(w[1], 'o') &&
                       (w[1] == 'o' || !strchr("aeiuy", w[1]));
        /* Three characters, one of them no letter: "s&e", "sg6", "s06". */
        return n == 3 && strpbrk(w, "&0123456789$") && textnorm_word_cost(w, "so") <= 1.31;
}

bool textnorm_word_is(const char *word, const char *keyword) {
        size_t n;

        if (!word || !keyword)
                return false;
        if (streq(keyword, "so"))
                return is_so_shape(word);
        n = strlen(keyword);
        if (strlen(word) != n)
                return false;
        for (size_t k = 0; k < n; k++)
                if (!ocr_char_eq(word[k], keyword[k]))
                        return false;
        return true;
}

bool textnorm_starts_upper(const char *s, size_t len) {
        utf8proc_int32_t cp;
        utf8proc_category_t cat;

        if (!s || len == 0 || next_codepoint(s, len, 0, &cp) < 0)
                return false;
        cat = utf8proc_category(cp);
        return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT;
}

static bool is_space_cp(utf8proc_int32_t cp) {
        if (cp == ' ' || (cp >= '\t' && cp <= '\r'))
                return true;
        if (cp < 0x80)
                return false;
        switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_ZS:
        case UTF8PROC_CATEGORY_ZL:
        case UTF8PROC_CATEGORY_ZP:
                return true;
        default:
                return false;
        }
}

static bool is_punct_char(char c) {
        return c && strchr(",;:.!?()[]{}\"'`<>", c);
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

struct tokenizer {
        struct textnorm_tokens *t;
        size_t cap_tokens;
        size_t pool_len, pool_cap;
        /* The word being built: its start in the pool, or SIZE_MAX. */
        size_t word_at;
        size_t start, end;
        bool upper;
};

static int pool_put(struct tokenizer *z, const char *p, size_t n) {
        if (z->pool_len + n + 1 > z->pool_cap) {
                size_t cap = (z->pool_cap + n + 1) * 2;
                char *q = realloc(z->t->pool, cap);
                if (!q)
                        return -ENOMEM;
                z->t->pool = q;
                z->pool_cap = cap;
        }
        memcpy(z->t->pool + z->pool_len, p, n);
        z->pool_len += n;
        return 0;
}

/* Words are stored as pool offsets while the pool may still move, and
 * turned into pointers at the end. */
static int token_push(struct tokenizer *z, size_t word_at, size_t start, size_t end, bool punct, bool upper) {
        struct textnorm_tokens *t = z->t;

        if (t->n == z->cap_tokens) {
                size_t cap = z->cap_tokens ? z->cap_tokens * 2 : 64;
                struct textnorm_token *p = reallocarray(t->tokens, cap, sizeof(*p));
                if (!p)
                        return -ENOMEM;
                t->tokens = p;
                z->cap_tokens = cap;
        }
        t->tokens[t->n++] = (struct textnorm_token) {
                .word = (const char *) (uintptr_t) word_at,
                .start = start,
                .end = end,
                .punct = punct,
                .upper = upper,
        };
        return 0;
}

static int word_close(struct tokenizer *z) {
        const char *w;
        bool dashes = true;
        int r;

        if (z->word_at == SIZE_MAX)
                return 0;
        r = pool_put(z, "", 1);
        if (r < 0)
                return r;
        w = z->t->pool + z->word_at;
        for (const char *p = w; *p; p++)
                if (*p != '-')
                        dashes = false;
        /* A dash standing alone ("2025 - 2029", a bullet) is punctuation;
         * inside a word ("2417/UBND-KTTH") it is part of it. */
        if (dashes)
                z->t->pool[z->word_at + 1] = 0;
        r = token_push(z, z->word_at, z->start, z->end, dashes, z->upper);
        z->word_at = SIZE_MAX;
        return r;
}

int textnorm_tokenize(const char *s, size_t len, struct textnorm_tokens *ret) {
        struct textnorm_tokens t = {};
        struct tokenizer z = { .t = &t, .word_at = SIZE_MAX };
        utf8proc_category_t cp_cat;
        bool prev_lower = false;
        int r;

        if (!s || !ret)
                return -EINVAL;
        if (len > TEXTNORM_MAX_INPUT)
                return -EFBIG;

        for (size_t i = 0; i < len;) {
                utf8proc_int32_t cp;
                char f[FOLD_MAX];
                size_t fl, at = i;
                int k = next_codepoint(s, len, i, &cp);
                if (k < 0) {
                        r = k;
                        goto fail;
                }
                i += (size_t) k;
                if (is_space_cp(cp)) {
                        prev_lower = false;
                        r = word_close(&z);
                        if (r < 0)
                                goto fail;
                        continue;
                }
                /* A capital right after a small letter starts a word:
                 * Vietnamese has no such word, OCR's "SởY tế" lost a space. */
                cp_cat = utf8proc_category(cp);
                /* ("IlI" is a numeral, "l" OCR's "I".) */
                if (prev_lower && cp_cat == UTF8PROC_CATEGORY_LU && cp != 'I') {
                        r = word_close(&z);
                        if (r < 0)
                                goto fail;
                }
                prev_lower = cp_cat == UTF8PROC_CATEGORY_LL && cp != 'l' && cp != 'i';
                fl = fold_codepoint(cp, f);
                for (size_t b = 0; b < fl; b++) {
                        char c = f[b];
                        bool in_number = (c == '.' || c == ',') && z.word_at != SIZE_MAX &&
                                         z.pool_len > z.word_at && is_digit(t.pool[z.pool_len - 1]) &&
                                         i < len && is_digit(s[i]);
                        if (is_punct_char(c) && !in_number) {
                                r = word_close(&z);
                                if (r < 0)
                                        goto fail;
                                r = pool_put(&z, f + b, 1);
                                if (r >= 0)
                                        r = pool_put(&z, "", 1);
                                if (r >= 0)
                                        r = token_push(&z, z.pool_len - 2, at, i, true, false);
                                if (r < 0)
                                        goto fail;
                                continue;
                        }
                        if (z.word_at == SIZE_MAX) {
                                utf8proc_category_t cat = utf8proc_category(cp);
                                z.word_at = z.pool_len;
                                z.start = at;
                                z.upper = cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT;
                        }
                        z.end = i;
                        r = pool_put(&z, &c, 1);
                        if (r < 0)
                                goto fail;
                }
        }
        r = word_close(&z);
        if (r < 0)
                goto fail;
        for (size_t k = 0; k < t.n; k++)
                t.tokens[k].word = t.pool + (uintptr_t) t.tokens[k].word;
        *ret = t;
        return 0;
fail:
        textnorm_tokens_done(&t);
        return r;
}

void textnorm_tokens_done(struct textnorm_tokens *t) {
        if (!t)
                return;
        free(t->tokens);
        free(t->pool);
        *t = (struct textnorm_tokens) {};
}
