# SPDX-License-Identifier: GPL-2.0-or-later
"""deadlinectl report: the compliance report of a period, per lead agency
and per document, counted from a database made with add, extend, done,
reopen and cancel, as a table, CSV, JSON and an HTML file."""

import csv
import io
import json

import pytest

from conftest import AGENCIES

DOC = "2417/UBND-KTTH"
NOW = "2025-06-01T09:00"


def add(env, title, *args, now="2025-04-01T09:00"):
    p = env.ctl("--now", now, "--json", "add", title, *args, check=True)
    return json.loads(p.stdout)["id"]


def build_fixture(env):
    """Tasks of the second quarter of 2025, seen on 1 June 2025:
    stc: done on time; done 3 days late after an extension; done then
         reopened, 22 days overdue; open with two leads.
    skhdt: 12 days overdue; open within deadline; the two-lead task.
    sxd: a monthly task done on time in April, 2 days late in May, open
         for June; a cancelled task, not counted.
    Outside the quarter: a task due in August."""
    t1 = add(env, "Báo cáo quý I", "--agency", "stc", "--due", "2025-04-30", "--document", DOC, "--ref", "1")
    t2 = add(env, "Quyết toán", "--agency", "stc", "--support", "kbnn", "--due", "2025-05-15",
             "--document", DOC, "--ref", "2")
    t3 = add(env, "Kế hoạch đầu tư công", "--agency", "skhdt", "--due", "2025-05-20")
    add(env, "Rà soát dự án", "--agency", "skhdt", "--due", "2025-06-10")
    t5 = add(env, "Báo cáo tháng", "--agency", "sxd", "--due", "2025-04-25", "--recurrence", "monthly:25")
    t6 = add(env, "Đã huỷ", "--agency", "sxd", "--due", "2025-05-05")
    add(env, "Ngoài kỳ", "--agency", "stc", "--due", "2025-08-01")
    t8 = add(env, "Mở lại", "--agency", "stc", "--due", "2025-05-10")
    add(env, "Hai cơ quan", "--agency", "stc", "--agency", "skhdt", "--due", "2025-06-20")
    ok = dict(check=True)
    env.ctl("--now", "2025-04-29T10:00", "done", t1, **ok)
    env.ctl("--now", "2025-04-20T10:00", "extend", t2, "--to", "2025-05-25", "--by", "Công văn số 9/UBND", **ok)
    env.ctl("--now", "2025-05-28T10:00", "done", t2, "--note", "Báo cáo số 45/BC-STC", **ok)
    env.ctl("--now", "2025-04-24T10:00", "done", t5, **ok)
    env.ctl("--now", "2025-05-28T10:00", "done", t5, "--on", "2025-05-27", **ok)
    env.ctl("--now", "2025-04-02T10:00", "cancel", t6, **ok)
    env.ctl("--now", "2025-05-09T10:00", "done", t8, **ok)
    env.ctl("--now", "2025-05-12T10:00", "reopen", t8, **ok)
    return t3


@pytest.fixture
def quarter(env):
    build_fixture(env)
    return env


def counts(o):
    return (o["done_on_time"], o["done_late"], o["open"], o["overdue"], o["total"], o["extensions"])


def test_json_counts_ranks_and_totals(quarter):
    r = quarter.ctl_json("--now", NOW, "report", "--period", "2025-Q2")
    assert (r["from"], r["to"]) == ("2025-04-01", "2025-06-30")
    assert r["as_of"].startswith("2025-06-01T09:00")
    assert [(a["rank"], a["agency"], a["name"], counts(a)) for a in r["agencies"]] == [
        (1, "sxd", "Sở Xây dựng", (1, 1, 1, 0, 3, 0)),
        (2, "stc", "Sở Tài chính", (1, 1, 1, 1, 4, 1)),
        (3, "skhdt", "Sở Kế hoạch và Đầu tư", (0, 0, 2, 1, 3, 0))]
    sxd, stc, skhdt = r["agencies"]
    assert sxd["on_time_rate"] == 0.5 and sxd["avg_days_late"] == 2.0
    assert stc["avg_days_late"] == (3 + 22) / 2 and abs(stc["on_time_rate"] - 1 / 3) < 1e-9
    assert skhdt["on_time_rate"] == 0.0 and skhdt["avg_days_late"] == 12.0
    assert [(d["document"], counts(d)) for d in r["documents"]] == [
        (DOC, (1, 1, 0, 0, 2, 1)), (None, (1, 1, 3, 2, 7, 0))]
    # The two-lead task counts for both agencies and once in the totals.
    assert counts(r["total"]) == (2, 2, 3, 2, 9, 1)
    assert r["total"]["avg_days_late"] == (3 + 2 + 12 + 22) / 4


