/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The e-mail message: RFC 5322 with MIME, the same bytes for every
 * transport (a maildir file, SMTP DATA). Pure: no I/O.
 *
 * Output has CRLF line ends; header lines are folded to at most 78
 * characters where the syntax allows and can never exceed 998. Subject and
 * display names that are not plain ASCII become RFC 2047 encoded-words
 * (UTF-8, base64, each at most 75 characters, split between characters).
 * Each body is quoted-printable, which keeps every line short, encodes a
 * line's leading "." (so no line is ever a lone "." for SMTP) and a leading
 * "From " (for mbox readers); or base64 of its CRLF form where that is
 * shorter (more than one byte in six would be "=XX", as in most Vietnamese
 * text), whose lines never start with "." or "From ".
 *
 * Nothing the caller passes can add a header: line breaks and other
 * control characters in the subject and display names become spaces, and
 * an address that is not a plain local@domain is refused with -EINVAL. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define MAIL_ADDRESS_MAX    254           /* RFC 5321 path limit less the brackets */
#define MAIL_NAME_MAX       256           /* bytes of a display name */
#define MAIL_SUBJECT_MAX    2048          /* bytes of a subject */
#define MAIL_BODY_MAX       (1024 * 1024) /* bytes of each body */
#define MAIL_RECIPIENTS_MAX 1000          /* To and Cc together */
#define MAIL_TASKS_MAX      1000
#define MAIL_TOKEN_MAX      128
#define MAIL_ATTACHMENTS_MAX 8
#define MAIL_ATTACHMENT_MAX (4 * 1024 * 1024) /* bytes of each attachment, before base64 */
#define MAIL_FILENAME_MAX   64

struct mail_address {
        const char *name;       /* display name, UTF-8; NULL or "": none */
        const char *address;    /* local@domain */
};

/* A file sent with the message: a part of its own after the body,
 * "Content-Disposition: attachment", base64 in lines of 76 characters. The
 * file name is plain (letters, digits, ".", "-", "_"; at most 64 bytes),
 * so that it needs no encoding; the content type is a plain "type/subtype"
 * with optional parameters (e.g. "text/csv; charset=utf-8"), written as
 * given. */
struct mail_attachment {
        const char *filename;
        const char *content_type;
        const void *data;
        size_t size;
};

struct mail_message {
        struct mail_address from;
        const struct mail_address *to;
        size_t n_to;
        const struct mail_address *cc;
        size_t n_cc;
        const struct mail_address *reply_to;  /* NULL: none */
        const char *subject;    /* UTF-8 */
        const char *text;       /* text/plain body, UTF-8 */
        const char *html;       /* text/html alternative; NULL: text only */
        int64_t date;           /* the Date header, shown in the process time zone */
        /* A token unique to the delivery and the same on every retry of it
         * (letters, digits, "-_.+="): it makes the Message-ID
         * <deadlined.INSTANCE.TOKEN@DOMAIN> (DOMAIN from the From address)
         * and the X-Deadlined-Delivery header. */
        const char *delivery;
        /* The database's instance id (store.h), which makes the token
         * unique across databases; NULL leaves it out (test messages,
         * whose token is unique by itself). */
        const char *instance;
        /* The tasks the message is about (X-Deadlined-Task). When it is
         * about one task, In-Reply-To and References name that task's
         * thread root, so every reminder about it threads together. */
        const int64_t *tasks;
        size_t n_tasks;
        /* The id ("<…>") that In-Reply-To and References name instead of
         * a task's thread root: a digest's (mail_digest_thread_id()), or
         * the message this one answers. NULL: as above. */
        const char *thread;
        /* With attachments the message is multipart/mixed: the body (text,
         * or text and HTML as multipart/alternative) first, then each
         * attachment. */
        const struct mail_attachment *attachments;
        size_t n_attachments;
};

/* Whether `address` is a plain dot-atom local@domain of at most 254 bytes,
 * with an ASCII domain of letters, digits and hyphens. */
bool mail_address_is_valid(const char *address);

/* Splits "Name <local@domain>", "\"Name\" <local@domain>" or
 * "local@domain" (as written in the configuration). *ret_name is NULL when
 * there is no name. -EINVAL for anything else. */
int mail_address_parse(const char *s, char **ret_name, char **ret_address);

/* "<deadlined.INSTANCE.TOKEN@DOMAIN>", with DOMAIN from `from_address`;
 * without "INSTANCE." when `instance` is NULL. */
int mail_message_id(const char *token, const char *instance, const char *from_address, char **ret);
/* "<deadlined.INSTANCE.task-ID@DOMAIN>": the thread root every message
 * about one task refers to. */
int mail_thread_id(int64_t task_id, const char *instance, const char *from_address, char **ret);

/* A digest's delivery token, "digest.AGENCY.YYYY-MM-DD.ROW" (the agency's
 * config id, the local day it is sent, its first delivery's row), and the
 * thread root every digest to that agency on that day refers to,
 * "<deadlined.INSTANCE.digest.AGENCY.YYYY-MM-DD@DOMAIN>". */
int mail_digest_token(const char *agency, int32_t day, int64_t first_delivery, char **ret);
int mail_digest_thread_id(const char *agency, int32_t day, const char *instance, const char *from_address,
                          char **ret);
/* Whether `id` is a message id deadlined may write into In-Reply-To and
 * References: "<…>", at most 250 bytes, printable ASCII without blanks or
 * further angle brackets. */
bool mail_id_is_valid(const char *id);

/* What an id deadlined wrote names, read back from a reply's In-Reply-To or
 * References (with or without the angle brackets; any domain, since a
 * reply keeps the id as it was): a task (its thread root, or a message
 * about it alone: "deadlined.INSTANCE.42-before-7d.1747760399"), a digest
 * ("digest.AGENCY.DAY…", or, as older versions wrote, its first
 * delivery's row, digits alone), or another message
 * of ours (a report, an acknowledgement). Only ids of this `instance`
 * (NULL: ids without one) are ours. */
enum mail_reference {
        MAIL_REFERENCE_FOREIGN,  /* not ours */
        MAIL_REFERENCE_TASK,     /* *ret_task set */
        MAIL_REFERENCE_DIGEST,
        MAIL_REFERENCE_OTHER,
};
enum mail_reference mail_reference_parse(const char *id, const char *instance, int64_t *ret_task);
/* The agency (its config id) and local day of a digest an id names (its
 * Message-ID or its thread root). -ENOENT for any other id. */
int mail_reference_digest(const char *id, const char *instance, char **ret_agency, int32_t *ret_day);
/* The first task the ids name, in order (In-Reply-To first, then
 * References); when none does, DIGEST if one names a digest. */
enum mail_reference mail_references_task(char *const *ids, const char *instance, int64_t *ret_task);

/* The whole message, NUL-terminated, with its size. -EINVAL for a missing
 * or invalid field (From, delivery token, an address, no recipient),
 * -EILSEQ for text that is not UTF-8, -E2BIG beyond the limits above. */
int mail_message_format(const struct mail_message *m, char **ret, size_t *ret_size);

/* The SMTP envelope: exactly the To and Cc addresses, in that order, each
 * once (compared without regard to case), as a NULL-terminated list. */
int mail_message_recipients(const struct mail_message *m, char ***ret);
