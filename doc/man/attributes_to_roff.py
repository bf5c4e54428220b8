#!/usr/bin/env python3
"""Splices the attribute tables into scst.conf(5).

  attributes_to_roff.py USCSTD TEMPLATE OUTPUT

Runs `USCSTD --list-attributes` (the descriptor tables of the core, of
every handler and of every target driver, as registered) and puts its
sections, as roff, where TEMPLATE has the line `.\\" @ATTRIBUTES@`. The
page is built from the same tables the parser takes attributes from, so
the two cannot drift. A line of the listing this script does not
recognise stops the build (exit 1, naming the line): a change of the
listing's format must come here too, not drop attributes from the page.
"""
import os
import re
import subprocess
import sys

MARK = '.\\" @ATTRIBUTES@'
ATTR_RE = re.compile(r"^  (\S+)  \[(.*)\]  (default: .*)$")


def roff(text):
    """Text for a roff input line: backslashes escaped, and a leading
    period or apostrophe (a request) made literal."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text[:1] in (".", "'"):
        text = "\\&" + text
    return text


def convert(listing):
    out = []
    lines = listing.splitlines()
    # The listing's preamble (up to the first blank line) explains what
    # the page's own text explains.
    try:
        start = lines.index("") + 1
    except ValueError:
        sys.exit("attributes_to_roff: no blank line after the preamble of --list-attributes")
    sections = attrs = 0
    in_attr = False
    for n, line in enumerate(lines[start:], start + 1):
        if not line:
            in_attr = False
            continue
        if not line.startswith(" ") and line.endswith(":"):
            out.append(".SS " + roff(line[:-1]))
            sections += 1
            in_attr = False
            continue
        if line == "  (none)":
            out.append(".PP")
            out.append("None.")
            continue
        m = ATTR_RE.match(line)
        if m:
            name, kind, rest = m.groups()
            out.append(".TP")
            out.append("\\fB%s\\fR [%s]" % (roff(name), roff(kind)))
            # "default: X; repeatable; set at creation only" as a sentence.
            out.append(roff(rest[0].upper() + rest[1:] + "."))
            attrs += 1
            in_attr = True
            continue
        if line.startswith("      ") and in_attr:
            out.append(".br")
            out.append(roff(line.strip()))
            continue
        sys.exit("attributes_to_roff: line %d of --list-attributes not understood: %r"
                 % (n, line))
    if not sections or not attrs:
        sys.exit("attributes_to_roff: --list-attributes listed %d sections and %d attributes"
                 % (sections, attrs))
    return out


def main():
    uscstd, template, output = sys.argv[1:4]
    env = dict(os.environ)
    # A sanitizer build's uscstd runs here too; its leak report at exit
    # is the test suite's business, not the page's.
    env["ASAN_OPTIONS"] = "detect_leaks=0"
    listing = subprocess.run([uscstd, "--list-attributes"], check=True, env=env,
                             stdout=subprocess.PIPE, universal_newlines=True).stdout
    page = open(template).read().splitlines()
    if page.count(MARK) != 1:
        sys.exit("attributes_to_roff: %s needs the line %s once" % (template, MARK))
    i = page.index(MARK)
    page[i:i + 1] = convert(listing)
    with open(output + ".tmp", "w") as f:
        f.write("\n".join(page) + "\n")
    os.replace(output + ".tmp", output)


main()
