r"""The default secret patterns `Masker` looks for, one `Family` per kind of secret, with what each keeps visible.

| family            | example                                                  | masked as                             |
|-------------------|----------------------------------------------------------|---------------------------------------|
| private key block | `-----BEGIN RSA PRIVATE KEY-----` key `-----END ...`     | markers kept, key -> `***`            |
| URL credentials   | `postgresql://ops:hunter2@db/shop` (any scheme)          | `postgresql://ops:***@db/shop`        |
| connection string | `Server=db;User Id=ops;Password=a b c;`                  | `Server=db;User Id=ops;Password=***;` |
| CLI flag          | `--password hunter2`                                     | `--password ***`                      |
| key = value       | `password=hunter2`, `"api_key": "abc"`                   | `password=***`, `"api_key": "***"`    |
| auth header       | `Authorization: Bearer abc`                              | `Authorization: Bearer ***`           |
| JWT               | `eyJhbGciOi....eyJzdWIi....sig`                          | `***`                                 |
| bearer / basic    | `Bearer 9f8e7d6c5b4a`, `Basic dXNlcjpwYXNz`              | `Bearer ***`, `Basic ***`             |
| API tokens        | `sk-`, `ghp_`, `gho_`, `github_pat_`, `xoxb-`, `AIza`... | `sk-***`, `ghp_***`, ...              |
| AWS access key id | `AKIAIOSFODNN7EXAMPLE`                                   | `AKIA***`                             |
| email address     | `alice@example.com`                                      | `***`                                 |
| card number       | `4111 1111 1111 1111` (13-19 digits, Luhn-valid)         | `***`                                 |

A private key block may span many lines (an unterminated one is masked to the end of its key material); every
other family matches within one line.

A key counts as secret when it ends with password, passwd, passphrase, pwd, secret, token, credential(s),
authorization, or an api/secret/access/private/signing/encryption/master/account key, in any case and after
any prefix (`DB_PASSWORD`, `x-api-key`, `SecretAccessKey`, `aws_secret_access_key`); note that the shell's
`PWD=/home/...` is masked too. Its value is double-quoted, single-quoted, quoted with escaped quotes (inside a
JSON string) or bare; a bare value stops at whitespace, a quote, a backslash, `,`, `;` or `&`.

Every line family has triggers: lowercase words of which at least one occurs (in the lowercased text) wherever
the family matches. `Masker` runs the line families only on lines that contain a trigger, which is what keeps a
megabyte of ordinary log text fast; a test checks that this prefilter never changes the result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = [
    "CARD",
    "LINE_FAMILIES",
    "PRIVATE_KEY",
    "Family",
    "alternation",
    "extra_family",
    "is_secret_key",
    "luhn_valid",
    "trigger_regex",
]


@dataclass(frozen=True)
class Family:
    """One kind of secret: its regex, the groups whose text is masked (the first that took part; none means the
    whole match), an optional check the whole match must pass to be masked, and its prefilter triggers."""

    name: str
    pattern: str
    masked_groups: tuple[str, ...] = ()
    check: Callable[[str], bool] | None = None
    triggers: tuple[str, ...] = ()


# Boundaries list "*" among the characters that may not touch a match, so a mask written in one pass never
# lets a neighbouring pattern match in the next.
_KEY_CHARS = r"A-Za-z0-9_.\-"
_KEY_WORDS = ("pass", "pwd", "secret", "token", "credential", "authorization", "key")  # one is in every key
_SECRET_KEY = (
    rf"(?ai:[{_KEY_CHARS}]*?(?:pass(?:word|wd|phrase)|pwd|secret|token|credentials?|authorization"
    r"|(?:api|secret|access|private|signing|encryption|master|account|shared[_-]?access)[_-]?key))"
)
_SEPARATOR = r"""(?:\\?["'])?[ \t]*[:=][ \t]*"""
_AUTH_SCHEME = r"(?ai:bearer|basic|digest|token|negotiate|ntlm)[ \t]+"
_TOKEN68 = r"[A-Za-z0-9._~+/\-]"
_DOMAIN = r"[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}(?![*A-Za-z0-9\-])"
_KEY_BLOCK_UNIT = r"(?:[A-Za-z0-9+/=:,.\-_ \t\r\n*\[\]|]|\\[nrt])"
_KEY_LABEL = r"[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"


def _value(prefix: str) -> str:
    return (
        rf""""(?P<{prefix}_dq>(?:[^"\\\r\n]|\\.)*)"|'(?P<{prefix}_sq>(?:[^'\\\r\n]|\\.)*)'"""
        rf"""|\\"(?P<{prefix}_eq>[^"\\\r\n]*)\\"|(?:\\?["'])?(?P<{prefix}_bare>[^\s"'\\,;&]+)"""
    )


def _value_groups(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}_{kind}" for kind in ("dq", "sq", "eq", "bare"))


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a string of digits (separators already removed)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _card_number(text: str) -> bool:
    digits = "".join(char for char in text if "0" <= char <= "9")
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


# Spans lines, so it runs over the whole text; an unterminated block is masked to the end of its key material.
PRIVATE_KEY = Family(
    "private_key",
    rf"-----BEGIN {_KEY_LABEL}"
    rf"(?:(?P<pk_body>{_KEY_BLOCK_UNIT}*?)-----END {_KEY_LABEL}|(?P<pk_open>{_KEY_BLOCK_UNIT}*))",
    ("pk_body", "pk_open"),
)

# Families whose matches never cross a line break, in order of preference at the same position.
LINE_FAMILIES: tuple[Family, ...] = (
    Family(
        "url_credentials",
        r"""(?<![*A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'"\\]*:(?P<url_v>[^\s'"\\/]+)@""",
        ("url_v",),
        triggers=("://",),
    ),
    Family(
        "connection_string",
        r"""(?:(?<=;)[ \t]*|(?<![*A-Za-z0-9_.\-]))(?ai:password|pwd|accountkey|sharedaccesskey)[ \t]*=[ \t]*"""
        r"""(?:(?<=;)(?P<ado_v>[^;\r\n"'\\]+)|(?P<ado_w>[^;\r\n"'\\]+)(?=;))""",
        ("ado_v", "ado_w"),
        triggers=_KEY_WORDS,
    ),
    Family(
        "cli_flag",
        rf"(?<![*A-Za-z0-9_\-])--?{_SECRET_KEY}[ \t]+(?:{_value('flag')})",
        _value_groups("flag"),
        triggers=_KEY_WORDS,
    ),
    Family(
        "key_value",
        rf"(?<![*{_KEY_CHARS}]){_SECRET_KEY}{_SEPARATOR}(?:{_AUTH_SCHEME})?(?:{_value('kv')})",
        _value_groups("kv"),
        triggers=_KEY_WORDS,
    ),
    Family(
        "jwt",
        r"(?<![*A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*",
        triggers=("eyj",),
    ),
    Family(
        "bearer",
        rf"(?<![*A-Za-z0-9_\-])(?ai:bearer)[ \t]+(?P<bearer_v>(?=[A-Za-z._~+/\-]*[0-9]){_TOKEN68}{{8,}}=*"
        rf"|{_TOKEN68}{{20,}}=*)",
        ("bearer_v",),
        triggers=("bearer",),
    ),
    Family(
        "basic_auth",
        r"(?<![*A-Za-z0-9_\-])Basic[ \t]+(?P<basic_v>(?=[A-Za-z0-9+/]*[A-Z0-9+/])(?:[A-Za-z0-9+/]{4}){2,}"
        r"(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)(?![*A-Za-z0-9+/=])",
        ("basic_v",),
        triggers=("basic",),
    ),
    Family(
        "api_token",
        r"(?<![*A-Za-z0-9_\-])(?:sk-|gh[pousr]_|github_pat_|xox[baprs]-|AIza)(?P<token_v>[A-Za-z0-9_\-]{16,})",
        ("token_v",),
        triggers=("sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "aiza"),
    ),
    Family(
        "aws_access_key_id",
        r"(?<![*A-Za-z0-9])(?:AKIA|ASIA)(?P<aws_v>[A-Z0-9]{16})(?![*A-Za-z0-9])",
        ("aws_v",),
        triggers=("akia", "asia"),
    ),
    Family("email", rf"(?<![*A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@{_DOMAIN}", triggers=("@",)),
)

# Runs over the whole text after the line families: a digit run that fails the Luhn check is left alone.
# The digit comes first (its lookbehind spans it) so the regex engine can skip to candidate digits quickly.
CARD = Family("card", r"[2-6](?<![*A-Za-z0-9_.\-][2-6])(?:[ \-]?[0-9]){12,18}(?![*A-Za-z0-9_\-])", (), _card_number)


def alternation(families: Iterable[Family]) -> re.Pattern[str]:
    """One regex trying each family in turn; `match.lastgroup` names the family that matched."""
    return re.compile("|".join(f"(?P<{family.name}>{family.pattern})" for family in families))


def trigger_regex(families: Iterable[Family]) -> re.Pattern[str]:
    """All the families' triggers as one regex over lowercased text, factored by first character for speed."""
    by_first: dict[str, set[str]] = {}
    for family in families:
        for trigger in family.triggers:
            by_first.setdefault(trigger[0], set()).add(trigger[1:])
    branches = []
    for first, rests in sorted(by_first.items()):
        tails = "|".join(re.escape(rest) for rest in sorted(rests, key=lambda rest: (-len(rest), rest)))
        branches.append(re.escape(first) + (f"(?:{tails})" if tails else ""))
    return re.compile("|".join(branches))


_LEADING_FLAGS = re.compile(r"(?:\(\?[aiLmsux]+\))+")


def extra_family(index: int, pattern: str, mask: str) -> Family:
    """A configured pattern as a family masked whole; ValueError naming the pattern when it cannot be one."""
    where = f"masking pattern {index} ({pattern!r})"
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ValueError(f"{where}: {error}") from None
    if compiled.groups:
        raise ValueError(f"{where}: use non-capturing groups (?:...), not (...)")
    if compiled.search(mask):
        raise ValueError(f"{where} matches the empty string or the mask {mask}")
    # Global flags such as (?i) must lead the whole expression; inside the alternation they become scoped.
    leading = _LEADING_FLAGS.match(pattern)
    if leading is None:
        return Family(f"extra_{index}", f"(?:{pattern})")
    flags = "".join(sorted(set(leading.group()) - set("(?)")))
    body = pattern[leading.end() :] + ("\n" if "x" in flags else "")  # so a trailing (?x) comment ends
    scoped = f"(?{flags}:{body})"
    try:
        re.compile(scoped)
    except re.error as error:
        raise ValueError(f"{where}: its flags {flags!r} cannot apply to part of a pattern ({error})") from None
    return Family(f"extra_{index}", scoped)


_SECRET_KEY_NAME = re.compile(_SECRET_KEY)


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a secret (`password`, `DB_PASSWORD`, `apiKey`, `client_secret`, ...)."""
    return _SECRET_KEY_NAME.fullmatch(key) is not None
