/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "webhook-secret.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int webhook_secret_decode(const char *secret, uint8_t key[static WEBHOOK_SECRET_MAX], size_t *ret_size) {
        unsigned char buf[(WEBHOOK_SECRET_MAX + 2) / 3 * 3 + 3];
        size_t len, pad = 0;
        int n;

        if (!secret)
                return -EINVAL;
        if (strncmp(secret, "whsec_", 6) == 0)
                secret += 6;
        len = strlen(secret);
        /* EVP_DecodeBlock() skips blanks and takes padding anywhere; a
         * secret is checked to be exactly base64 first. */
        if (len == 0 || len % 4 != 0 || len > (WEBHOOK_SECRET_MAX + 2) / 3 * 4)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                char ch = secret[i];
                if (ch == '=' && i >= len - 2) {
                        pad++;
                        continue;
                }
                if (pad > 0 || !(ch == '+' || ch == '/' || (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
                                 (ch >= 'a' && ch <= 'z')))
                        return -EINVAL;
        }
        n = EVP_DecodeBlock(buf, (const unsigned char *) secret, (int) len);
        if (n < 0 || (size_t) n < pad)
                return -EINVAL;
        n -= (int) pad;
        if (n < WEBHOOK_SECRET_MIN || n > WEBHOOK_SECRET_MAX) {
                explicit_bzero(buf, sizeof buf);
                return -EINVAL;
        }
        memcpy(key, buf, (size_t) n);
        explicit_bzero(buf, sizeof buf);
        *ret_size = (size_t) n;
        return 0;
}

struct webhook_key {
        EVP_MAC_CTX *ctx; /* HMAC-SHA256 with the key set: its inner and outer pads are hashed once */
};

void webhook_key_free(struct webhook_key *k) {
        if (!k)
                return;
        EVP_MAC_CTX_free(k->ctx);
        free(k);
}

int webhook_key_new(const char *secret, struct webhook_key **ret) {
        uint8_t key[WEBHOOK_SECRET_MAX];
        size_t key_size;
        EVP_MAC *hmac;
        struct webhook_key *k;
        int r;

        r = webhook_secret_decode(secret, key, &key_size);
        if (r < 0)
                return r;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0),
                OSSL_PARAM_construct_end(),
        };
        k = calloc(1, sizeof *k);
        hmac = k ? EVP_MAC_fetch(NULL, "HMAC", NULL) : NULL;
        if (k && hmac)
                k->ctx = EVP_MAC_CTX_new(hmac);
        EVP_MAC_free(hmac);
        if (!k || !k->ctx || !EVP_MAC_init(k->ctx, key, key_size, params)) {
                explicit_bzero(key, sizeof key);
                webhook_key_free(k);
                return -ENOMEM;
        }
        explicit_bzero(key, sizeof key);
        *ret = k;
        return 0;
}

int webhook_key_sign(const struct webhook_key *k, const char *id, int64_t timestamp, const void *body, size_t size,
                     char **ret) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        char ts[24], *s;
        size_t mac_size = 0;
        EVP_MAC_CTX *ctx;
        int r = 0;

        snprintf(ts, sizeof ts, "%lld", (long long) timestamp);
        /* What is signed is "ID.TIMESTAMP.BODY", fed in pieces so that a
         * large body is not copied, into a copy of the keyed context. */
        ctx = EVP_MAC_CTX_dup(k->ctx);
        if (!ctx || !EVP_MAC_update(ctx, (const unsigned char *) id, strlen(id)) ||
            !EVP_MAC_update(ctx, (const unsigned char *) ".", 1) ||
            !EVP_MAC_update(ctx, (const unsigned char *) ts, strlen(ts)) ||
            !EVP_MAC_update(ctx, (const unsigned char *) ".", 1) || !EVP_MAC_update(ctx, body, size) ||
            !EVP_MAC_final(ctx, mac, &mac_size, sizeof mac))
                r = -ENOMEM;
        EVP_MAC_CTX_free(ctx);
        if (r < 0)
                return r;

        s = malloc(3 + (mac_size + 2) / 3 * 4 + 1);
        if (!s)
                return -ENOMEM;
        memcpy(s, "v1,", 3);
        EVP_EncodeBlock((unsigned char *) s + 3, mac, (int) mac_size);
        *ret = s;
        return 0;
}

int webhook_sign(const char *secret, const char *id, int64_t timestamp, const void *body, size_t size,
                 char **ret) {
        struct webhook_key *k = NULL;
        int r;

        r = webhook_key_new(secret, &k);
        if (r < 0)
                return r;
        r = webhook_key_sign(k, id, timestamp, body, size, ret);
        webhook_key_free(k);
        return r;
}
