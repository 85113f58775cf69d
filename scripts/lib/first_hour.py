"""Helpers for scripts/first-hour.sh: reads docs/FIRST-HOUR.md into its steps, and
checks output and pages against what the walk-through says.

  first_hour.py split DOC OUT_DIR
      Writes every ```sh block as OUT_DIR/NN.sh, in order; a ```text block right after
      it as OUT_DIR/NN.expect (what the commands print); and OUT_DIR/pages.tsv: for every
      section whose heading names a page (`/en/...`), each text quoted in “…” below it.
  first_hour.py expect EXPECT_FILE OUTPUT_FILE
      Every non-empty line of EXPECT_FILE must be in OUTPUT_FILE, in order; `…` in a
      line stands for anything within that line.
  first_hour.py page HTML_FILE TEXT
      TEXT is on the page (tags removed, entities decoded, white space joined).
"""

import html
import os
import re
import sys


def split(doc, out):
    lines = open(doc, encoding="utf-8").read().splitlines()
    os.makedirs(out, exist_ok=True)
    n = 0
    last_kind = None
    page = None
    quotes = []
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = re.match(r"^#+ .*`(/[a-z][^`]*)`", line)
        if line.startswith("#"):
            page = heading.group(1) if heading else None
        fence = re.match(r"^```(\w*)\s*$", line)
        if fence:
            kind = fence.group(1)
            body = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if kind == "sh":
                n += 1
                with open(os.path.join(out, "%02d.sh" % n), "w", encoding="utf-8") as f:
                    f.write("\n".join(body) + "\n")
            elif kind == "text" and last_kind == "sh":
                with open(os.path.join(out, "%02d.expect" % n), "w", encoding="utf-8") as f:
                    f.write("\n".join(body) + "\n")
            last_kind = kind
            i += 1
            continue
        if line.strip():
            last_kind = None
        if page:
            for q in re.findall(r"“([^”]+)”", line):
                quotes.append((page, q))
        i += 1
    with open(os.path.join(out, "pages.tsv"), "w", encoding="utf-8") as f:
        for page, q in quotes:
            f.write("%s\t%s\n" % (page, q))
    print("%d command blocks, %d quoted page texts" % (n, len(quotes)))


def expect(expect_file, output_file):
    want = [l.strip() for l in open(expect_file, encoding="utf-8") if l.strip()]
    got = open(output_file, encoding="utf-8", errors="replace").read().splitlines()
    at = 0
    for w in want:
        pattern = re.compile(".*".join(re.escape(p.strip()) for p in w.split("…")))
        while at < len(got) and not pattern.search(got[at]):
            at += 1
        if at == len(got):
            print("first-hour: the walk-through says this is printed, and it was not (in order):")
            print("  " + w)
            return 1
        at += 1
    return 0


def page(html_file, text):
    raw = open(html_file, encoding="utf-8", errors="replace").read()
    raw = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", raw)
    shown = html.unescape(re.sub(r"<[^>]+>", " ", raw))
    shown = " ".join(shown.split())
    if " ".join(text.split()) in shown:
        return 0
    print("first-hour: the walk-through quotes “%s”, which %s does not show" % (text, html_file))
    return 1


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "split":
        split(sys.argv[2], sys.argv[3])
    elif cmd == "expect":
        sys.exit(expect(sys.argv[2], sys.argv[3]))
    elif cmd == "page":
        sys.exit(page(sys.argv[2], sys.argv[3]))
    else:
        sys.exit("unknown command " + cmd)
