/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-parse.h"
#include "timeutil.h"

#define CREDENTIAL_IMAP_PASSWORD "imap-password"

void config_inbox_done(struct inbox *i) {
        free(i->url);
        free(i->username);
        if (i->password) {
                explicit_bzero(i->password, strlen(i->password));
                free(i->password);
        }
        free(i->ca_file);
        free(i->address);
}

/* The mailbox is the URL's path: one name, nothing libcurl would read as a
 * message to fetch (";UID=…") or a search ("?…"). No path means INBOX. */
static const char *check_inbox_url(const char *url) {
        const char *rest = strstr(url, "://");

        if (!rest)
                return NULL;   /* parser_check_url() says what is wrong */
        rest += 3;
        if (strpbrk(rest, ";?#"))
                return "names more than a mailbox (no \";\", \"?\" or \"#\": e.g. imaps://mail.example.org/INBOX)";
        return NULL;
}

void config_parse_inbox(struct parser *p, const config_setting_t *root, struct config *c) {
        static const char *const keys[] = { "url", "username", "password_file", "ca_file", "address",
                                            "poll_every", "pause_reminders", "max_size", "connect_timeout",
                                            "timeout", NULL };
        static const char *const schemes[] = { "imap", "imaps", NULL };
        struct inbox *in = &c->inbox;
        config_setting_t *g;
        const char *problem;
        char q[QUOTE_MAX];
        struct stat st;
        int size, r;

        if (parser_get_group(p, root, "", "inbox", &g) <= 0)
                return;
        c->has_inbox = true;
        parser_check_keys(p, g, "inbox", keys);

        r = parser_get_url(p, g, "inbox", "url", schemes, NULL, &in->url);
        if (r == 0)
                parser_error(p, g, "inbox.url", "missing (e.g. url = \"imaps://mail.example.org/INBOX\";)");
        else if (r > 0 && (problem = check_inbox_url(in->url)))
                parser_error(p, config_setting_get_member(g, "url"), "inbox.url", "%s %s",
                             parser_quote_url(in->url, q, sizeof q), problem);

        if (parser_get_string(p, g, "inbox", "username", 254, NULL, &in->username) == 0)
                parser_error(p, g, "inbox.username", "missing (the IMAP login, e.g. username = \"theodoi\";)");
        r = config_read_password(p, g, "inbox", CREDENTIAL_IMAP_PASSWORD, &in->password, &in->password_unreadable);
        if (r >= 0 && !in->password && !in->password_unreadable)
                parser_error(p, g, "inbox.password_file",
                             "missing (set password_file, or the credential " CREDENTIAL_IMAP_PASSWORD ")");

        if (parser_get_path(p, g, "inbox", "ca_file", &in->ca_file) > 0) {
                if (stat(in->ca_file, &st) < 0 || access(in->ca_file, R_OK) < 0)
                        parser_error(p, config_setting_get_member(g, "ca_file"), "inbox.ca_file", "%s: %s",
                                     in->ca_file, strerror(errno));
                else if (!S_ISREG(st.st_mode))
                        parser_error(p, config_setting_get_member(g, "ca_file"), "inbox.ca_file",
                                     "%s is not a regular file", in->ca_file);
        }

        if (parser_get_string(p, g, "inbox", "address", 254, parser_check_email, &in->address) == 0)
                parser_error(p, g, "inbox.address",
                             "missing (the address replies go to, e.g. address = \"theodoi@example.gov.vn\";)");

        (void) parser_get_duration(p, g, "inbox", "poll_every", 1, SEC_PER_DAY, &in->poll_every);
        (void) parser_get_bool(p, g, "inbox", "pause_reminders", &in->pause_reminders);
        if (parser_get_int(p, g, "inbox", "max_size", 1024, 1024 * 1024 * 1024, &size) > 0)
                in->max_size = size;
        (void) parser_get_duration(p, g, "inbox", "connect_timeout", 1, 10 * SEC_PER_MIN, &in->connect_timeout);
        (void) parser_get_duration(p, g, "inbox", "timeout", 1, SEC_PER_HOUR, &in->timeout);
}
