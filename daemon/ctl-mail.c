/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl send-test AGENCY [--channel CHANNEL]: sends one test message
 * to an agency now, through the configured transport, and prints what the
 * receiving server answered, for an administrator checking the set-up. */

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "compose.h"
#include "ctl.h"
#include "maildir.h"
#include "smtp-client.h"
#include "smtp.h"

#define REFUSED_MAX 32

enum {
        ARG_JSON = CTL_ARG_JSON,
        ARG_CHANNEL,
};

static void job_freep(struct job **j) {
        job_free(*j);
}

/* What one test delivery came to, for the text or JSON report. */
struct test_report {
        const char *channel;
        sd_event *event;
        enum result_kind result;
        char detail[CURL_ERROR_SIZE + SMTP_REPLY_MAX + 64]; /* the server's reply, or the error */
        char **recipients;                                   /* not owned */
        struct {
                char *address;                               /* not owned */
                char reply[SMTP_REPLY_MAX];
        } refused[REFUSED_MAX];
        size_t n_refused;
};

static void on_refused(struct smtp_message *m, size_t rcpt, int code, const char *reply) {
        struct test_report *rep = m->userdata;

        if (rep->n_refused >= REFUSED_MAX)
                return;
        rep->refused[rep->n_refused].address = m->rcpt[rcpt];
        snprintf(rep->refused[rep->n_refused].reply, SMTP_REPLY_MAX, "%s", reply);
        rep->n_refused++;
}

static void on_done(struct smtp_message *m, enum result_kind result, const char *detail) {
        struct test_report *rep = m->userdata;

        rep->result = result;
        snprintf(rep->detail, sizeof rep->detail, "%s", detail);
        (void) sd_event_exit(rep->event, 0);
}

static const struct smtp_client_ops test_ops = {
        .refused = on_refused,
        .done = on_done,
};

/* The daemon's own SMTP client, on a loop of its own that runs until the
 * one message is done: what works here works for the reminders. */
static int send_smtp(struct ctl *c, struct job *j, struct test_report *rep) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(smtp_client_freep) struct smtp_client *client = NULL;
        struct smtp_message m = {
                .mail_from = j->mail_from,
                .rcpt = j->rcpt,
                .n_rcpt = j->n_rcpt,
                .data = j->data,
                .size = j->size,
                .userdata = rep,
        };
        int r;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return ctl_fail(c, EX_SOFTWARE, "cannot initialise libcurl");
        r = sd_event_new(&event);
        if (r >= 0)
                r = smtp_client_new(event, &test_ops, &client);
        if (r >= 0) {
                rep->event = event;
                smtp_client_configure(client, &c->config->smtp);
                smtp_client_submit(client, &m);
                r = sd_event_loop(event);
        }
        client = smtp_client_free(client);
        curl_global_cleanup();
        if (r < 0)
                return ctl_fail(c, EX_OSERR, "%s", strerror(-r));
        return 0;
}

static int send_maildir(struct ctl *c, struct job *j, struct test_report *rep) {
        _cleanup_free_ char *name = NULL;
        int r;

        r = maildir_prepare(c->config->maildir);
        if (r >= 0)
                r = maildir_deliver(c->config->maildir, j->data, j->size, &name);
        if (r < 0) {
                rep->result = RESULT_RETRY;
                snprintf(rep->detail, sizeof rep->detail, "cannot write to %s: %s", c->config->maildir,
                         strerror(-r));
        } else {
                rep->result = RESULT_SENT;
                snprintf(rep->detail, sizeof rep->detail, "written to %s/new/%s", c->config->maildir, name);
        }
        return 0;
}

