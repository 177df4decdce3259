#!/usr/bin/env python3
"""Regenerates assets/stdlib-modules.tsv: the names of CPython's standard-library modules,
read from the running interpreter's sys.stdlib_module_names (Python 3.10+).

Each line is `name<TAB>how`: `bare` names are distinctive enough to count as evidence when
they appear as a plain word (tarfile, zipfile); `dotted` names are also ordinary words or
too short (time, string, code, os) and only count when used as code: `name.attr`, `import name`,
`from name import`. Private modules (leading underscore) and platform-only ones
that never turn up in reports are left out.

Usage: python3 scripts/gen-stdlib-modules.py > assets/stdlib-modules.tsv
"""
import sys

if sys.version_info < (3, 10):
    sys.exit("gen-stdlib-modules.py: needs Python 3.10 or later (sys.stdlib_module_names)")

# Modules whose name is an English word, a common programming word, or shorter than 4 letters.
ORDINARY = {
    "abc", "array", "ast", "base64", "binascii", "bisect", "builtins", "calendar", "cmd",
    "code", "codecs", "colorsys", "copy", "crypt", "csv", "curses", "dataclasses", "datetime",
    "decimal", "dis", "email", "enum", "errno", "fractions", "functools", "gc", "glob",
    "grp", "gzip", "hashlib", "heapq", "hmac", "html", "http", "imp", "inspect", "io",
    "json", "keyword", "locale", "logging", "math", "mmap", "nis", "numbers", "operator",
    "os", "pipes", "platform", "posix", "pwd", "queue", "random", "re", "readline",
    "resource", "secrets", "select", "selectors", "signal", "site", "socket", "ssl", "stat",
    "string", "struct", "symbol", "sys", "syslog", "test", "this", "threading", "time",
    "timeit", "token", "trace", "types", "typing", "uu", "uuid", "venv", "warnings", "wave",
    "weakref", "winreg", "zipimport", "zlib", "zoneinfo", "idlelib", "turtle", "turtledemo",
    "antigravity", "sched", "shelve", "sre_compile", "sre_constants", "sre_parse", "nt",
    "msvcrt", "winsound", "tty", "pty", "fcntl", "termios", "spwd", "ossaudiodev",
    "audioop", "chunk", "imghdr", "sndhdr", "xdrlib", "getopt", "getpass", "gettext",
    "opcode", "profile", "pstats", "quopri", "reprlib", "runpy", "shlex", "stringprep",
    "symtable", "tabnanny", "textwrap", "tokenize", "traceback", "unicodedata", "unittest",
    "webbrowser", "wsgiref", "xml", "xmlrpc", "zipapp", "lib2to3", "ensurepip", "pydoc",
    "pydoc_data", "distutils", "encodings", "collections", "contextlib", "contextvars",
    "copyreg", "fileinput", "filecmp", "fnmatch", "graminit", "linecache", "marshal",
    "modulefinder", "netrc", "nntplib", "numbers", "optparse", "pathlib", "pickle",
    "pickletools", "pkgutil", "poplib", "pprint", "py_compile", "pyclbr", "rlcompleter",
    "sqlite3", "statistics", "subprocess", "sunau", "telnetlib", "tempfile", "tkinter",
    "tomllib", "asyncio", "atexit", "bdb", "cgi", "cgitb", "compileall", "concurrent",
    "configparser", "ctypes", "dbm", "difflib", "doctest", "faulthandler", "ftplib",
    "hashlib", "imaplib", "importlib", "ipaddress", "itertools", "lzma", "mailbox",
    "mimetypes", "multiprocessing", "os", "pdb", "shutil", "smtplib", "socketserver",
    "ssl", "tracemalloc", "urllib", "zipfile", "tarfile", "plistlib", "bz2", "idna",
}
# Distinctive names among the above that reports use bare ("a bug in tarfile"): keep bare.
DISTINCTIVE = {
    "asyncio", "ctypes", "ipaddress", "multiprocessing", "tarfile", "zipfile", "plistlib",
    "urllib", "shutil", "tempfile", "hashlib", "imaplib", "smtplib", "ftplib", "poplib",
    "nntplib", "telnetlib", "pickle", "subprocess", "sqlite3",
    "tomllib", "configparser", "socketserver", "xmlrpc", "wsgiref", "difflib", "pathlib",
    "mimetypes", "unicodedata", "zipimport", "zlib", "gzip", "lzma", "bz2", "base64",
    "binascii", "mailcap", "cgi", "cgitb", "tracemalloc", "faulthandler", "importlib",
    "linecache", "netrc", "shlex", "gettext", "tokenize", "pydoc", "ensurepip", "venv",
    "fnmatch", "itertools", "functools", "collections", "datetime", "decimal", "fractions",
    "unittest", "doctest", "sysconfig", "compileall", "py_compile", "zipapp", "webbrowser",
    "http.client", "http.server", "http.cookies", "http.cookiejar",
}

names = set()
for name in sys.stdlib_module_names:
    if name.startswith("_"):
        continue
    names.add(name)
# Submodules reports name most often.
names |= {"http.client", "http.server", "http.cookies", "http.cookiejar", "urllib.parse",
          "urllib.request", "email.utils", "email.parser", "email.header", "xml.etree",
          "xml.dom", "xml.sax", "xml.parsers.expat", "os.path", "importlib.metadata",
          "concurrent.futures", "logging.handlers", "json.decoder"}
print("# CPython standard-library modules, from sys.stdlib_module_names of Python "
      f"{sys.version_info.major}.{sys.version_info.minor}.")
print("# Regenerate: python3 scripts/gen-stdlib-modules.py > assets/stdlib-modules.tsv")
print("# name<TAB>bare (counts as a plain word) | dotted (counts only as code: name.attr, import name)")
for name in sorted(names):
    bare = name in DISTINCTIVE or ("." in name and name.split(".")[0] not in {"os"}) \
        or (name not in ORDINARY and len(name) >= 5)
    print(f"{name}\t{'bare' if bare else 'dotted'}")
