/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlined: reminds agencies of their deadlines. */

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "config.h"
#include "lockfile.h"
#include "log.h"
#include "manager.h"
#include "preview.h"
#include "store.h"
#include "timeutil.h"

static void help(void) {
        printf("Usage: deadlined [OPTIONS]\n"
               "Send reminders of task deadlines to the agencies responsible.\n\n"
               "  -c, --config FILE   configuration file (default %s)\n"
               "      --once          send what is due now, then exit\n"
               "      --dry-run       with --once: show what the pass would send; send nothing\n"
               "      --json          with --dry-run: print it as JSON\n"
               "      --now TIME      act as if it were TIME (\"2025-04-28T08:00\"); without\n"
               "                      --dry-run, what is due then is really sent\n"
               "      --check-config  check the configuration and exit\n"
               "  -v, --verbose       log debugging messages\n"
               "  -h, --help          show this help\n"
               "      --version       show the version\n\n"
               "See deadlined(8) and deadlined.conf(5).\n",
               CONFIG_DEFAULT_PATH);
}

static int load_config(const char *path, struct config **ret) {
        _cleanup_free_ char *errors = NULL;
        int r = config_load(path, ret, &errors);

        if (r >= 0)
                return 0;
        if (errors)
                for (char *line = strtok(errors, "\n"); line; line = strtok(NULL, "\n"))
                        log_error("%s", line);
        else
                log_error_errno(r, "Failed to read %s: %m", path);
        return r;
}

/* Takes the database's sender lock (lockfile.h) for the life of the
 * process; returns its descriptor or an exit code, negated. */
static int take_sender_lock(const char *database) {
        struct lock_holder h;
        int fd;

        fd = lockfile_take(database, (int64_t) time(NULL), &h);
        if (fd >= 0)
                return fd;
        if (fd == -EBUSY) {
                if (h.pid > 0)
                        log_error("another deadlined (PID %d) is sending from %s", (int) h.pid, database);
                else
                        log_error("another deadlined is sending from %s", database);
                return -EX_TEMPFAIL;
        }
        log_error("Failed to lock %s.lock: %s", database, store_strerror(fd));
        return -store_exit_status(fd);
}

static int dry_run_open_failed(const char *path, int r) {
        const char *why = store_last_error(NULL);

        switch (r) {
        case -EBUSY:
                log_error("Cannot preview from %s: another process holds its write lock (%s); try again in a "
                          "moment", path, why);
                return EX_TEMPFAIL;
        case -ENOENT:
                log_error("Cannot preview from %s: there is no such database", path);
                return EX_NOINPUT;
        case -EACCES:
        case -EPERM:
        case -EROFS:
                log_error("Cannot preview from %s: a dry run takes the database's write lock and needs write "
                          "access (%s)", path, why);
                return EX_NOPERM;
        default:
                log_error("Cannot preview from %s: %s (%s)", path, store_strerror(r), why);
                return store_exit_status(r);
        }
}

/* After a dry run: what the pass would have sent, or why it cannot say. */
static int dry_run_print(const struct preview *p, int64_t at, bool json, int error) {
        int r;

        if (error < 0) {
                log_error("The dry run could not finish: %s", store_strerror(error));
                return store_exit_status(error);
        }
        r = json ? preview_print_json(p, at, stdout) : preview_print_text(p, at, stdout);
        if (r >= 0 && fflush(stdout) != 0)
                r = -errno;
        if (r < 0) {
                log_error_errno(r, "Failed to print the dry run: %m");
                return r == -ENOMEM ? EX_OSERR : EX_IOERR;
        }
        log_info("Dry run done: %zu deliveries would be sent; nothing was sent or changed", preview_deliveries(p));
        return 0;
}

