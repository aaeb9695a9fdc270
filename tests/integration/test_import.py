# SPDX-License-Identifier: GPL-2.0-or-later
"""deadlinectl import and export: a directive's text, clean or scanned, and
CSV/JSON, applied whole or not at all."""

import json
import os

import pytest

from conftest import SOURCE

DATA = SOURCE / "tests" / "data" / "directives"
SONHA = SOURCE / "tests" / "data" / "config" / "sonha.conf"


@pytest.fixture
def sonha(env):
    """The sample province's configuration, as shipped in the samples."""
    text = SONHA.read_text(encoding="utf-8")
    text = text.replace('database = "sonha.db";', 'database = "deadlined.db";')
    env.config.write_text(text, encoding="utf-8")
    for name, secret in [("smtp.secret", "mật khẩu\n"), ("skhdt.hook.secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")]:
        f = env.path / name
        f.write_text(secret, encoding="utf-8")
        f.chmod(0o600)
    return env


def dry_run(env, path, *args, blocked=False):
    """The dry run's JSON. A directive with an item nobody leads prints it
    all the same, then refuses as the import would (exit 65)."""
    p = env.ctl("--json", "--now", "2025-04-09T09:00", "import", "--dry-run", *args, path)
    assert p.returncode == (65 if blocked else 0), p.stderr
    return json.loads(p.stdout)


def expected(name):
    return json.loads((DATA / f"{name}.expected.json").read_text(encoding="utf-8"))


def test_sample_directive_matches_every_expected_field(sonha):
    got = dry_run(sonha, DATA / "directive-2417.txt")
    want = expected("directive-2417")
    for k, v in want["document"].items():
        assert got["document"][k] == v, k
    assert [t["ref"] for t in got["tasks"]] == [t["ref"] for t in want["tasks"]]
    for g, w in zip(got["tasks"], want["tasks"]):
        assert g["lead"] == w["lead"], w["ref"]
        assert g["support"] == w["support"], w["ref"]
        assert g["due"] == w["due"], w["ref"]
        assert (g["recurrence"] is not None) == ("recurrence" in w), w["ref"]
    assert got["tasks"][4]["recurrence"] == "monthly:25"
    assert "no-deadline" in got["tasks"][7]["flags"]  # item 6: ongoing


@pytest.mark.parametrize("variant", ["ocr"] + [f"ocr-seed{i}" for i in range(1, 9)])
def test_ocr_copies_keep_deadlines_and_leads(sonha, variant):
    got = dry_run(sonha, DATA / f"directive-2417.{variant}.txt")
    want = expected("directive-2417")
    assert [t["ref"] for t in got["tasks"]] == [t["ref"] for t in want["tasks"]]
    missed = 0
    for g, w in zip(got["tasks"], want["tasks"]):
        assert g["due"] == w["due"], w["ref"]
        assert g["lead"] == w["lead"], w["ref"]
        assert set(g["support"]) <= set(w["support"]), w["ref"]
        missed += len(set(w["support"]) - set(g["support"]))
    assert missed <= 1


@pytest.mark.parametrize("name", ["thongbao-356", "chithi-12"])
def test_other_genres(sonha, name):
    want = expected(name)
    blocked = any(not t["lead"] for t in want["tasks"])
    got = dry_run(sonha, DATA / f"{name}.txt", blocked=blocked)
    assert got["document"]["number"] == want["document"]["number"]
    assert [(t["ref"], t["lead"], t["support"], t["due"]) for t in got["tasks"]] == \
        [(t["ref"], t["lead"], t["support"], t["due"]) for t in want["tasks"]]
    for g, w in zip(got["tasks"], want["tasks"]):
        # Every agency the text names and the configuration lacks is shown.
        for mention in w.get("unmatched", []):
            assert any(mention in u for u in g["unmatched"]), (w["ref"], g["unmatched"])