def test_days_late_are_the_ones_list_shows(quarter, env):
    r = env.ctl_json("--now", NOW, "report", "--period", "2025-Q2", "--agency", "skhdt")
    (skhdt,) = r["agencies"]
    (t,) = [t for t in env.ctl_json("--now", NOW, "list", "--agency", "skhdt") if t["due"] == "2025-05-20"]
    assert skhdt["overdue"] == 1 and skhdt["avg_days_late"] == t["days_overdue"] == 12
    # A past month stands as of its last second: 11 days then.
    r = env.ctl_json("--now", NOW, "report", "--period", "2025-05", "--agency", "skhdt")
    assert r["agencies"][0]["avg_days_late"] == 11


def test_a_past_period_stands_as_of_its_end(quarter):
    # As of 26 May: the May occurrence of the monthly task (done on the
    # 27th) and the extended task (done on the 28th) were still open.
    r = quarter.ctl_json("--now", NOW, "report", "--from", "2025-05-01", "--to", "26/5/2025")
    assert r["as_of"].startswith("2025-05-26T23:59:59")
    got = {a["agency"]: counts(a) for a in r["agencies"]}
    assert got == {"stc": (0, 0, 0, 2, 2, 1), "skhdt": (0, 0, 0, 1, 1, 0), "sxd": (0, 0, 0, 1, 1, 0)}
    assert {a["agency"]: a["avg_days_late"] for a in r["agencies"]} == {"stc": (1 + 16) / 2, "skhdt": 6, "sxd": 1}


def test_filters_by_agency_and_document(quarter):
    r = quarter.ctl_json("--now", NOW, "report", "--period", "2025", "--document", DOC)
    assert [(a["agency"], counts(a)) for a in r["agencies"]] == [("stc", (1, 1, 0, 0, 2, 1))]
    r = quarter.ctl_json("--now", NOW, "report", "--period", "2025", "--agency", "stc")
    # The year also has the task due in August.
    assert [(a["agency"], counts(a)) for a in r["agencies"]] == [("stc", (1, 1, 2, 1, 5, 1))]
    r = quarter.ctl_json("--now", NOW, "report", "--period", "2025", "--agency", "kbnn")
    assert r["agencies"] == [] and r["total"]["total"] == 0


def test_csv_rows(quarter):
    p = quarter.ctl("--now", NOW, "report", "--period", "2025-Q2", "--format", "csv", check=True)
    rows = list(csv.reader(io.StringIO(p.stdout)))
    assert rows[0] == ["kind", "id", "name", "rank", "done_on_time", "done_late", "open", "overdue", "total",
                       "on_time_percent", "extensions", "avg_days_late"]
    assert rows[1:] == [
        ["agency", "sxd", "Sở Xây dựng", "1", "1", "1", "1", "0", "3", "50.0", "0", "2.0"],
        ["agency", "stc", "Sở Tài chính", "2", "1", "1", "1", "1", "4", "33.3", "1", "12.5"],
        ["agency", "skhdt", "Sở Kế hoạch và Đầu tư", "3", "0", "0", "2", "1", "3", "0.0", "0", "12.0"],
        ["document", DOC, "", "", "1", "1", "0", "0", "2", "50.0", "1", "3.0"],
        ["document", "", "", "", "1", "1", "3", "2", "7", "25.0", "0", "12.0"],
        ["total", "", "", "", "2", "2", "3", "2", "9", "33.3", "1", "9.8"]]


