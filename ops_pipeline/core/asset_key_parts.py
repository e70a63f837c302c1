"""Asset key parts for names a database allows, any of them: unique and stable, in the letters, digits and `_`
the UI's selection syntax can name.

A plain name (ASCII letters and digits, single `_` between them) is its own key part, so the usual table names
keep their keys. Any other name is escaped: ASCII letters and digits stay, every other character becomes
`__<hex code point>_`. An escaped part always holds `__` and a plain one never does, and the escaping reads
back one way, so no two names share a key part (`order items` and `order-items`, `顧客` and `注文` differ).
"""

from __future__ import annotations

import re

_PLAIN = re.compile(r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*")


def key_part(name: str) -> str:
    if _PLAIN.fullmatch(name):
        return name
    return "__" if not name else "".join(ch if _ascii_alnum(ch) else f"__{ord(ch):x}_" for ch in name)


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()
