/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A compliance report as a table, CSV, JSON or an HTML page. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "json-util.h"
#include "macro.h"
#include "report-render.h"
#include "table.h"
#include "timeutil.h"

static const char *const format_names[_REPORT_FORMAT_MAX] = {
        [REPORT_TABLE] = "table",
        [REPORT_CSV] = "csv",
        [REPORT_JSON] = "json",
        [REPORT_HTML] = "html",
};

enum report_format report_format_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(format_names); i++)
                if (streq(s, format_names[i]))
                        return (enum report_format) i;
        return _REPORT_FORMAT_INVALID;
}

const char *report_format_to_string(enum report_format f) {
        return f >= 0 && f < _REPORT_FORMAT_MAX ? format_names[f] : NULL;
}

/* Figures as text: "75.0" (a rate in percent, or days), with the
 * language's decimal mark; "-" when there is none. */
static void format_decimal(bool have, double v, char mark, char buf[static 32]) {
        char *p;

        if (!have) {
                strcpy(buf, "-");
                return;
        }
        snprintf(buf, 32, "%.1f", v);
        p = strchr(buf, '.');
        if (p)
                *p = mark;
}

static void format_rate(const struct report_counts *c, char mark, char buf[static 32]) {
        double v = 0;
        bool have = report_counts_rate(c, &v);

        format_decimal(have, v * 100.0, mark, buf);
}

static void format_avg(const struct report_counts *c, char mark, char buf[static 32]) {
        double v = 0;
        bool have = report_counts_avg_days_late(c, &v);

        format_decimal(have, v, mark, buf);
}

/* A FILE that writes into memory, for the table and CSV writers, which
 * write to a FILE; appended to out when closed. */
static int memfile_finish(FILE *f, char **data, size_t *size, struct strbuf *out) {
        if (fclose(f) != 0)
                return -ENOMEM;
        strbuf_putn(out, *data, *size);
        free(*data);
        return out->error;
}

static const char *const count_heads[] = {
        "done on time", "done late", "open", "overdue", "total", "on-time %", "extensions", "avg days late",
};

static int table_add_counts(struct table *t, const struct report_counts *c) {
        char buf[8][32];

        snprintf(buf[0], 32, "%llu", (unsigned long long) c->on_time);
        snprintf(buf[1], 32, "%llu", (unsigned long long) c->late);
        snprintf(buf[2], 32, "%llu", (unsigned long long) c->open);
        snprintf(buf[3], 32, "%llu", (unsigned long long) c->overdue);
        snprintf(buf[4], 32, "%llu", (unsigned long long) report_counts_total(c));
        format_rate(c, '.', buf[5]);
        snprintf(buf[6], 32, "%llu", (unsigned long long) c->extensions);
        format_avg(c, '.', buf[7]);
        for (size_t i = 0; i < 8; i++)
                if (table_add(t, buf[i]) < 0)
                        return -ENOMEM;
        return 0;
}