static int send_test_email(struct ctl *c, const struct agency *a, struct test_report *rep) {
        _cleanup_(job_freep) struct job *j = calloc(1, sizeof *j);
        char token[64];
        int r;

        if (!j)
                return ctl_fail(c, EX_OSERR, "out of memory");
        /* Unique per run, so that a mail client shows every test. */
        snprintf(token, sizeof token, "test-%lld-%d", (long long) c->now, (int) getpid());
        r = compose_test_email(c->config, a, c->now, token, j);
        if (r == -ENXIO)
                return ctl_fail(c, EX_DATAERR, "agency %s has no e-mail address", a->id);
        if (r < 0)
                return ctl_fail(c, EX_SOFTWARE, "cannot compose the test message: %s", strerror(-r));
        rep->recipients = j->rcpt;
        r = c->config->transport == TRANSPORT_SMTP ? send_smtp(c, j, rep) : send_maildir(c, j, rep);
        if (r != 0)
                return r;
        /* The report is printed while the job, which owns the addresses,
         * is still alive. */
        json_t *refused = json_array();
        for (size_t i = 0; i < rep->n_refused; i++)
                json_array_append_new(refused, json_pack("{s:s, s:s}", "address", rep->refused[i].address,
                                                         "reply", rep->refused[i].reply));
        if (c->json)
                return ctl_print_json(c, json_pack("{s:s, s:s, s:o, s:s, s:s, s:o}", "agency", a->id, "channel",
                                                   rep->channel, "recipients", json_strv(j->rcpt), "result",
                                                   rep->result == RESULT_SENT    ? "sent"
                                                   : rep->result == RESULT_RETRY ? "temporary-failure"
                                                                                 : "failed",
                                                   "reply", rep->detail, "refused", refused));
        json_decref(refused);
        for (size_t i = 0; i < rep->n_refused; i++)
                printf("Refused %s: %s\n", rep->refused[i].address, rep->refused[i].reply);
        if (rep->result == RESULT_SENT) {
                printf("Sent to");
                for (char **r2 = j->rcpt; *r2; r2++)
                        printf("%s %s", r2 == j->rcpt ? "" : ",", *r2);
                printf(": %s\n", rep->detail);
        }
        return 0;
}

/* One entry per channel a test can go through. */
static const struct test_channel {
        const char *name;
        int (*send)(struct ctl *c, const struct agency *a, struct test_report *rep);
} channels[] = {
        { "email", send_test_email },
};

int cmd_send_test(struct ctl *c, int argc, char **argv) {
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "channel", required_argument, NULL, ARG_CHANNEL },
                {},
        };
        const char *channel = "email";
        const struct test_channel *ch = NULL;
        struct test_report rep = {};
        int opt, r;

        while ((opt = getopt_long(argc, argv, ":c:h", options, NULL)) >= 0) {
                int k = ctl_common_option(c, opt, argv);
                if (k >= 1000)
                        return k - 1000;
                if (opt == ARG_CHANNEL)
                        channel = optarg;
        }
        if (optind != argc - 1)
                return ctl_fail(c, EX_USAGE, optind >= argc ? "missing agency ID" : "unexpected argument \"%s\"",
                                argv[MIN(optind + 1, argc - 1)]);
        for (size_t i = 0; i < ELEMENTSOF(channels); i++)
                if (streq(channels[i].name, channel))
                        ch = &channels[i];
        bool webhook = streq(channel, "webhook");
        if (!ch && !webhook)
                return ctl_fail(c, EX_USAGE, "--channel: \"%s\" is not a channel (use email or webhook)", channel);
        r = ctl_load_config(c);
        if (r != 0)
                return r;
        const char *id = argv[optind];
        const struct agency *a = config_find_agency(c->config, id);
        if (!a) {
                if (config_find_group(c->config, id))
                        return ctl_fail(c, EX_DATAERR, "\"%s\" is a group; name one of its agencies", id);
                return ctl_check_agency(c, "AGENCY", id);
        }

        /* Webhooks report each of the agency's receivers themselves. */
        if (webhook)
                return ctl_send_test_webhook(c, a);

        rep.channel = ch->name;
        r = ch->send(c, a, &rep);
        if (r != 0)
                return r;
        if (rep.result != RESULT_SENT)
                return ctl_fail(c, rep.result == RESULT_RETRY ? EX_TEMPFAIL : EX_UNAVAILABLE, "%s", rep.detail);
        /* Some recipients refused: the set-up works, but not for all. */
        return rep.n_refused > 0 ? EX_UNAVAILABLE : 0;
}
