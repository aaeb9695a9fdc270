#!/usr/bin/env python3
"""Make a scanned-and-OCRed looking copy of a Vietnamese text (deterministic).

Real OCR of Vietnamese administrative scans loses most diacritics, turns some of
them into the nearest Latin-1 accent, and confuses a few shapes (đ/Đ, ở, số, l/1).
Usage: ocr-degrade.py [--seed N] < clean.txt > ocr.txt
"""
# Origin: copied unchanged (but for this comment) from ../shared/samples/ocr-degrade.py,
# the script outside the repository that made the *.ocr-seedN.txt fixtures in
# tests/data/directives/. `make ocr-seeds` regenerates them with it; keep its
# behaviour as it is, or every seed fixture changes.
import random
import sys
import unicodedata

SHAPES = {  # whole-word confusions seen in real scans
    "Sở": ["S&", "S¢", "SO", "Sd", "Sở"], "số": ["s6", "sb", "so", "s0", "sé"],
    "Đầu": ["Pau", "Dau", "Péau"], "Đảng": ["Pang", "Dang"], "lần": ["1an", "lan"],
    "là": ["1a", "la"], "lối": ["16i", "loi"], "ủy": ["uy", "ty", "iy", "dy"],
}
LATIN1 = {"e": "é", "a": "á", "o": "ó", "u": "ú", "i": "í"}


def base(ch):
    if ch in "đĐ":
        return "d" if ch == "đ" else random.choice(["D", "P"])
    d = unicodedata.normalize("NFD", ch)
    return d[0]


def degrade_char(ch, rng):
    if ord(ch) < 128:
        if ch == "l" and rng.random() < 0.02:
            return "1"
        return ch
    b = base(ch)
    r = rng.random()
    if r < 0.12 and b.lower() in LATIN1:
        acc = LATIN1[b.lower()]
        return acc.upper() if b.isupper() else acc
    if r < 0.15:
        return ch  # the occasional mark that survives
    return b


def degrade(text, rng):
    out = []
    for line in text.splitlines():
        words = []
        for w in line.split(" "):
            if w in SHAPES and rng.random() < 0.7:
                words.append(rng.choice(SHAPES[w]))
            else:
                words.append("".join(degrade_char(c, rng) for c in w))
        out.append(" ".join(words))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    seed = 7
    if len(sys.argv) == 3 and sys.argv[1] == "--seed":
        seed = int(sys.argv[2])
    rng = random.Random(seed)
    random.seed(seed)
    sys.stdout.write(degrade(sys.stdin.read(), rng))