int report_render_table(const struct report *r, struct strbuf *out) {
        _cleanup_(table_freep) struct table *ta = NULL, *td = NULL;
        char from[11], to[11], asof[20];
        char *data = NULL;
        size_t size = 0;
        FILE *f;

        format_iso_date(r->from_day, from);
        format_iso_date(r->to_day, to);
        format_local(r->as_of, asof);
        if (table_new(10, &ta) < 0 || table_new(9, &td) < 0)
                return -ENOMEM;
        table_add(ta, "rank");
        table_add(ta, "lead agency");
        table_add(td, "document");
        for (size_t i = 0; i < ELEMENTSOF(count_heads); i++) {
                table_add(ta, count_heads[i]);
                table_add(td, count_heads[i]);
        }
        for (size_t i = 0; i < 10; i++)
                table_set_align_right(ta, i, i != 1);
        for (size_t i = 1; i < 9; i++)
                table_set_align_right(td, i, true);
        table_set_max_width(ta, 1, 40);
        table_set_max_width(td, 0, 40);
        for (size_t i = 0; i < r->n_agencies; i++) {
                char rank[16];

                snprintf(rank, sizeof rank, "%u", r->agencies[i].rank);
                if (table_add(ta, rank) < 0 || table_add(ta, r->agencies[i].name) < 0 ||
                    table_add_counts(ta, &r->agencies[i].counts) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < r->n_documents; i++)
                if (table_add(td, r->documents[i].number ?: "(no document)") < 0 ||
                    table_add_counts(td, &r->documents[i].counts) < 0)
                        return -ENOMEM;
        if (table_add(td, "total") < 0 || table_add_counts(td, &r->total) < 0)
                return -ENOMEM;

        f = open_memstream(&data, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "Compliance report %s to %s, as of %s\n\n", from, to, asof);
        if (r->n_agencies == 0)
                fputs("No task with a deadline in this period.\n", f);
        else {
                table_print(ta, f);
                fputc('\n', f);
                table_print(td, f);
        }
        return memfile_finish(f, &data, &size, out);
}

static void csv_row(FILE *f, const char *kind, const char *id, const char *name, unsigned rank,
                    const struct report_counts *c) {
        char buf[32];

        csv_write_field(f, kind, false);
        csv_write_field(f, id ?: "", false);
        csv_write_field(f, name ?: "", false);
        if (rank > 0)
                fprintf(f, "%u", rank);
        fprintf(f, ",%llu,%llu,%llu,%llu,%llu,", (unsigned long long) c->on_time, (unsigned long long) c->late,
                (unsigned long long) c->open, (unsigned long long) c->overdue,
                (unsigned long long) report_counts_total(c));
        format_rate(c, '.', buf);
        fprintf(f, "%s,%llu,", streq(buf, "-") ? "" : buf, (unsigned long long) c->extensions);
        format_avg(c, '.', buf);
        fprintf(f, "%s\r\n", streq(buf, "-") ? "" : buf);
}

int report_render_csv(const struct report *r, struct strbuf *out) {
        char *data = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&data, &size);
        if (!f)
                return -ENOMEM;
        fputs("kind,id,name,rank,done_on_time,done_late,open,overdue,total,on_time_percent,extensions,"
              "avg_days_late\r\n", f);
        for (size_t i = 0; i < r->n_agencies; i++)
                csv_row(f, "agency", r->agencies[i].id, r->agencies[i].name, r->agencies[i].rank,
                        &r->agencies[i].counts);
        for (size_t i = 0; i < r->n_documents; i++)
                csv_row(f, "document", r->documents[i].number, NULL, 0, &r->documents[i].counts);
        csv_row(f, "total", NULL, NULL, 0, &r->total);
        return memfile_finish(f, &data, &size, out);
}

static json_t *counts_json(const struct report_counts *c) {
        double rate = 0, avg = 0;
        bool have_rate = report_counts_rate(c, &rate), have_avg = report_counts_avg_days_late(c, &avg);

        return json_pack("{sI sI sI sI sI so sI so}", "done_on_time", (json_int_t) c->on_time, "done_late",
                         (json_int_t) c->late, "open", (json_int_t) c->open, "overdue", (json_int_t) c->overdue,
                         "total", (json_int_t) report_counts_total(c), "on_time_rate",
                         have_rate ? json_real(rate) : json_null(), "extensions", (json_int_t) c->extensions,
                         "avg_days_late", have_avg ? json_real(avg) : json_null());
}

