/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The shape of an agency's name in running text, for names no candidate
 * matches: a capitalised head word ("Sở", "Ban", "UBND", "Văn phòng", …)
 * up to the verb that follows the subject. */

#include <string.h>

#include "textnorm-internal.h"

/* An unknown agency-shaped phrase is at most this many words. */
#define UNKNOWN_MAX_TOKENS 12

/* Head words of agency names, folded: a phrase that starts with one of
 * them (capitalised) names an agency even when no candidate matches it.
 * `upper_next`: only when the next word is capitalised too, because
 * "Ban hành", "Số liệu", "Cục bộ" start sentences as well. */
static const struct head {
        const char *words[3];
        bool upper_next;
} heads[] = {
        { { "so" }, true },
        { { "ban" }, true },
        { { "cuc" }, true },
        { { "bo" }, true },
        { { "trung", "tam" }, true },
        { { "uy", "ban" }, false },
        { { "ubnd" }, false },
        { { "van", "phong" }, false },
        { { "kho", "bac" }, false },
        { { "cong", "an" }, false },
        { { "bo", "chi", "huy" }, false },
        { { "chi", "cuc" }, false },
        { { "tong", "cuc" }, false },
        { { "thanh", "tra" }, false },
        { { "bao", "hiem" }, false },
        { { "ngan", "hang" }, false },
        { { "benh", "vien" }, false },
        { { "lien", "doan" }, false },
        { { "tinh", "doan" }, false },
        { { "mat", "tran" }, false },
        { { "hoi", "dong" }, false },
        { { "toa", "an" }, false },
        { { "cong", "ty" }, false },
};

/* Verbs and particles that end a subject ("Sở Y tế tiếp tục chỉ đạo"), when
 * written in lower case. */
static const char *const stop_phrases[][2] = {
        { "chu", "tri" }, { "phoi", "hop" }, { "khan", "truong" }, { "tiep", "tuc" }, { "to", "chuc" },
        { "thuc", "hien" }, { "chi", "dao" }, { "huong", "dan" }, { "ra", "soat" }, { "tham", "muu" },
        { "theo", "doi" }, { "tong", "hop" }, { "bao", "cao" }, { "kiem", "tra" }, { "xay", "dung" },
        { "trien", "khai" }, { "chuan", "bi" }, { "hoan", "thanh" }, { "hoan", "thien" }, { "hoan", "chinh" },
        { "nghien", "cuu" }, { "de", "xuat" }, { "cap", "nhat" }, { "giam", "sat" }, { "thong", "bao" },
        { "dieu", "chinh" }, { "bo", "tri" }, { "uu", "tien" }, { "tang", "cuong" }, { "day", "manh" },
        { "chu", "dong" }, { "kip", "thoi" }, { "xem", "xet" }, { "phan", "dau" }, { "dam", "bao" },
        { "bao", "dam" }, { "tich", "cuc" }, { "nghiem", "tuc" }, { "tap", "trung" }, { "thuong", "xuyen" },
        { "dong", "thoi" }, { "ho", "tro" }, { "don", "doc" }, { "cung", "cap" }, { "thanh", "lap" },
        { "ban", "hanh" }, { "xu", "ly" }, { "quan", "ly" }, { "dinh", "ky" }, { "can", "cu" },
        { "trinh" }, { "lam" }, { "co" }, { "duoc" }, { "la" }, { "se" }, { "can" }, { "phai" }, { "cung" },
        { "voi" }, { "tai" }, { "ve" }, { "cua" }, { "trong" }, { "theo" }, { "de" }, { "giao" },
        { "truoc" }, { "sau" }, { "khi" }, { "neu" }, { "gui" }, { "nop" }, { "do" },
};

static bool phrase_at(const struct textnorm_tokens *t, size_t j, const char *const *words, size_t max) {
        for (size_t x = 0; x < max && words[x]; x++)
                if (j + x >= t->n || t->tokens[j + x].punct || !textnorm_word_is(t->tokens[j + x].word, words[x]))
                        return false;
        return true;
}

static size_t phrase_len(const char *const *words, size_t max) {
        size_t n = 0;
        while (n < max && words[n])
                n++;
        return n;
}

static bool stop_at(const struct textnorm_tokens *t, size_t j) {
        if (t->tokens[j].upper)
                return false;
        for (size_t k = 0; k < ELEMENTSOF(stop_phrases); k++)
                if (phrase_at(t, j, stop_phrases[k], 2))
                        return true;
        return false;
}

size_t textnorm_head_at(const struct textnorm_tokens *t, size_t j) {
        if (j >= t->n || !t->tokens[j].upper)
                return 0;
        for (size_t k = 0; k < ELEMENTSOF(heads); k++) {
                size_t n = phrase_len(heads[k].words, 3);
                if (!phrase_at(t, j, heads[k].words, 3))
                        continue;
                if (heads[k].upper_next && (j + n >= t->n || !t->tokens[j + n].upper))
                        continue;
                return n;
        }
        return 0;
}

size_t textnorm_unknown_extent(const struct textnorm_tokens *t, size_t i, size_t head) {
        size_t j = i + head;

        while (j < t->n && j - i < UNKNOWN_MAX_TOKENS) {
                const struct textnorm_token *tok = &t->tokens[j];
                if (tok->punct || strpbrk(tok->word, "0123456789"))
                        break;
                if (stop_at(t, j))
                        break;
                if (streq(tok->word, "va")) {
                        if (j + 1 < t->n && t->tokens[j + 1].upper && !t->tokens[j + 1].punct && textnorm_head_at(t, j + 1) == 0) {
                                j++;
                                continue;
                        }
                        break;
                }
                j++;
                if (!tok->upper && streq(tok->word, "tinh"))
                        break;
        }
        return j;
}