def test_import_then_reimport_updates_rather_than_duplicates(sonha):
    p = sonha.ctl("--now", "2025-04-09T09:00", "import", DATA / "directive-2417.txt")
    assert p.returncode == 0, p.stderr
    assert "10 tasks added" in p.stdout
    p = sonha.ctl("--now", "2025-04-09T09:00", "import", DATA / "directive-2417.ocr.txt")
    assert p.returncode == 0, p.stderr
    assert "0 tasks added, 10 updated" in p.stdout
    tasks = sonha.ctl_json("list", "--all")
    assert len(tasks) == 10
    assert {t["document"] for t in tasks} == {"2417/UBND-KTTH"}
    # The recurring item got its next deadline from "today".
    t = next(t for t in tasks if t["ref"] == "3.c")
    assert t["due"] == "2025-04-25" and t["recurrence"] == "monthly:25"


def test_document_number_override(sonha):
    p = sonha.ctl("import", "--document-number", "99/TB-UBND", DATA / "directive-2417.txt")
    assert p.returncode == 0, p.stderr
    assert {t["document"] for t in sonha.ctl_json("list", "--all")} == {"99/TB-UBND"}


def test_export_import_round_trip_csv_and_json(sonha, tmp_path):
    sonha.ctl("--now", "2025-04-09T09:00", "import", DATA / "directive-2417.txt", check=True)
    sonha.ctl("done", "1", check=True)
    for fmt in ("csv", "json"):
        out = sonha.ctl("export", "--format", fmt, check=True).stdout
        f = tmp_path / f"tasks.{fmt}"
        f.write_text(out, encoding="utf-8")
        before = sonha.ctl_json("list", "--all")
        sonha.remove_database()
        p = sonha.ctl("import", f)
        assert p.returncode == 0, p.stderr
        after = sonha.ctl_json("list", "--all")
        strip = lambda ts: sorted((t["document"], t["ref"], t["title"], t.get("detail"), t.get("due"), t["status"],
                                   tuple(t["lead"]), tuple(t["support"]), t.get("recurrence")) for t in ts)
        assert strip(after) == strip(before), fmt
        assert sonha.ctl("export", "--format", fmt, check=True).stdout == out


def test_csv_with_quotes_newlines_and_bom(sonha, tmp_path):
    f = tmp_path / "t.csv"
    f.write_bytes("\ufeffdocument,ref,title,detail,due,lead,support\r\n"
                  '12/KH,1,"Lập kế hoạch, ""khẩn""","dòng 1\ndòng 2",30/6/2025,stc,skhdt;kbnn\r\n'.encode())
    p = sonha.ctl("import", f)
    assert p.returncode == 0, p.stderr
    t = sonha.ctl_json("list", "--all")[0]
    assert t["title"] == 'Lập kế hoạch, "khẩn"' and t["detail"] == "dòng 1\ndòng 2"
    assert t["due"] == "2025-06-30" and t["support"] == ["skhdt", "kbnn"]


BAD_CSV = [
    ("document,ref,title,lead\n1/A,1,x,stc\n1/A,2,y,ghost\n", 'lead: no agency or group "ghost"'),
    ("document,ref,title,lead,due\n1/A,1,x,stc,2025-02-30\n", 'due: "2025-02-30" is not a date'),
    ("document,ref,title,lead,colour\n1/A,1,x,stc,red\n", 'unknown column "colour"'),
    ("document,ref,title,lead\n1/A,1,\"x,stc\n", "quoted field is not closed"),
    ("document,ref,title,lead\n1/A,1,x\n", "3 fields where the header has 4"),
    ("ref,title\n1,x\n", '"title" and "lead" are required'),
    ("document,ref,title,lead\n1/A,1,x,stc\n1/A,1,y,stc\n", '"1" appears twice'),
    ("document,ref,title,lead,status\n1/A,1,x,stc,finished\n", "is not open, done or cancelled"),
    # A NUL byte used to end the title there, and the row was imported.
    ("document,ref,title,lead\n1/A,1,x,stc\n1/A,2,\"y\ny\0 hidden\",stc\n", "bad.csv:4: a NUL byte"),
    ("document,ref,title\0,lead\n1/A,1,x,stc\n", "bad.csv:1: a NUL byte"),
]