int report_render_json(const struct report *r, struct strbuf *out) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        json_t *agencies, *documents;
        char from[11], to[11];
        char *text;

        format_iso_date(r->from_day, from);
        format_iso_date(r->to_day, to);
        agencies = json_array();
        documents = json_array();
        j = json_pack("{ss ss so so so so}", "from", from, "to", to, "as_of", json_time(r->as_of), "agencies",
                      agencies, "documents", documents, "total", counts_json(&r->total));
        if (!j)
                return -ENOMEM;
        for (size_t i = 0; i < r->n_agencies; i++) {
                const struct report_agency *a = &r->agencies[i];
                json_t *o = json_pack("{sI so so}", "rank", (json_int_t) a->rank, "agency", json_text(a->id),
                                      "name", json_text(a->name));
                _cleanup_(json_decrefp) json_t *k = counts_json(&a->counts);

                if (!o || !k || json_object_update(o, k) < 0 || json_array_append_new(agencies, o) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < r->n_documents; i++) {
                json_t *o = json_pack("{so}", "document", json_text(r->documents[i].number));
                _cleanup_(json_decrefp) json_t *k = counts_json(&r->documents[i].counts);

                if (!o || !k || json_object_update(o, k) < 0 || json_array_append_new(documents, o) < 0)
                        return -ENOMEM;
        }
        text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                return -ENOMEM;
        strbuf_puts(out, text);
        strbuf_putc(out, '\n');
        free(text);
        return out->error;
}

/* Text for HTML, in element content and in attribute values alike. */
static void html_put(struct strbuf *b, const char *s) {
        for (; s && *s; s++)
                switch (*s) {
                case '&': strbuf_puts(b, "&amp;"); break;
                case '<': strbuf_puts(b, "&lt;"); break;
                case '>': strbuf_puts(b, "&gt;"); break;
                case '"': strbuf_puts(b, "&quot;"); break;
                case '\'': strbuf_puts(b, "&#39;"); break;
                default: strbuf_putc(b, *s);
                }
}

enum label {
        L_TITLE,
        L_PERIOD,
        L_TO,
        L_AS_OF,
        L_RANK,
        L_AGENCY,
        L_ON_TIME,
        L_LATE,
        L_OPEN,
        L_OVERDUE,
        L_TOTAL,
        L_RATE,
        L_EXTENSIONS,
        L_AVG,
        L_BY_AGENCY,
        L_BY_DOCUMENT,
        L_DOCUMENT,
        L_NO_DOCUMENT,
        L_ALL,
        L_NONE,
        L_RANKING,
        L_CHART,
        _L_MAX,
};

static const char *const labels[_LANGUAGE_MAX][_L_MAX] = {
        [LANGUAGE_VI] = {
                [L_TITLE] = "Báo cáo tình hình thực hiện nhiệm vụ",
                [L_PERIOD] = "Kỳ báo cáo: từ ngày",
                [L_TO] = "đến ngày",
                [L_AS_OF] = "Số liệu tính đến",
                [L_RANK] = "Xếp hạng",
                [L_AGENCY] = "Cơ quan chủ trì",
                [L_ON_TIME] = "Hoàn thành đúng hạn",
                [L_LATE] = "Hoàn thành quá hạn",
                [L_OPEN] = "Đang thực hiện trong hạn",
                [L_OVERDUE] = "Quá hạn chưa hoàn thành",
                [L_TOTAL] = "Tổng số",
                [L_RATE] = "Tỷ lệ đúng hạn (%)",
                [L_EXTENSIONS] = "Số lần gia hạn",
                [L_AVG] = "Số ngày trễ bình quân",
                [L_BY_AGENCY] = "Theo cơ quan chủ trì",
                [L_BY_DOCUMENT] = "Theo văn bản",
                [L_DOCUMENT] = "Văn bản",
                [L_NO_DOCUMENT] = "(không theo văn bản)",
                [L_ALL] = "Tổng cộng",
                [L_NONE] = "Không có nhiệm vụ nào có thời hạn trong kỳ báo cáo.",
                [L_RANKING] = "Xếp hạng theo tỷ lệ hoàn thành đúng hạn (trên số nhiệm vụ đã hoàn thành hoặc "
                              "đã quá hạn), sau đó theo tổng số nhiệm vụ. Số ngày trễ tính theo ngày lịch "
                              "sau ngày đến hạn.",
                [L_CHART] = "Biểu đồ tình hình thực hiện theo cơ quan chủ trì",
        },
        [LANGUAGE_EN] = {
                [L_TITLE] = "Compliance report",
                [L_PERIOD] = "Period: from",
                [L_TO] = "to",
                [L_AS_OF] = "As of",
                [L_RANK] = "Rank",
                [L_AGENCY] = "Lead agency",
                [L_ON_TIME] = "Done on time",
                [L_LATE] = "Done late",
                [L_OPEN] = "Open, within deadline",
                [L_OVERDUE] = "Open, overdue",
                [L_TOTAL] = "Total",
                [L_RATE] = "On-time rate (%)",
                [L_EXTENSIONS] = "Extensions",
                [L_AVG] = "Average days late",
                [L_BY_AGENCY] = "By lead agency",
                [L_BY_DOCUMENT] = "By document",
                [L_DOCUMENT] = "Document",
                [L_NO_DOCUMENT] = "(no document)",
                [L_ALL] = "All tasks",
                [L_NONE] = "No task has a deadline in this period.",
                [L_RANKING] = "Ranked by on-time rate (of the tasks done or overdue), then by number of tasks. "
                              "Days late are calendar days after the deadline's day.",
                [L_CHART] = "Tasks by lead agency",
        },
};