def test_table(quarter):
    out = quarter.ctl("--now", NOW, "report", "--period", "2025-Q2", check=True).stdout.splitlines()
    assert out[0] == "Compliance report 2025-04-01 to 2025-06-30, as of 2025-06-01 09:00:00"
    assert out[2].split()[:4] == ["rank", "lead", "agency", "done"]
    assert out[3].split() == ["1", "Sở", "Xây", "dựng", "1", "1", "1", "0", "3", "50.0", "0", "2.0"]
    assert out[5].split() == ["3", "Sở", "Kế", "hoạch", "và", "Đầu", "tư", "0", "0", "2", "1", "3", "0.0", "0",
                              "12.0"]
    assert out[-1].split() == ["total", "2", "2", "3", "2", "9", "33.3", "1", "9.8"]


def test_empty_period(quarter):
    out = quarter.ctl("--now", NOW, "report", "--period", "2024", check=True).stdout
    assert "No task with a deadline in this period." in out


def test_html_file_in_the_configured_language(quarter, env):
    out = env.path / "report.html"
    p = env.ctl("--now", NOW, "report", "--period", "2025-Q2", "--format", "html", "--output", out, check=True)
    assert p.stdout == ""
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="vi">' in html
    assert "Hoàn thành đúng hạn" in html and "Quá hạn chưa hoàn thành" in html and "<svg" in html
    assert "Kỳ báo cáo: từ ngày 01/04/2025 đến ngày 30/06/2025" in html
    assert "<td class=\"n\">33,3</td>" in html
    assert [f.name for f in env.path.iterdir() if "tmp" in f.name] == []
    env.config.write_text(env.config.read_text(encoding="utf-8").replace('language = "vi";', 'language = "en";'),
                          encoding="utf-8")
    html = env.ctl("--now", NOW, "report", "--period", "2025-Q2", "--format", "html", check=True).stdout
    assert '<html lang="en">' in html and "Open, overdue" in html and "Hoàn thành" not in html
    assert "<td class=\"n\">33.3</td>" in html


def test_agency_names_are_escaped_in_html(env):
    env.write_config(agencies=AGENCIES.replace("agencies = (\n", 'agencies = (\n  { id = "x"; name = '
                                               '"<script>alert(1)</script> & Co"; email = ["x@sonha.gov.vn"]; },\n'))
    add(env, "A", "--agency", "x", "--due", "2025-05-10", "--document", "1/<b>UBND</b>")
    html = env.ctl("--now", NOW, "report", "--period", "2025-05", "--format", "html", check=True).stdout
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html and "1/&lt;b&gt;UBND&lt;/b&gt;" in html


@pytest.mark.parametrize("args, code, message", [
    (["--period", "2025-Q5"], 65, "--period: \"2025-Q5\" is not a period (use 2025, 2025-05 or 2025-Q2)"),
    (["--period", "Q2"], 65, "--period: \"Q2\" is not a period"),
    (["--from", "2025-06-01", "--to", "2025-05-01"], 65, "--from 2025-06-01 is after --to 2025-05-01"),
    (["--from", "yesterday", "--to", "2025-05-01"], 65, "--from: \"yesterday\" is not a date"),
    (["--from", "2025-05-01"], 64, "--from without --to"),
    (["--period", "2025", "--from", "2025-05-01", "--to", "2025-05-02"], 64, "--period and --from/--to"),
    (["--agency", "stcc"], 65, "--agency: no agency or group \"stcc\""),
    (["--document", "999/UBND"], 65, "--document: no document \"999/UBND\""),
    (["--format", "pdf"], 64, "--format: \"pdf\" is not table, csv, json or html"),
    (["2025"], 64, "unexpected argument \"2025\""),
])
def test_bad_input_is_one_line_and_changes_nothing(quarter, env, args, code, message):
    before = env.dump()
    out = env.path / "r.html"
    p = env.ctl("--now", NOW, "report", *args, "--output", out)
    assert p.returncode == code, p.stderr
    assert p.stderr.startswith("deadlinectl: report: ") and message in p.stderr, p.stderr
    assert len(p.stderr.splitlines()) == 1 and p.stdout == ""
    assert env.dump() == before and not out.exists()


def test_output_to_a_folder_that_does_not_exist_fails_whole(quarter, env):
    p = env.ctl("--now", NOW, "report", "--output", env.path / "no" / "r.csv", "--format", "csv")
    assert p.returncode == 73 and len(p.stderr.splitlines()) == 1 and "--output: cannot create" in p.stderr
