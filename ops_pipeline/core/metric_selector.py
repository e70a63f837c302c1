"""Prometheus instant-vector selectors: `name{label="v", l2!="x", l3=~"re.*", l4!~"re"}`, parsed and matched.

The grammar follows PromQL: an optional metric name, then optional braces with comma-separated label matchers
(a trailing comma is allowed). Label values are string literals in double quotes, single quotes (Go escapes:
`\\n`, `\\t`, `\\"`, `\\xHH`, `\\uHHHH`, ...) or backticks (raw, no escapes). Without a metric name at least one
matcher must not match the empty string, as in Prometheus; `{__name__="x"}` is the same as `x`. A label that a
series does not have counts as the empty string.

Regular expressions are fully anchored (the whole value must match) and `.` matches a newline too, as in
Prometheus (`^(?s:re)$`). They are compiled by Python's `re`, which accepts some syntax that Prometheus' RE2
rejects (look-around, back references); the common subset behaves the same.

Malformed input raises `SelectorError` (a ValueError) naming the 0-based position of the problem. Range
selectors (`x[5m]`), offsets and functions are not selectors and are rejected.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ops_pipeline.core.user_regex import UserRegex, UserRegexError, compile_user_regex

Op = Literal["=", "!=", "=~", "!~"]
OPS: tuple[Op, ...] = ("=~", "!~", "!=", "=")  # two-character operators first

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
WHITESPACE = " \t\r\n"
SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
HEX_DIGITS = "0123456789abcdefABCDEF"


class SelectorError(ValueError):
    """A malformed selector. `position` is the 0-based offset in `text` where the problem is."""

    def __init__(self, text: str, position: int, reason: str) -> None:
        self.text = text
        self.position = position
        self.reason = reason
        near = text[position : position + 12]
        where = f"near {near!r}" if near else "at the end"
        super().__init__(f"invalid selector {text!r}: {reason} at position {position} ({where})")


def quote_label_value(value: str) -> str:
    """A double-quoted PromQL string literal for `value` that both this parser and Prometheus read back."""
    out = ['"']
    for char in value:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif char == "\ufffd" or unicodedata.category(char) in ("Cc", "Cs"):
            code = ord(char)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


@dataclass(frozen=True)
class LabelMatcher:
    """One `name op "value"` matcher; regex operators match the whole value."""

    name: str
    op: Op
    value: str
    _regex: UserRegex | None = field(default=None, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        if not LABEL_NAME.fullmatch(self.name):
            raise ValueError(f"invalid label name {self.name!r}")
        if self.op not in OPS:
            raise ValueError(f"invalid matcher operator {self.op!r}; expected one of {', '.join(OPS)}")
        if self.op in ("=~", "!~") and self._regex is None:
            try:
                object.__setattr__(self, "_regex", compile_anchored(self.value))
            except UserRegexError as error:
                raise ValueError(
                    f"invalid regular expression {self.value!r} for label {self.name!r}: {error.reason}"
                ) from None

    def matches(self, value: str) -> bool:
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        assert self._regex is not None
        found = self._regex.fullmatch(value) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        return f"{self.name}{self.op}{quote_label_value(self.value)}"


def compile_anchored(pattern: str) -> UserRegex:
    """Compile a Prometheus regex with RE2 (as Prometheus does); raises UserRegexError. Use `fullmatch` on the
    result (Prometheus anchors both ends)."""
    compile_user_regex(pattern)  # on its own first, so `a)|(b` cannot escape the group below
    return compile_user_regex(f"(?s:{pattern})")


@dataclass(frozen=True)
class Selector:
    """A parsed instant-vector selector: an optional metric name and label matchers, in the order written."""

    metric: str | None
    matchers: tuple[LabelMatcher, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Selector:
        return parse_selector(text)

    def matches(self, metric: str, labels: Mapping[str, str]) -> bool:
        """Whether a series named `metric` with `labels` (no `__name__` key needed) is selected."""
        if self.metric is not None and metric != self.metric:
            return False
        for matcher in self.matchers:
            value = metric if matcher.name == "__name__" else labels.get(matcher.name, "")
            if not matcher.matches(value):
                return False
        return True

    def __str__(self) -> str:
        """The selector in canonical PromQL form; `parse_selector(str(s)) == s`."""
        parts = [str(matcher) for matcher in self.matchers]
        name = self.metric or ""
        if name and not METRIC_NAME.fullmatch(name):  # not writable bare: `{__name__="a b"}`
            parts.insert(0, f"__name__={quote_label_value(name)}")
            name = ""
        if not parts:
            return name
        return f"{name}{{{','.join(parts)}}}"


def parse_selector(text: str) -> Selector:
    """Parse `text` into a Selector; raises SelectorError (a ValueError) naming the position of a problem."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, reason: str, position: int | None = None) -> SelectorError:
        return SelectorError(self.text, self.pos if position is None else position, reason)

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in WHITESPACE:
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> Selector:
        if not isinstance(self.text, str):
            raise TypeError(f"a selector is a string, not {type(self.text).__name__}")
        self.skip_ws()
        metric: str | None = None
        name_match = METRIC_NAME.match(self.text, self.pos)
        if name_match:
            metric = name_match.group()
            self.pos = name_match.end()
            self.skip_ws()
        elif self.peek() != "{":
            raise self.fail("expected a metric name or '{'" if self.peek() else "empty selector")
        matchers: list[LabelMatcher] = []
        braces_at = self.pos
        if self.peek() == "{":
            self.pos += 1
            matchers = self.parse_matchers()
        self.skip_ws()
        if self.pos < len(self.text):
            char = self.peek()
            reason = {
                "[": "range selectors are not supported",
                "(": "functions are not supported",
            }.get(char, f"unexpected character {char!r}")
            raise self.fail(reason)
        name_matchers = [m for m in matchers if m.name == "__name__"]
        if metric is not None and name_matchers:
            raise self.fail("metric name must not be set twice", braces_at)
        if metric is None and len(name_matchers) == 1 and name_matchers[0].op == "=":
            metric = name_matchers[0].value
            matchers = [m for m in matchers if m is not name_matchers[0]]
            if not metric:
                raise self.fail("vector selector must contain at least one non-empty matcher", braces_at)
        if metric is None and all(m.matches("") for m in matchers):
            raise self.fail("vector selector must contain at least one non-empty matcher", braces_at)
        return Selector(metric, tuple(matchers))

    def parse_matchers(self) -> list[LabelMatcher]:
        matchers: list[LabelMatcher] = []
        while True:
            self.skip_ws()
            if self.peek() == "}":
                self.pos += 1
                return matchers
            if not self.peek():
                raise self.fail("missing '}'")
            matchers.append(self.parse_matcher())
            self.skip_ws()
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char == "}":
                self.pos += 1
                return matchers
            elif not char:
                raise self.fail("missing '}'")
            else:
                raise self.fail(f"expected ',' or '}}' after a label matcher, found {char!r}")

    def parse_matcher(self) -> LabelMatcher:
        name_match = LABEL_NAME.match(self.text, self.pos)
        if not name_match:
            raise self.fail("expected a label name")
        name = name_match.group()
        self.pos = name_match.end()
        self.skip_ws()
        op = next((candidate for candidate in OPS if self.text.startswith(candidate, self.pos)), None)
        if op is None:
            raise self.fail(f"expected one of {', '.join(OPS)} after label {name!r}")
        self.pos += len(op)
        self.skip_ws()
        value_at = self.pos
        value = self.parse_string()
        regex = None
        if op in ("=~", "!~"):
            try:
                regex = compile_anchored(value)
            except UserRegexError as error:
                raise self.fail(
                    f"invalid regular expression {value!r} for label {name!r}: {error.reason}", value_at
                ) from None
        return LabelMatcher(name, op, value, regex)

    def parse_string(self) -> str:
        quote = self.peek()
        if quote not in ('"', "'", "`"):
            raise self.fail("expected a quoted label value")
        start = self.pos
        self.pos += 1
        if quote == "`":
            end = self.text.find("`", self.pos)
            if end < 0:
                raise self.fail("unterminated raw string", start)
            value = self.text[self.pos : end]
            self.pos = end + 1
            return value
        out = bytearray()
        while True:
            char = self.peek()
            if not char or char == "\n":
                raise self.fail("unterminated quoted string", start)
            if char == quote:
                self.pos += 1
                break
            if char == "\\":
                self.parse_escape(quote, out)
                continue
            out += char.encode("utf-8", "surrogatepass")
            self.pos += 1
        try:
            return out.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("string is not valid UTF-8 after escapes", start) from None

    def parse_escape(self, quote: str, out: bytearray) -> None:
        at = self.pos
        self.pos += 1
        char = self.peek()
        if not char:
            raise self.fail("unterminated escape sequence", at)
        if char in SIMPLE_ESCAPES:
            out += SIMPLE_ESCAPES[char].encode()
            self.pos += 1
        elif char == quote:
            out += quote.encode()
            self.pos += 1
        elif char in "01234567":
            digits = self.text[self.pos : self.pos + 3]
            if len(digits) != 3 or any(d not in "01234567" for d in digits) or int(digits, 8) > 255:
                raise self.fail("invalid octal escape (expected three octal digits up to \\377)", at)
            out.append(int(digits, 8))
            self.pos += 3
        elif char in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[char]
            digits = self.text[self.pos + 1 : self.pos + 1 + width]
            if len(digits) != width or any(d not in HEX_DIGITS for d in digits):
                raise self.fail(f"invalid \\{char} escape (expected {width} hex digits)", at)
            code = int(digits, 16)
            if char == "x":
                out.append(code)
            else:
                if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise self.fail(f"escape \\{char}{digits} is not a valid Unicode code point", at)
                out += chr(code).encode("utf-8")
            self.pos += 1 + width
        else:
            raise self.fail(f"unknown escape sequence \\{char}", at)
