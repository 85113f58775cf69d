"""Checks that the reporter pages of a running Meldpunt site can run only the page bundle.

Used by scripts/check-bundle.sh. Reads the pages and their Content-Security-Policy
headers from the folder given (one `NAME.html` and `NAME.headers` per page, as curl
saved them) and the bundle's file names from the manifest; prints one line per problem
and exits 1 if there is any.
"""

import sys
from html.parser import HTMLParser
from pathlib import Path


class Scripts(HTMLParser):
    """Collects everything on a page that could load or run code."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.in_data_script = False
        self.srcs = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name, _ in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag}> has an inline event handler ({name})")
        if tag == "script":
            if "src" in a:
                self.srcs.append(a["src"])
            elif a.get("type") == "application/json":
                # Page texts as data; the CSP forbids running inline script anyway.
                self.in_data_script = True
            else:
                self.problems.append("an inline <script> with code")
        elif tag in ("iframe", "frame", "object", "embed", "applet", "base"):
            self.problems.append(f"a <{tag}> element")
        elif tag == "link" and "stylesheet" in (a.get("rel") or ""):
            self.srcs.append(a.get("href") or "")

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_data_script = False


def directives(csp):
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def check_csp(page, headers):
    csp = [
        line.split(":", 1)[1].strip()
        for line in headers.splitlines()
        if line.lower().startswith("content-security-policy:")
    ]
    if len(csp) != 1:
        return [f"{page}: expected one Content-Security-Policy header, found {len(csp)}"]
    d = directives(csp[0])
    problems = []
    if d.get("default-src") != ["'none'"]:
        problems.append(f"{page}: default-src is not 'none': {csp[0]}")
    for name in ("script-src", "worker-src", "child-src"):
        allowed = {"'self'", "'wasm-unsafe-eval'"}
        extra = [w for w in d.get(name, []) if w not in allowed]
        if extra:
            problems.append(f"{page}: {name} allows {' '.join(extra)}")
    return problems


def main():
    folder, manifest = Path(sys.argv[1]), Path(sys.argv[2])
    names = {line.split()[1] for line in manifest.read_text().splitlines() if line.strip()}
    problems = []
    pages = sorted(folder.glob("*.html"))
    if not pages:
        problems.append("no page was fetched")
    for html in pages:
        page = html.stem.replace("_", "/")
        parser = Scripts()
        parser.feed(html.read_text(encoding="utf-8", errors="replace"))
        problems += [f"{page}: {p}" for p in parser.problems]
        for src in parser.srcs:
            name = src[len("/static/"):] if src.startswith("/static/") else None
            if name not in names:
                problems.append(f"{page}: loads {src!r}, which is not in the bundle")
        problems += check_csp(page, html.with_suffix(".headers").read_text())
    for p in problems:
        print(f"  PROBLEM {p}")
    print(f"  {len(pages)} pages checked: " + ("fine" if not problems else f"{len(problems)} problems"))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