int main(int argc, char **argv) {
        enum { ARG_ONCE = 0x100, ARG_DRY_RUN, ARG_JSON, ARG_NOW, ARG_CHECK, ARG_VERSION };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "once", no_argument, NULL, ARG_ONCE },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "json", no_argument, NULL, ARG_JSON },
                { "now", required_argument, NULL, ARG_NOW },
                { "check-config", no_argument, NULL, ARG_CHECK },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        const char *config_path = CONFIG_DEFAULT_PATH, *now_text = NULL;
        bool once = false, dry_run = false, json = false, check = false, verbose = false;
        int64_t now = NO_TIME, at;
        _cleanup_close_ int lock = -EBADF;
        _cleanup_(config_freep) struct config *config = NULL;
        _cleanup_(store_closep) struct store *store = NULL;
        _cleanup_(manager_freep) struct manager *m = NULL;
        _cleanup_(preview_freep) struct preview *preview = NULL;
        int opt, r;

        log_setup(LOG_TARGET_AUTO, LOG_INFO);
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":c:vh", options, NULL)) >= 0) {
                switch (opt) {
                case 'c':
                        config_path = optarg;
                        break;
                case ARG_ONCE:
                        once = true;
                        break;
                case ARG_DRY_RUN:
                        dry_run = true;
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                case ARG_NOW:
                        /* A local time means the configured zone, known
                         * only once the configuration is read: here the
                         * text is checked, so that a usage error comes
                         * first, and it is read below. Whether it parses
                         * does not depend on the zone. */
                        if (parse_instant(optarg, &now) < 0) {
                                log_error("--now: \"%s\" is not a time (use 2025-04-28T08:00)", optarg);
                                return EX_USAGE;
                        }
                        now_text = optarg;
                        break;
                case ARG_CHECK:
                        check = true;
                        break;
                case 'v':
                        verbose = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("deadlined %s\n", VERSION);
                        return 0;
                default:
                        log_error("Unknown or incomplete option \"%s\" (see deadlined --help)", argv[optind - 1]);
                        return EX_USAGE;
                }
        }
        if (optind < argc) {
                log_error("Unexpected argument \"%s\" (see deadlined --help)", argv[optind]);
                return EX_USAGE;
        }
        if (dry_run && !once) {
                log_error("--dry-run shows what one pass would send: use it with --once");
                return EX_USAGE;
        }
        if (json && !dry_run) {
                log_error("--json prints a dry run: use it with --once --dry-run");
                return EX_USAGE;
        }
        if (verbose)
                log_set_max_level(LOG_DEBUG);

        if (load_config(config_path, &config) < 0)
                return EX_CONFIG;
        r = config_apply_timezone(config);
        if (r < 0) {
                log_error_errno(r, "Failed to use time zone %s: %m", config->timezone);
                return EX_CONFIG;
        }
        if (now_text && parse_instant(now_text, &now) < 0) {
                log_error("--now: \"%s\" is not a time (use 2025-04-28T08:00)", now_text);
                return EX_USAGE;
        }
        if (check) {
                printf("%s: configuration OK: %zu agencies, %zu groups\n", config->path, config->n_agencies,
                       config->n_groups);
                return 0;
        }

        /* A dry run works on the real database inside one transaction
         * that is rolled back at the end (STORE_DRY): it holds the write
         * lock from here to manager_free(), and needs no sender lock. */
        r = store_open_password(config->database, config->database_password, dry_run ? STORE_DRY : STORE_CREATE,
                                &store);
        if (r < 0 && dry_run)
                return dry_run_open_failed(config->database, r);
        if (r < 0) {
                const char *detail = store_last_error(NULL);
                log_error("Failed to open the database %s: %s%s%s%s", config->database, store_strerror(r),
                          *detail ? " (" : "", detail, *detail ? ")" : "");
                return store_exit_status(r);
        }

        /* A database on a server is shared by several daemons: each claim
         * has its lease instead of one sender holding a lock. */
        if (!dry_run && !store_database_is_server(config->database)) {
                lock = take_sender_lock(config->database);
                if (lock < 0)
                        return -lock;
        }

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                log_error("Failed to initialise libcurl");
                return EX_SOFTWARE;
        }
        r = manager_new(config_path, TAKE_PTR(config), TAKE_PTR(store), &m);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the event loop: %m");
                return EX_OSERR;
        }
        m->once = once;
        m->sender_lock = TAKE_FD(lock);
        if (now != NO_TIME)
                m->clock_offset = now - (int64_t) time(NULL);
        if (dry_run) {
                r = preview_new(&preview);
                if (r < 0) {
                        log_error_errno(r, "Failed to set up the dry run: %m");
                        return EX_OSERR;
                }
                m->preview = preview;
        }
        at = manager_now(m);

        r = manager_start(m);
        if (r < 0)
                return r == -EIO ? EX_UNAVAILABLE : store_exit_status(r);
        log_info("Started %s: %zu agencies, database %s%s", VERSION, m->config->n_agencies, m->config->database,
                 dry_run ? " (dry run: nothing is sent)" : once ? " (one pass)" : "");
        r = manager_run(m);
        if (r < 0)
                return EX_SOFTWARE;
        if (dry_run) {
                r = m->pass_error;
                /* Rolls the pass back and lets go of the write lock. */
                m = manager_free(m);
                curl_global_cleanup();
                return dry_run_print(preview, at, json, r);
        }
        if (once) {
                log_info("One pass done: %u sent, %u deferred, %u failed", m->sent, m->deferred, m->failed);
                r = m->failed ? EX_UNAVAILABLE : m->deferred ? EX_TEMPFAIL : 0;
        }
        m = manager_free(m);
        curl_global_cleanup();
        return r;
}