@pytest.mark.parametrize("text,message", BAD_CSV, ids=range(len(BAD_CSV)))
def test_bad_csv_changes_nothing(sonha, tmp_path, text, message):
    sonha.ctl("add", "Existing", "--agency", "stc", check=True)
    before = sonha.dump()
    f = tmp_path / "bad.csv"
    f.write_text(text, encoding="utf-8")
    p = sonha.ctl("import", f)
    assert p.returncode == 65, p.stderr
    assert message in p.stderr and p.stderr.count("\n") == 1
    assert str(f) in p.stderr
    assert sonha.dump() == before


def test_bad_json_changes_nothing(sonha, tmp_path):
    sonha.ctl("add", "Existing", "--agency", "stc", check=True)
    before = sonha.dump()
    for text, message in [('{"tasks": [{"title": "x", "lead": ["stc"]}, {"title": 5}]}', "tasks[1].title"),
                          ('{"tasks": [', "bad.json:1"),
                          ('[1, 2]', 'object with a "tasks" array'),
                          ('{"tasks": [{"title": "x", "lead": "stc", "lead": "sxd"}]}', "duplicate")]:
        f = tmp_path / "bad.json"
        f.write_text(text)
        p = sonha.ctl("import", f)
        assert p.returncode == 65, (text, p.stderr)
        assert message in p.stderr, (text, p.stderr)
    assert sonha.dump() == before


def test_nonsense_binary_empty_and_enormous_input(sonha, tmp_path):
    before = sonha.dump()
    cases = {
        "empty.txt": b"",
        "nonsense.txt": "Lorem ipsum dolor sit amet.\nKhông có gì ở đây.\n".encode() * 100,
        "binary.txt": bytes(range(256)) * 64,
    }
    for name, data in cases.items():
        f = tmp_path / name
        f.write_bytes(data)
        p = sonha.ctl("import", f)
        assert p.returncode == 65, (name, p.stderr)
        assert p.stderr.startswith("deadlinectl: import: ") and p.stderr.count("\n") == 1
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    p = sonha.ctl("import", big)
    assert p.returncode == 65 and "more than an import takes" in p.stderr
    p = sonha.ctl("import", tmp_path / "missing.txt")
    assert p.returncode == 66 and "No such file" in p.stderr
    p = sonha.ctl("import", "--format", "xml", DATA / "directive-2417.txt")
    assert p.returncode == 64
    assert sonha.dump() == before


def test_unknown_lead_refuses_the_import(sonha, tmp_path):
    text = (DATA / "directive-2417.txt").read_text(encoding="utf-8")
    f = tmp_path / "d.txt"
    f.write_text(text.replace("Sở Xây dựng chủ trì", "Sở Du lịch chủ trì"), encoding="utf-8")
    before = sonha.dump()
    p = sonha.ctl("import", f)
    assert p.returncode == 65 and "item 2 (p1:21): no lead agency recognised" in p.stderr
    assert sonha.dump() == before
    # The dry run shows the unknown mention with its closest candidates.
    p = sonha.ctl("import", "--dry-run", f)
    assert "unknown agency" in p.stdout and "Sở Du lịch" in p.stdout


# General items: an item that names no lead is for the document's addressees.

HEADER = """ỦY BAN NHÂN DÂN                    CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
  TỈNH SƠN HÀ                          Độc lập - Tự do - Hạnh phúc

{number}                    Sơn Hà, ngày 08 tháng 4 năm 2025
V/v tăng cường kỷ luật, kỷ cương hành chính

{kinh_gui}
Để chấn chỉnh kỷ luật, kỷ cương hành chính, Chủ tịch UBND tỉnh yêu cầu:

"""

ITEMS = """1. Rà soát, chuẩn hóa quy trình nội bộ giải quyết thủ tục hành chính;
hoàn thành trước ngày 30/6/2025.

2. Sở Nội vụ chủ trì kiểm tra công vụ; báo cáo UBND tỉnh trước ngày
15/7/2025.
\f
3. Tăng cường ứng dụng công nghệ thông tin trong chỉ đạo, điều hành,
phối hợp với Sở Thông tin và Truyền thông; hoàn thành trong Quý III/2025.
"""