static const char *const colors[4] = { "#2e7d32", "#f9a825", "#1565c0", "#c62828" };

static void html_date(struct strbuf *b, int32_t day, enum language lang) {
        int y, m, d;

        civil_from_days(day, &y, &m, &d);
        if (lang == LANGUAGE_VI)
                strbuf_printf(b, "%02d/%02d/%04d", d, m, y);
        else
                strbuf_printf(b, "%04d-%02d-%02d", y, m, d);
}

static void html_counts(struct strbuf *b, const struct report_counts *c, char mark) {
        char rate[32], avg[32];

        format_rate(c, mark, rate);
        format_avg(c, mark, avg);
        strbuf_printf(b, "<td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
                      "<td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%s</td>"
                      "<td class=\"n\">%llu</td><td class=\"n\">%s</td>",
                      (unsigned long long) c->on_time, (unsigned long long) c->late, (unsigned long long) c->open,
                      (unsigned long long) c->overdue, (unsigned long long) report_counts_total(c), rate,
                      (unsigned long long) c->extensions, avg);
}

static void html_count_heads(struct strbuf *b, const char *const *l) {
        static const enum label heads[] = { L_ON_TIME, L_LATE, L_OPEN, L_OVERDUE, L_TOTAL, L_RATE, L_EXTENSIONS,
                                            L_AVG };

        for (size_t i = 0; i < ELEMENTSOF(heads); i++) {
                strbuf_puts(b, "<th>");
                if (i < 4)
                        strbuf_printf(b, "<span class=\"key\" style=\"background:%s\"></span>", colors[i]);
                html_put(b, l[heads[i]]);
                strbuf_puts(b, "</th>");
        }
}

/* A horizontal bar per agency, its four counts stacked in the legend's
 * colours, scaled to the largest total; a count is written in its part
 * when the part is wide enough to hold it. */
