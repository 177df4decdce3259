#!/usr/bin/env python3
"""Regenerates assets/html-entities.tsv: every named character reference of the WHATWG HTML
standard (https://html.spec.whatwg.org/multipage/named-characters.html), read from CPython's
html.entities.html5, which tracks that list.

Each line is `name<TAB>code points`: the name without `&` and `;`, then the one or two code
points it stands for, in hex, separated by a space (`amp<TAB>26`, `acE<TAB>223E 333`). The
106 names the standard also reads without their `;` (`&amp`, `&nbsp`, `&copy` in old pages)
have a third field, `legacy`.

Usage: python3 scripts/gen-html-entities.py > assets/html-entities.tsv
"""
import html.entities

names = sorted(k[:-1] for k in html.entities.html5 if k.endswith(";"))
for name in names:
    chars = html.entities.html5[name + ";"]
    legacy = "\tlegacy" if name in html.entities.html5 else ""
    print(name + "\t" + " ".join(f"{ord(c):X}" for c in chars) + legacy)