SIGNATURE = """
Nơi nhận:                                      KT. CHỦ TỊCH
- Như trên;                                    PHÓ CHỦ TỊCH
- Lưu: VT.

                                               Lê Văn Nam
"""

KINH_GUI = """Kính gửi:
   - Các sở, ban, ngành tỉnh;
   - UBND các huyện, thị xã,
     thành phố.
"""


def letter(tmp_path, *, kinh_gui=KINH_GUI, number="Số: 501/UBND-TH", items=ITEMS, name="letter.txt"):
    f = tmp_path / name
    f.write_text(HEADER.format(number=number, kinh_gui=kinh_gui) + items + SIGNATURE, encoding="utf-8")
    return f


def by_ref(tasks):
    return {t["ref"]: t for t in tasks}


def test_general_items_are_led_by_the_addressees(sonha, tmp_path):
    f = letter(tmp_path)
    got = dry_run(sonha, f)
    assert got["document"]["addressees"] == ["cacso", "cachuyen"]
    assert got["document"]["addressees_unmatched"] == []
    assert got["complete"] is True and got["problems"] == []
    t = by_ref(got["tasks"])
    assert t["1"]["lead"] == ["cacso", "cachuyen"] and t["1"]["flags"] == ["addressees"]
    assert t["2"]["lead"] == ["snv"] and "addressees" not in t["2"]["flags"]
    assert t["3"]["lead"] == ["cacso", "cachuyen"] and t["3"]["support"] == ["stttt"]
    p = sonha.ctl("--now", "2025-04-09T09:00", "import", f)
    assert p.returncode == 0, p.stderr
    assert "3 tasks added" in p.stdout
    stored = by_ref(sonha.ctl_json("list", "--all"))
    assert stored["1"]["lead"] == ["cacso", "cachuyen"] and stored["3"]["lead"] == ["cacso", "cachuyen"]
    assert stored["3"]["support"] == ["stttt"] and stored["2"]["lead"] == ["snv"]


def test_ocr_damaged_kinh_gui_and_unmatched_addressees(sonha, tmp_path):
    f = letter(tmp_path, kinh_gui="Kinh gui:\n- Cac so, ban, nganh tinh;\n- Ban Quản lý các khu công nghiệp.\n")
    got = dry_run(sonha, f)
    assert got["document"]["addressees"] == ["cacso"]
    assert got["document"]["addressees_unmatched"] == ["Ban Quản lý các khu công nghiệp"]
    assert by_ref(got["tasks"])["1"]["lead"] == ["cacso"]
    p = sonha.ctl("--now", "2025-04-09T09:00", "import", "--dry-run", f)
    assert p.returncode == 0, p.stderr
    assert "To: cacso\n" in p.stdout
    assert 'Addressee "Ban Quản lý các khu công nghiệp" matches no agency or group' in p.stdout


def test_no_lead_and_no_addressees_refuses_and_names_the_items(sonha, tmp_path):
    sonha.ctl("add", "Existing", "--agency", "stc", check=True)
    before = sonha.dump()
    f = letter(tmp_path, kinh_gui="")
    p = sonha.ctl("import", f)
    assert p.returncode == 65, p.stderr
    assert p.stderr.count("\n") == 1 and str(f) in p.stderr
    assert "items 1 (p1:10), 3 (p2:2): no lead agency recognised" in p.stderr
    assert "--default-lead" in p.stderr and "no addressees" in p.stderr
    assert sonha.dump() == before