static void html_chart(struct strbuf *b, const struct report *r, const char *const *l) {
        const unsigned label_w = 230, bar_w = 420, row_h = 22, top = 8;
        unsigned height = top + (unsigned) r->n_agencies * row_h + 8;
        uint64_t max = 1;

        for (size_t i = 0; i < r->n_agencies; i++)
                max = MAX(max, report_counts_total(&r->agencies[i].counts));
        strbuf_printf(b, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %u %u\" "
                      "width=\"%u\" height=\"%u\" role=\"img\" aria-label=\"",
                      label_w + bar_w + 40, height, label_w + bar_w + 40, height);
        html_put(b, l[L_CHART]);
        strbuf_puts(b, "\">\n");
        for (size_t i = 0; i < r->n_agencies; i++) {
                const struct report_counts *c = &r->agencies[i].counts;
                const uint64_t v[4] = { c->on_time, c->late, c->open, c->overdue };
                unsigned y = top + (unsigned) i * row_h;
                double x = label_w;

                strbuf_printf(b, "<text x=\"%u\" y=\"%u\" text-anchor=\"end\" class=\"label\">", label_w - 8,
                              y + 15);
                html_put(b, r->agencies[i].name);
                strbuf_puts(b, "</text>\n");
                for (size_t k = 0; k < 4; k++) {
                        double w = (double) bar_w * (double) v[k] / (double) max;

                        if (v[k] == 0)
                                continue;
                        strbuf_printf(b, "<rect x=\"%.1f\" y=\"%u\" width=\"%.1f\" height=\"%u\" fill=\"%s\"/>",
                                      x, y + 2, w, row_h - 4, colors[k]);
                        if (w >= 18)
                                strbuf_printf(b, "<text x=\"%.1f\" y=\"%u\" text-anchor=\"middle\" "
                                              "class=\"in\">%llu</text>", x + w / 2, y + 15,
                                              (unsigned long long) v[k]);
                        strbuf_putc(b, '\n');
                        x += w;
                }
        }
        strbuf_puts(b, "</svg>\n");
}

