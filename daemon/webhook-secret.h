/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A webhook's secret (Standard Webhooks): "whsec_" and the base64 of the
 * HMAC key, and the signature made with it. Its own module so that the
 * configuration can check a secret when it reads one without depending on
 * the sender (webhook.h, curl, the job). Pure: no I/O and no logging. */

#include <stddef.h>
#include <stdint.h>

/* The specification's bounds on a secret, in bytes after base64. */
#define WEBHOOK_SECRET_MIN 24
#define WEBHOOK_SECRET_MAX 64

/* Decodes "whsec_<base64>" (the prefix may be left out, as the
 * specification's reference libraries allow) into the HMAC key. -EINVAL
 * unless it is base64 of WEBHOOK_SECRET_MIN to WEBHOOK_SECRET_MAX bytes. */
int webhook_secret_decode(const char *secret, uint8_t key[static WEBHOOK_SECRET_MAX], size_t *ret_size);

/* "v1,<base64 HMAC-SHA256 of ID.TIMESTAMP.BODY>" with the decoded secret. */
int webhook_sign(const char *secret, const char *id, int64_t timestamp, const void *body, size_t size,
                 char **ret);

/* The HMAC key made ready once (a receiver's, at configuration load), so
 * that a signature hashes only what it signs. */
struct webhook_key;
int webhook_key_new(const char *secret, struct webhook_key **ret);
void webhook_key_free(struct webhook_key *k);
/* As webhook_sign(), with a key from webhook_key_new(); the key is not
 * changed, so one serves any number of signatures. */
int webhook_key_sign(const struct webhook_key *k, const char *id, int64_t timestamp, const void *body, size_t size,
                     char **ret);