def test_default_lead_leads_what_nobody_leads(sonha, tmp_path):
    f = letter(tmp_path, kinh_gui="")
    got = dry_run(sonha, f, "--default-lead", "vpubnd")
    t = by_ref(got["tasks"])
    assert t["1"]["lead"] == ["vpubnd"] and t["1"]["flags"] == ["default-lead"]
    assert t["2"]["lead"] == ["snv"] and t["2"]["flags"] == []
    assert got["complete"] is True
    p = sonha.ctl("--now", "2025-04-09T09:00", "import", "--default-lead", "vpubnd", f)
    assert p.returncode == 0, p.stderr
    stored = by_ref(sonha.ctl_json("list", "--all"))
    assert [stored[r]["lead"] for r in ("1", "2", "3")] == [["vpubnd"], ["snv"], ["vpubnd"]]
    # The addressees come first: the default only leads what they do not.
    p = sonha.ctl("--now", "2025-04-09T09:00", "import", "--default-lead", "vpubnd", "--document-number", "502/UBND-TH",
                  letter(tmp_path, name="addressed.txt"))
    assert p.returncode == 0, p.stderr
    stored = {t["ref"]: t for t in sonha.ctl_json("list", "--all") if t["document"] == "502/UBND-TH"}
    assert stored["1"]["lead"] == ["cacso", "cachuyen"]


def test_partial_applies_the_rest_and_lists_what_it_left_out(sonha, tmp_path):
    f = letter(tmp_path, kinh_gui="")
    p = sonha.ctl("--now", "2025-04-09T09:00", "import", "--partial", f)
    assert p.returncode == 0, p.stderr
    assert "1 tasks added" in p.stdout and "2 left out" in p.stdout
    assert "item 1 (p1:10): no lead agency, left out" in p.stderr
    assert "item 3 (p2:2): no lead agency, left out" in p.stderr
    assert [t["ref"] for t in sonha.ctl_json("list", "--all")] == ["2"]
    # Its dry run shows the same, and still exits 65: not everything applies.
    p = sonha.ctl("--now", "2025-04-09T09:00", "import", "--dry-run", "--partial", f)
    assert p.returncode == 65
    assert "item 1 (p1:10): no lead agency: left out (--partial)" in p.stdout
    # Nothing at all to apply is an error, and changes nothing.
    before = sonha.dump()
    only_general = ITEMS.replace("2. Sở Nội vụ chủ trì kiểm tra", "2. Tổ chức kiểm tra")
    p = sonha.ctl("import", "--partial", letter(tmp_path, kinh_gui="", items=only_general, name="none.txt"))
    assert p.returncode == 65 and p.stderr.count("\n") == 1
    assert "items 1 (p1:10), 2 (p1:13), 3 (p2:2)" in p.stderr and "nothing else to import" in p.stderr
    assert sonha.dump() == before


def test_bad_default_lead_is_a_usage_error(sonha, tmp_path):
    sonha.ctl("add", "Existing", "--agency", "stc", check=True)
    before = sonha.dump()
    for args in (["import"], ["import", "--dry-run"]):
        p = sonha.ctl(*args, "--default-lead", "ghost", letter(tmp_path, kinh_gui=""))
        assert p.returncode == 64, p.stderr
        assert p.stderr.count("\n") == 1
        assert '--default-lead: no agency or group "ghost"' in p.stderr and str(sonha.config) in p.stderr
    assert sonha.dump() == before


def test_dry_run_shows_every_item_with_its_place(sonha, tmp_path):
    f = letter(tmp_path, kinh_gui="")
    p = sonha.ctl("--now", "2025-04-09T09:00", "import", "--dry-run", f)
    assert p.returncode == 65
    lines = p.stdout.splitlines()
    head = next(l for l in lines if l.startswith("REF"))
    assert head.split()[:3] == ["REF", "AT", "DUE"]
    rows = {l.split()[0]: l.split() for l in lines[lines.index(head) + 1:] if l.split() and l.split()[0] in "123"}
    assert [rows[r][1] for r in ("1", "2", "3")] == ["p1:10", "p1:13", "p2:2"]
    assert "no-lead" in rows["1"][5] and "no-lead" in rows["3"][5] and rows["2"][3] == "snv"
    assert "item 1 (p1:10): no lead agency: give --default-lead ID" in p.stdout
    assert "item 3 (p2:2): no lead agency" in p.stdout
    # Then the refusal the import would give, on one line.
    assert p.stderr.count("\n") == 1 and "items 1 (p1:10), 3 (p2:2)" in p.stderr
    # Everything resolved: exit 0.
    p = sonha.ctl("--now", "2025-04-09T09:00", "import", "--dry-run", letter(tmp_path, name="ok.txt"))
    assert p.returncode == 0, p.stderr
    assert "To: cacso, cachuyen" in p.stdout and "addressees" in p.stdout
    assert sonha.dump() is None


