#!/usr/bin/python3
"""Typeset directive fixtures on A4, scan them badly, and OCR them.

For each clean directive tests/data/directives/NAME.txt this script

  1. typesets the text on A4 pages at 300 dpi with DejaVu Serif: the
     two-column header side by side, the title block centred, the body
     reflowed and justified (so page breaks fall wherever they fall, often
     mid-sentence), "Kính gửi:" with its list, the "Nơi nhận:" and
     signature columns, and the page number at the top centre of pages 2+;
     the body is 13 pt, or 17 pt for q150, with the other sizes in
     proportion;
  2. degrades every page to four qualities, deterministically (the random
     generator is seeded from the file name, the quality and the page):
       q300      300 dpi grey, light noise, a faint blur;
       q200      200 dpi grey, more noise, blur, uneven paper;
       q150      the issue's cheap office scan: 17 pt type, 150 dpi,
                 rotated by 0.7 degrees (the sign alternates from page to
                 page), Gaussian noise, 0.7 px blur, then binarised at mid
                 grey (1 bit per pixel);
       q150faint harsher than the issue, kept to show where reading stops:
                 13 pt type, 150 dpi, rotated by about 0.7 degrees, faint
                 ink, 0.7 px blur, strong noise and specks, then binarised
                 with a light threshold: thin strokes and diacritics break
                 up (the first fixtures' q150, page for page);
  3. reads each page with `tesseract PAGE - -l vie` and `-l eng` and writes
     the pages' text, in order and separated by a form feed, to
     NAME.scan-Q-LANG.txt next to the source: byte for byte what tesseract
     5.3 prints for the same pages given as one multi-page input.

The page images (and, when img2pdf is installed, one PDF per quality) stay
in build/scans/NAME/. The text fixtures are committed: tesseract's output
depends on its version and its trained data, so they are made by hand with
`make scans`, never by `make check`.

Needs Debian's python3-pil, fonts-dejavu-core, tesseract-ocr,
tesseract-ocr-vie, tesseract-ocr-eng and optionally img2pdf (`make
scans-deps`). Run it with /usr/bin/python3.
"""

import argparse
import concurrent.futures
import glob
import os
import random
import re
import statistics
import shutil
import subprocess
import sys
import unicodedata
import zlib

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONTS = {"regular": "DejaVuSerif.ttf", "bold": "DejaVuSerif-Bold.ttf"}

MASTER_DPI = 300
A4_MM = (210.0, 297.0)
# quality -> (scan resolution in dpi, body type size in pt, the quality
# whose name seeds the page's random generator)
QUALITIES = {
    "300": (300, 13.0, "300"),
    "200": (200, 13.0, "200"),
    "150": (150, 17.0, "150"),
    # the q150 of the first fixtures, kept as it was: same type, same seeds
    "150faint": (150, 13.0, "150"),
}
LANGS = ("vie", "eng")

BODY_PT = 13.0          # the body text, as the office types it
HEADER_PT = 12.5        # the two header columns
TITLE_PT = 14.0         # "CHỈ THỊ", "THÔNG BÁO"
LIST_PT = 11.0          # the "Nơi nhận:" list
PITCH = 1.32            # line pitch as a multiple of the font size
PARA_GAP_PT = 6.0       # space after a paragraph
INDENT_MM = 10.0        # first-line indent of body paragraphs
MARGIN_MM = {"left": 30.0, "right": 20.0, "top": 20.0, "bottom": 20.0}


class Type:
    """The type sizes of one typesetting: the body at BODY pt and the header,
    title, list and paragraph gap scaled in proportion (BODY_PT gives the
    sizes above exactly)."""

    def __init__(self, body=BODY_PT):
        self.scale = body / BODY_PT
        self.body = body
        self.header = HEADER_PT * self.scale
        self.title = TITLE_PT * self.scale
        self.list = LIST_PT * self.scale
        self.para_gap = PARA_GAP_PT * self.scale


def mm(v, dpi=MASTER_DPI):
    return int(round(v / 25.4 * dpi))


def pt(v, dpi=MASTER_DPI):
    return v / 72.0 * dpi


_font_cache = {}


def font(kind, size_pt):
    key = (kind, int(round(pt(size_pt))))    # the size in pixels
    if key not in _font_cache:
        _font_cache[key] = ImageFont.truetype(
            os.path.join(FONT_DIR, FONTS[kind]), key[1])
    return _font_cache[key]


# ---------------------------------------------------------------- layout ---
#
# The text is turned into a list of "rows": each row has a height and a
# list of things to draw at an x offset relative to the left margin and a
# y offset relative to its top. Pagination then only stacks rows.