int report_render_html(const struct report *r, enum language lang, struct strbuf *b) {
        const char *const *l = labels[lang >= 0 && lang < _LANGUAGE_MAX ? lang : LANGUAGE_VI];
        char mark = lang == LANGUAGE_VI ? ',' : '.';
        int32_t as_of_day;
        int64_t sec;

        strbuf_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
                      lang == LANGUAGE_EN ? "en" : "vi");
        html_put(b, l[L_TITLE]);
        strbuf_puts(b, "</title>\n<style>\n"
                    "@page { size: A4; margin: 15mm 12mm; }\n"
                    "body { font-family: \"DejaVu Sans\", \"Liberation Sans\", Arial, sans-serif; font-size: 9.5pt; "
                    "color: #111; margin: 0 auto; max-width: 190mm; }\n"
                    "h1 { font-size: 15pt; margin: 0 0 4pt; }\n"
                    "h2 { font-size: 11.5pt; margin: 14pt 0 5pt; break-after: avoid; page-break-after: avoid; }\n"
                    "p.meta { margin: 0 0 2pt; }\n"
                    "table { border-collapse: collapse; width: 100%; }\n"
                    "thead { display: table-header-group; }\n"
                    "tr { break-inside: avoid; page-break-inside: avoid; }\n"
                    "th, td { border: 0.5pt solid #888; padding: 2.5pt 4pt; vertical-align: top; }\n"
                    "th { background: #eceff1; font-weight: bold; text-align: center; font-size: 8.5pt; }\n"
                    "td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }\n"
                    "tr.total td { font-weight: bold; background: #f5f5f5; }\n"
                    ".key { display: inline-block; width: 8pt; height: 8pt; margin-right: 3pt; "
                    "vertical-align: baseline; -webkit-print-color-adjust: exact; print-color-adjust: exact; }\n"
                    "svg.chart { display: block; max-width: 100%; height: auto; margin: 4pt 0 8pt; "
                    "-webkit-print-color-adjust: exact; print-color-adjust: exact; }\n"
                    "svg text { font-family: inherit; font-size: 10px; }\n"
                    "svg text.in { fill: #fff; font-weight: bold; }\n"
                    "p.note { font-size: 8.5pt; color: #444; }\n"
                    "p.legend { margin: 0; font-size: 8.5pt; }\n"
                    "p.legend span.item { margin-right: 12pt; white-space: nowrap; }\n"
                    "td.name { min-width: 42mm; }\n"
                    "@media screen { body { margin: 16px auto; } }\n"
                    "</style>\n</head>\n<body>\n<h1>");
        html_put(b, l[L_TITLE]);
        strbuf_puts(b, "</h1>\n<p class=\"meta\">");
        html_put(b, l[L_PERIOD]);
        strbuf_putc(b, ' ');
        html_date(b, r->from_day, lang);
        strbuf_putc(b, ' ');
        html_put(b, l[L_TO]);
        strbuf_putc(b, ' ');
        html_date(b, r->to_day, lang);
        strbuf_puts(b, "</p>\n<p class=\"meta\">");
        html_put(b, l[L_AS_OF]);
        instant_to_local(r->as_of, &as_of_day, &sec);
        strbuf_printf(b, " %02d:%02d ", (int) (sec / 3600), (int) (sec / 60 % 60));
        html_date(b, as_of_day, lang);
        strbuf_puts(b, "</p>\n");

        if (r->n_agencies == 0) {
                strbuf_puts(b, "<p>");
                html_put(b, l[L_NONE]);
                strbuf_puts(b, "</p>\n</body>\n</html>\n");
                return b->error;
        }

        strbuf_puts(b, "<h2>");
        html_put(b, l[L_CHART]);
        strbuf_puts(b, "</h2>\n<p class=\"legend\">");
        for (size_t k = 0; k < 4; k++) {
                strbuf_printf(b, "<span class=\"item\"><span class=\"key\" style=\"background:%s\"></span>",
                              colors[k]);
                html_put(b, l[L_ON_TIME + k]);
                strbuf_puts(b, "</span>");
        }
        strbuf_puts(b, "</p>\n");
        html_chart(b, r, l);

        strbuf_puts(b, "<h2>");
        html_put(b, l[L_BY_AGENCY]);
        strbuf_puts(b, "</h2>\n<table class=\"agencies\">\n<thead><tr><th>");
        html_put(b, l[L_RANK]);
        strbuf_puts(b, "</th><th>");
        html_put(b, l[L_AGENCY]);
        strbuf_puts(b, "</th>");
        html_count_heads(b, l);
        strbuf_puts(b, "</tr></thead>\n<tbody>\n");
        for (size_t i = 0; i < r->n_agencies; i++) {
                strbuf_printf(b, "<tr><td class=\"n\">%u</td><td class=\"name\">", r->agencies[i].rank);
                html_put(b, r->agencies[i].name);
                strbuf_puts(b, "</td>");
                html_counts(b, &r->agencies[i].counts, mark);
                strbuf_puts(b, "</tr>\n");
        }
        strbuf_puts(b, "</tbody>\n</table>\n<p class=\"note\">");
        html_put(b, l[L_RANKING]);
        strbuf_puts(b, "</p>\n");

        strbuf_puts(b, "<h2>");
        html_put(b, l[L_BY_DOCUMENT]);
        strbuf_puts(b, "</h2>\n<table class=\"documents\">\n<thead><tr><th>");
        html_put(b, l[L_DOCUMENT]);
        strbuf_puts(b, "</th>");
        html_count_heads(b, l);
        strbuf_puts(b, "</tr></thead>\n<tbody>\n");
        for (size_t i = 0; i < r->n_documents; i++) {
                strbuf_puts(b, "<tr><td class=\"name\">");
                html_put(b, r->documents[i].number ?: l[L_NO_DOCUMENT]);
                strbuf_puts(b, "</td>");
                html_counts(b, &r->documents[i].counts, mark);
                strbuf_puts(b, "</tr>\n");
        }
        strbuf_puts(b, "<tr class=\"total\"><td>");
        html_put(b, l[L_ALL]);
        strbuf_puts(b, "</td>");
        html_counts(b, &r->total, mark);
        strbuf_puts(b, "</tr>\n</tbody>\n</table>\n</body>\n</html>\n");
        return b->error;
}

int report_render(const struct report *r, enum report_format f, enum language lang, struct strbuf *out) {
        switch (f) {
        case REPORT_TABLE:
                return report_render_table(r, out);
        case REPORT_CSV:
                return report_render_csv(r, out);
        case REPORT_JSON:
                return report_render_json(r, out);
        case REPORT_HTML:
                return report_render_html(r, lang, out);
        default:
                return -EINVAL;
        }
}