def test_dry_run_json_has_page_line_and_flags(sonha, tmp_path):
    got = dry_run(sonha, letter(tmp_path, kinh_gui=""), blocked=True)
    assert [(t["ref"], t["page"], t["line"]) for t in got["tasks"]] == [("1", 1, 10), ("2", 1, 13), ("3", 2, 2)]
    t = by_ref(got["tasks"])
    assert t["1"]["flags"] == ["no-lead"] and t["1"]["lead"] == []
    assert t["2"]["flags"] == [] and t["3"]["flags"] == ["no-lead"]
    assert got["complete"] is False
    assert got["problems"] == ["item 1 (p1:10): no lead agency", "item 3 (p2:2): no lead agency"]
    # The sample's items start where its text has them.
    got = dry_run(sonha, DATA / "directive-2417.txt")
    assert (got["tasks"][0]["page"], got["tasks"][0]["line"]) == (1, 17)
    assert got["document"]["addressees"] == ["cacso", "cachuyen"]


def test_missing_number_is_reviewed_then_refused_unless_given(sonha, tmp_path):
    f = letter(tmp_path, number="")
    sonha.ctl("add", "Existing", "--agency", "stc", check=True)
    before = sonha.dump()
    p = sonha.ctl("--now", "2025-04-09T09:00", "import", "--dry-run", f)
    assert p.returncode == 65
    assert 'No document number found ("Số: …"): give --document-number NUMBER.' in p.stdout
    assert "Document without a number of 2025-04-08" in p.stdout
    assert "Signed by Lê Văn Nam" in p.stdout
    assert all(f"\n{r}  " in p.stdout for r in ("1", "2", "3"))
    assert p.stderr.count("\n") == 1 and "no document number found" in p.stderr
    got = dry_run(sonha, f, blocked=True)
    assert got["document"]["number"] is None
    assert got["document"]["issued_on"] == "2025-04-08" and got["document"]["signer"] == "Lê Văn Nam"
    assert got["complete"] is False and got["problems"][0].startswith("no document number found")
    p = sonha.ctl("import", f)
    assert p.returncode == 65
    assert p.stderr == f'deadlinectl: import: {f}: no document number found ("Số: …"); give --document-number\n'
    assert sonha.dump() == before
    got = dry_run(sonha, f, "--document-number", "501/UBND-TH")
    assert got["document"]["number"] == "501/UBND-TH" and got["complete"] is True
    p = sonha.ctl("--now", "2025-04-09T09:00", "import", "--document-number", "501/UBND-TH", f)
    assert p.returncode == 0, p.stderr
    assert {t["document"] for t in sonha.ctl_json("list", "--all") if t["title"] != "Existing"} == {"501/UBND-TH"}


def test_csv_rows_without_a_lead_take_the_default_or_are_named(sonha, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("document,ref,title,lead\n1/A,1,x,\n1/A,2,y,stc\n", encoding="utf-8")
    before = sonha.dump()
    p = sonha.ctl("import", f)
    assert p.returncode == 65 and p.stderr.count("\n") == 1
    assert "item 1 (line 2): no lead agency recognised" in p.stderr
    assert sonha.dump() == before
    got = dry_run(sonha, f, blocked=True)
    assert [(t["ref"], t["page"], t["line"]) for t in got["tasks"]] == [("1", None, 2), ("2", None, 3)]
    p = sonha.ctl("import", "--default-lead", "skhdt", f)
    assert p.returncode == 0, p.stderr
    assert {t["ref"]: t["lead"] for t in sonha.ctl_json("list", "--all")} == {"1": ["skhdt"], "2": ["stc"]}