class Row:
    def __init__(self, height, keep_gap=False):
        self.height = height
        self.items = []      # (kind, x, payload...)
        self.gap = keep_gap  # a pure gap: dropped at the top of a page

    def text(self, x, s, f):
        self.items.append(("text", x, s, f))

    def rule(self, x0, x1):
        self.items.append(("rule", x0, x1))

    def underline(self, x0, x1):
        self.items.append(("underline", x0, x1))

    def scribble(self, x0, x1):
        self.items.append(("scribble", x0, x1))


def gap_row(h):
    return Row(h, keep_gap=True)


SEG_RE = re.compile(r"\S+(?: {1,2}\S+)*")
PAGE_NO_RE = re.compile(r"\s{10,}-?\s*\d{1,2}\s*-?\s*")


def segments(line):
    return [(m.start(), m.group()) for m in SEG_RE.finditer(line)]


def text_width(s, f):
    return f.getlength(s)


def wrap(words, f, first_width, width):
    """Greedy line breaking; returns lists of words."""
    lines, cur, avail = [], [], first_width
    space = text_width(" ", f)
    cur_w = 0.0
    for w in words:
        ww = text_width(w, f)
        if cur and cur_w + space + ww > avail:
            lines.append(cur)
            cur, cur_w, avail = [], 0.0, width
        cur_w = ww if not cur else cur_w + space + ww
        cur.append(w)
    if cur:
        lines.append(cur)
    return lines


def para_rows(text, f, width, left=0, first_indent=0, hang=None, justify=True):
    """Rows of one paragraph: justified, first line indented."""
    words = text.split()
    if not words:
        return []
    hang_left = left if hang is None else hang
    lines = wrap(words, f, width - left - first_indent, width - hang_left)
    rows = []
    space = text_width(" ", f)
    pitch = f.size * PITCH
    for i, ws in enumerate(lines):
        row = Row(pitch)
        x0 = left + first_indent if i == 0 else hang_left
        avail = width - x0
        natural = sum(text_width(w, f) for w in ws) + space * (len(ws) - 1)
        last = i == len(lines) - 1
        if justify and not last and len(ws) > 1:
            extra = (avail - natural) / (len(ws) - 1)
            x = x0
            for w in ws:
                row.text(x, w, f)
                x += text_width(w, f) + space + extra
        else:
            row.text(x0, " ".join(ws), f)
        rows.append(row)
    return rows


def layout(text, width, ty):
    """The rows of a whole directive, set in the sizes of ty (a Type)."""
    text = unicodedata.normalize("NFC", text)
    lines = text.split("\n")
    rows = []
    para = []            # lines of the paragraph being collected
    para_kind = "body"
    zone = "header"      # header -> body -> sign
    header_line = 0
    continue_para = False
    in_subject = False
    has_rules = any(set(l.strip()) <= set("-_") and l.strip() for l in lines[:6])
    kinh_gui_x = width * 0.22
    kinh_gui_hang = kinh_gui_x + text_width("Kính gửi: ", font("regular", ty.body))
    # header columns may run into the margins, as the office's template does
    left_col = (-mm(12), width * 0.36)
    right_col = (width * 0.36, width + mm(10))
    subject_col = (-mm(12), width * 0.44)
    sign_right = (width * 0.45, width)

    def flush():
        nonlocal para, para_kind
        if not para:
            return
        joined = " ".join(s.strip() for s in para)
        f = font("regular", ty.body)
        if para_kind == "kinhgui":
            rows.extend(para_rows(joined, f, width, left=kinh_gui_x, justify=False))
        elif para_kind == "kinhgui-item":
            rows.extend(para_rows(joined, f, width, left=kinh_gui_hang, justify=False))
        else:
            rows.extend(para_rows(joined, f, width, first_indent=mm(INDENT_MM)))
        para = []

    def fit(s, kind, size, span):
        f = font(kind, size)
        while text_width(s, f) > span and size > 8 * ty.scale:
            size -= 0.25
            f = font(kind, size)
        return f

    for raw in lines:
        line = raw.rstrip()
        if not line.strip():
            in_subject = False
            if continue_para:
                continue
            if para:
                flush()
                rows.append(gap_row(pt(ty.para_gap)))
                if para_kind.startswith("kinhgui"):
                    para_kind = "body"
            elif zone != "body":
                rows.append(gap_row(pt(ty.header) * 0.7))
            continue
        if zone == "body" and PAGE_NO_RE.fullmatch(line):
            # a page number typed into the source: the typesetter numbers
            # pages itself, and the paragraph runs on across it
            continue_para = True
            continue
        continue_para = False
        segs = segments(line)
        if line.startswith("Nơi nhận"):
            flush()
            zone = "sign"
        if line.startswith("V/v"):
            in_subject = True      # "V/v …" and its continuation lines
        layout_line = (zone != "body" and (len(segs) > 1 or segs[0][0] >= 3
                                            or in_subject or zone == "sign"))
        if zone == "header" and not layout_line:
            zone = "body"
        if not layout_line:
            stripped = line.strip()
            if stripped.startswith("Kính gửi"):
                flush()
                para_kind = "kinhgui"
                para.append(stripped)
                flush()
                para_kind = "kinhgui-item"
                continue
            if para_kind == "kinhgui-item" or stripped.startswith("- "):
                flush()
                para_kind = "kinhgui-item" if para_kind.startswith("kinhgui") else "body"
            para.append(stripped)
            continue

        # a line of columns
        size = ty.list if zone == "sign" else ty.header
        row = Row(pt(size) * PITCH * (1.05 if zone == "header" else 1.0))
        for col, s in segs:
            centre = col + len(s) / 2
            dashes = set(s) <= set("-_")
            if zone == "header" and len(segs) == 1 and col >= 5 and abs(centre - 37) <= 9:
                # the title block, centred on the page
                big = s.isupper() and len(s) < 20
                # a title line wider than the text (17 pt subjects) is set
                # smaller until it fits between the margins
                f = fit(s, "bold", ty.title if big else ty.body, width)
                if dashes:
                    w = len(s) * pt(ty.body) * 0.45
                    row.rule(width / 2 - w / 2, width / 2 + w / 2)
                else:
                    row.text(width / 2 - text_width(s, f) / 2, s, f)
                    row.height = max(row.height, f.size * PITCH)
                continue
            right = col >= 25
            if zone == "sign":
                if right:
                    f = font("bold", ty.body)
                    x0, x1 = sign_right
                    row.text((x0 + x1) / 2 - text_width(s, f) / 2, s, f)
                    row.height = max(row.height, f.size * PITCH)
                else:
                    kind = "bold" if s.startswith("Nơi nhận") else "regular"
                    f = font(kind, ty.list + (ty.scale if kind == "bold" else 0))
                    row.text(0, s, f)
                continue
            x0, x1 = right_col if right else (subject_col if in_subject else left_col)
            if dashes:
                w = len(s) * pt(ty.header) * 0.5
                row.rule((x0 + x1) / 2 - w / 2, (x0 + x1) / 2 + w / 2)
                continue
            if in_subject:
                kind, size = "regular", ty.header - ty.scale
            elif not right and header_line > 3 and not s.isupper():
                kind, size = "regular", ty.header - 0.5 * ty.scale
            elif right:
                kind = "bold" if (s.isupper() or "Độc lập" in s) else "regular"
                size = ty.header
            else:
                kind = "bold" if (s.isupper() and header_line > 0) else "regular"
                size = ty.header
            f = fit(s, kind, size, x1 - x0)
            row.text((x0 + x1) / 2 - text_width(s, f) / 2, s, f)
        if zone == "header" and header_line == 1 and not has_rules:
            # the short rules under the agency's name and the motto, which
            # every header has even when the typed text leaves them out
            for item in list(row.items):
                if item[0] == "text":
                    _, x, s, f = item
                    w = text_width(s, f)
                    share = 0.4 if x < width * 0.3 else 0.95
                    c = x + w / 2
                    row.underline(c - w * share / 2, c + w * share / 2)
        header_line += 1
        rows.append(row)
    flush()
    # room for the signature: a scribble above the signer's name
    sign_rows = [r for r in rows if any(it[0] == "text" and it[1] > width * 0.4 for it in r.items)]
    if len(sign_rows) >= 2:
        name_row = sign_rows[-1]
        idx = rows.index(name_row)
        blank = [r for r in rows[max(0, idx - 3):idx] if not any(
            it[0] == "text" and it[1] > width * 0.4 for it in r.items)]
        if len(blank) >= 2:
            blank[0].scribble(*sign_right)
    return rows


def paginate(rows, page_px, margins):
    pages = [[]]
    top, bottom = margins["top"], page_px[1] - margins["bottom"]
    y = top
    for row in rows:
        if row.gap and y == top:
            continue
        if y + row.height > bottom and not row.gap:
            pages.append([])
            y = top
        if row.gap and y + row.height > bottom:
            continue
        pages[-1].append((y, row))
        y += row.height
    return pages


def draw_scribble(draw, x0, x1, y, h, rng):
    pts = []
    x = x0 + (x1 - x0) * 0.3
    for i in range(14):
        pts.append((x + i * (x1 - x0) * 0.03, y + h * (0.2 + 0.6 * rng.random())))
    draw.line(pts, fill=60, width=4, joint="curve")


def render(rows, seed, ty):
    page_px = (mm(A4_MM[0]), mm(A4_MM[1]))
    margins = {k: mm(v) for k, v in MARGIN_MM.items()}
    pages = paginate(rows, page_px, margins)
    rng = random.Random(seed)
    images = []
    for n, page in enumerate(pages, 1):
        img = Image.new("L", page_px, 255)
        draw = ImageDraw.Draw(img)
        left = margins["left"]
        if n > 1:
            f = font("regular", ty.body)
            s = str(n)
            draw.text((page_px[0] / 2 - text_width(s, f) / 2, mm(10) + f.size), s,
                      font=f, fill=0, anchor="ls")
        for y, row in page:
            for item in row.items:
                if item[0] == "text":
                    _, x, s, f = item
                    draw.text((left + x, y + f.size), s, font=f, fill=0, anchor="ls")
                elif item[0] == "rule":
                    _, x0, x1 = item
                    yy = y + row.height * 0.4
                    draw.line([(left + x0, yy), (left + x1, yy)], fill=0, width=3)
                elif item[0] == "underline":
                    _, x0, x1 = item
                    yy = y + row.height * 0.98
                    draw.line([(left + x0, yy), (left + x1, yy)], fill=0, width=3)
                elif item[0] == "scribble":
                    _, x0, x1 = item
                    draw_scribble(draw, left + x0, left + x1, y, row.height * 2, rng)
        images.append(img)
    return images


# --------------------------------------------------------------- degrade ---

def noise(size, rng, sigma):
    """Zero-mean noise centred on 128, roughly Gaussian (two uniforms added)."""
    w, h = size
    a = Image.frombytes("L", size, rng.randbytes(w * h))
    b = Image.frombytes("L", size, rng.randbytes(w * h))
    tri = ImageChops.add(a, b, scale=2.0)          # triangular on 0..255
    spread = 255 / (24 ** 0.5)                      # its standard deviation
    lut = [max(0, min(255, int(round(128 + (v - 127.5) * sigma / spread)))) for v in range(256)]
    return tri.point(lut)


def gaussian_noise(size, rng, sigma):
    """Gaussian noise centred on 128: each uniform byte mapped through the
    normal quantile function (256 levels, the tails cut at about 2.9 sigma)."""
    w, h = size
    u = Image.frombytes("L", size, rng.randbytes(w * h))
    nd = statistics.NormalDist(0, sigma)
    lut = [max(0, min(255, int(round(128 + nd.inv_cdf((v + 0.5) / 256))))) for v in range(256)]
    return u.point(lut)


def add_noise(img, rng, sigma):
    return ImageChops.add(img, noise(img.size, rng, sigma), scale=1.0, offset=-128)


def blotches(img, rng, amp):
    """Uneven paper and lighting: low-frequency noise."""
    small = (max(2, img.size[0] // 64), max(2, img.size[1] // 64))
    n = noise(small, rng, amp).resize(img.size, Image.BICUBIC)
    return ImageChops.add(img, n, scale=1.0, offset=-128)


def tone(img, ink, paper):
    lut = [int(round(ink + v * (paper - ink) / 255)) for v in range(256)]
    return img.point(lut)


def specks(img, rng, density):
    """Dust: a few dark dots."""
    w, h = img.size
    draw = ImageDraw.Draw(img)
    for _ in range(int(w * h * density)):
        x, y = rng.randrange(w), rng.randrange(h)
        r = rng.choice((1, 1, 1, 2))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=rng.randrange(0, 90))
    return img


def degrade(master, quality, page_no, rng):
    dpi = QUALITIES[quality][0]
    a4 = (mm(A4_MM[0], dpi), mm(A4_MM[1], dpi))
    if quality == "300":
        img = tone(master, 35, 240)
        img = img.filter(ImageFilter.GaussianBlur(0.4))
        img = blotches(img, rng, 2)
        return add_noise(img, rng, 5)
    if quality == "200":
        img = master.resize(a4, Image.BOX)
        img = tone(img, 45, 232)
        img = img.filter(ImageFilter.GaussianBlur(0.5))
        img = blotches(img, rng, 6)
        img = add_noise(img, rng, 12)
        return specks(img, rng, 2e-5)
    if quality == "150":
        # the cheap office scan: 17 pt type, rotated by 0.7 degrees
        # (the sign alternates from page to page), Gaussian noise, 0.7 px
        # blur, binarised at mid grey (1 bit per pixel)
        angle = 0.7 * (1 if page_no % 2 else -1)
        img = master.rotate(angle, resample=Image.BICUBIC, fillcolor=255)
        img = img.resize(a4, Image.BOX)
        img = tone(img, 35, 235)
        img = ImageChops.add(img, gaussian_noise(img.size, rng, 40), scale=1.0, offset=-128)
        img = img.filter(ImageFilter.GaussianBlur(0.7))
        return img.point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.NONE)
    if quality == "150faint":
        # harsher than the issue: 13 pt type and about 0.7 degrees, faint
        # ink, strong noise and specks, a light threshold
        angle = 0.7 * (1 if page_no % 2 else -1) * (0.85 + 0.3 * rng.random())
        img = master.rotate(angle, resample=Image.BICUBIC, fillcolor=255)
        img = img.resize(a4, Image.BOX)
        # worn toner and a scanner set light: thin strokes and marks break up
        img = tone(img, 56, 228)
        img = img.filter(ImageFilter.GaussianBlur(0.7))
        img = blotches(img, rng, 10)
        img = add_noise(img, rng, 36)
        img = specks(img, rng, 6e-5)
        return img.point(lambda v: 255 if v > 124 else 0).convert("1", dither=Image.NONE)
    raise ValueError(quality)


# ------------------------------------------------------------------- OCR ---

def ocr(png, lang):
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    out = subprocess.run(["tesseract", png, "-", "-l", lang], env=env, check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return out.stdout


def seed_of(*parts):
    return zlib.crc32("/".join(str(p) for p in parts).encode())


def clean_directives(folder):
    names = []
    for f in sorted(os.listdir(folder)):
        m = re.fullmatch(r"([a-z]+-[0-9]+)\.txt", f)
        if m:
            names.append(m.group(1))
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixtures", default="tests/data/directives")
    ap.add_argument("--build", default="build/scans")
    ap.add_argument("--quality", action="append", choices=list(QUALITIES))
    ap.add_argument("--lang", action="append", choices=LANGS)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-ocr", action="store_true", help="only make the page images")
    ap.add_argument("names", nargs="*", help="directives (default: every NAME.txt)")
    args = ap.parse_args()
    qualities = args.quality or list(QUALITIES)
    langs = args.lang or list(LANGS)
    names = args.names or clean_directives(args.fixtures)
    if not args.no_ocr and not shutil.which("tesseract"):
        sys.exit("make-scans: tesseract not found (make scans-deps)")

    width = mm(A4_MM[0]) - mm(MARGIN_MM["left"]) - mm(MARGIN_MM["right"])
    jobs = []   # (name, quality, lang, [pngs])
    for name in names:
        with open(os.path.join(args.fixtures, name + ".txt"), encoding="utf-8") as fh:
            text = fh.read()
        masters = {}    # body size -> pages
        outdir = os.path.join(args.build, name)
        os.makedirs(outdir, exist_ok=True)
        for q in qualities:
            dpi, body, seed_q = QUALITIES[q]
            if body not in masters:
                masters[body] = render(layout(text, width, Type(body)),
                                       seed_of(name, "ink"), Type(body))
            for old in glob.glob(os.path.join(outdir, "q%s-p*.png" % q)):
                os.remove(old)      # a page count that shrank leaves none behind
            pngs = []
            for n, master in enumerate(masters[body], 1):
                img = degrade(master, q, n, random.Random(seed_of(name, seed_q, n)))
                png = os.path.join(outdir, "q%s-p%d.png" % (q, n))
                img.save(png, dpi=(dpi, dpi), optimize=False)
                pngs.append(png)
            print("make-scans: %s q%s: %d pages -> %s/q%s-p*.png" % (name, q, len(pngs), outdir, q))
            if shutil.which("img2pdf"):
                pdf = os.path.join(args.build, "%s-q%s.pdf" % (name, q))
                subprocess.run(["img2pdf", "-o", pdf] + pngs, check=True)
            for lang in langs:
                jobs.append((name, q, lang, pngs))
    if args.no_ocr:
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {}
        for name, q, lang, pngs in jobs:
            futures[(name, q, lang)] = [pool.submit(ocr, p, lang) for p in pngs]
        for (name, q, lang), fs in futures.items():
            data = b"\f".join(f.result() for f in fs)
            out = os.path.join(args.fixtures, "%s.scan-%s-%s.txt" % (name, q, lang))
            with open(out, "wb") as fh:
                fh.write(data)
            print("make-scans: wrote %s (%d pages, %d bytes)" % (out, len(fs), len(data)))


if __name__ == "__main__":
    main()
