"""Secrets and personal data out of every text a run writes: logs, errors, step output, artifacts, event records.

`Masker.mask(text)` replaces what it finds with `***`, keeping what tells a reader what was there
(`password=***`, `postgresql://ops:***@db/shop`, `Authorization: Bearer ***`). It masks:

1. exact secret values registered at run time (`add_secret`, `with_secrets`), in their raw, URL-encoded,
   JSON-escaped and repr() forms; values shorter than 4 characters are not registered, since masking every
   `abc` would garble text and reveal more than it hides;
2. the default patterns of `secret_patterns` (passwords, URL credentials, auth headers, API tokens, AWS keys,
   private key blocks, JWTs, connection strings, emails, card numbers);
3. configured extra patterns (regular expressions without capturing groups; the whole match is masked).

Guarantees, property-tested: `mask` never raises on any string; no registered secret survives, whatever
surrounds it; masking is idempotent, `mask(mask(x)) == mask(x)`. A mask can change what its neighbours match
(a value that stopped a pattern becomes `***`), so the steps (private keys, line patterns, card numbers, extra
patterns) repeat until none of them changes the text.

For structures use `mask_value`, and for JSON text `mask_json_text`: they mask every string, and mask whole any
scalar under a secret-looking key (`{"password": "hunter2"}` -> `{"password": "***"}`), which text patterns
cannot see once the value sits apart from its key. `mask` is for plain text: on the text of a JSON document
it can cut into an escape (`\\nalice@example.com`) or join a value to the structure around it
(`{"a": "token=", "b": 1}`).

Speed: the single-line patterns form one compiled alternation that runs only on the lines containing one of
their trigger words, and only with the families those words call for; private keys, card numbers, registered
secrets and extra patterns take one scan of the text each. A megabyte of log text takes a few tens of ms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from string import ascii_lowercase, ascii_uppercase
from urllib.parse import quote, quote_plus

from ops_pipeline.core.execution.secret_patterns import (
    CARD,
    LINE_FAMILIES,
    PRIVATE_KEY,
    Family,
    alternation,
    extra_family,
    is_secret_key,
    trigger_regex,
)

__all__ = ["MASK", "MIN_SECRET_LENGTH", "Masker", "is_secret_key"]

MASK = "***"
MIN_SECRET_LENGTH = 4  # longer than MASK, so removing secrets always shortens the text and terminates
MAX_ROUNDS = 8  # rounds of all steps; real text settles in one or two

_LINE_TRIGGERS = trigger_regex(LINE_FAMILIES)
_FAMILIES_BY_TRIGGER = {
    trigger: tuple(family.name for family in LINE_FAMILIES if trigger in family.triggers)
    for trigger in sorted({trigger for family in LINE_FAMILIES for trigger in family.triggers})
}
_PRIVATE_KEY = alternation([PRIVATE_KEY])
_CARD = alternation([CARD])
_ASCII_LOWER = str.maketrans(ascii_uppercase, ascii_lowercase)
_FAMILIES = {family.name: family for family in (*LINE_FAMILIES, PRIVATE_KEY, CARD)}

Step = Callable[[str], str]


def _replace(match: re.Match[str], families: Mapping[str, Family] = _FAMILIES) -> str:
    family = families[match.lastgroup or ""]
    text = match.group()
    if family.check is not None and not family.check(text):
        return text
    base = match.start()
    for group in family.masked_groups:
        start, end = match.span(group)
        if start >= 0:
            return text[: start - base] + MASK + text[end - base :]
    return MASK


def _settled(regex: re.Pattern[str], replace: Callable[[re.Match[str]], str], text: str) -> str:
    """`regex` applied until the text stops changing."""
    for _ in range(MAX_ROUNDS):
        again = regex.sub(replace, text)
        if again == text:
            break
        text = again
    return text


def _mask_private_keys(text: str) -> str:
    return _settled(_PRIVATE_KEY, _replace, text) if "-----BEGIN " in text else text


def _mask_cards(text: str) -> str:
    return _settled(_CARD, _replace, text)


@lru_cache(maxsize=256)
def _line_alternation(names: frozenset[str]) -> re.Pattern[str]:
    return alternation(family for family in LINE_FAMILIES if family.name in names)


def _mask_lines(text: str, prefilter: bool = True) -> str:
    """The line families applied until settled, line by line (no line family matches across a line break).

    With the prefilter only lines that contain a trigger are searched, and only for the families whose triggers
    they contain: a family cannot match where none of its triggers occurs, so the result is the same as the
    alternation of every family over the whole text, which is what `prefilter=False` runs.
    """
    if not prefilter:
        return _settled(_line_alternation(frozenset(family.name for family in LINE_FAMILIES)), _replace, text)
    return "".join(_masked_segments(text))


def _masked_segments(text: str) -> Iterator[str]:
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters (İ) lowercase to two characters; keep positions aligned
        lowered = text.translate(_ASCII_LOWER)
    done = 0
    hit = _LINE_TRIGGERS.search(lowered)
    while hit is not None:
        start = text.rfind("\n", 0, hit.start()) + 1
        end = _line_end(text, hit.end())
        hit = _LINE_TRIGGERS.search(lowered, end)
        while hit is not None and text.rfind("\n", 0, hit.start()) == end:  # the next line has a trigger too
            end = _line_end(text, hit.end())
            hit = _LINE_TRIGGERS.search(lowered, end)
        yield text[done:start]
        yield _settled(_line_alternation(_families_called_for(lowered[start:end])), _replace, text[start:end])
        done = end
    yield text[done:]


def _line_end(text: str, position: int) -> int:
    end = text.find("\n", position)
    return len(text) if end < 0 else end


def _families_called_for(lowered_segment: str) -> frozenset[str]:
    return frozenset(
        name for trigger, names in _FAMILIES_BY_TRIGGER.items() if trigger in lowered_segment for name in names
    )


def _forms(secret: str) -> set[str]:
    """The spellings a secret takes in logs: raw, URL-encoded, JSON-escaped, repr()."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
    }
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def _literal_alternation(secrets: frozenset[str]) -> re.Pattern[str] | None:
    if not secrets:
        return None
    longest_first = sorted(secrets, key=lambda secret: (-len(secret), secret))
    return re.compile("|".join(re.escape(secret) for secret in longest_first))


class Masker:
    """Masks registered secret values, the default secret patterns and configured extra patterns."""

    def __init__(self, extra_patterns: Iterable[str] = (), secrets: Iterable[str] = ()) -> None:
        self._extra_patterns = tuple(extra_patterns)
        extras = [extra_family(index, pattern, MASK) for index, pattern in enumerate(self._extra_patterns)]
        self._extras = alternation(extras) if extras else None
        self._extra_families = {family.name: family for family in extras}
        self._secrets: frozenset[str] = frozenset()
        self._secret_regex: re.Pattern[str] | None = None
        self._mask_may_complete_secret = False
        self._register(secrets)

    @property
    def extra_patterns(self) -> tuple[str, ...]:
        return self._extra_patterns

    def add_secret(self, value: str) -> bool:
        """Mask `value` from now on; False (and nothing registered) when it is shorter than 4 characters."""
        return self._register([value])

    def with_secrets(self, values: Iterable[str]) -> Masker:
        """A new masker with these secrets added; this one is unchanged."""
        return Masker(self._extra_patterns, [*self._secrets, *values])

    def _register(self, values: Iterable[str]) -> bool:
        added = {form for value in values if len(value) >= MIN_SECRET_LENGTH for form in _forms(value)}
        if added - self._secrets:
            secrets = self._secrets | added
            self._secret_regex = _literal_alternation(secrets)
            self._secrets = secrets
            # A mask keeps the text around it as it was, so only a secret containing "*" can be completed by
            # one; only then must secrets be removed again after the patterns.
            self._mask_may_complete_secret = any("*" in secret for secret in secrets)
        return bool(added)

    # ---- text

    def mask(self, text: str) -> str:
        """`text` with every secret replaced by `***`; never raises, and mask(mask(x)) == mask(x)."""
        return self._masked_until_settled(self._without_secrets(text), self._steps())

    def _steps(self) -> list[Step]:
        steps: list[Step] = [_mask_private_keys, _mask_cards, _mask_lines]
        if self._extras is not None:
            steps.append(self._mask_extras)
        if self._mask_may_complete_secret:
            steps.append(self._without_secrets)
        return steps

    @staticmethod
    def _masked_until_settled(text: str, steps: list[Step]) -> str:
        # Every step is idempotent on its own, so after a change only the other steps need to run again;
        # once all of them leave the text as it is, it is settled.
        to_confirm = len(steps)
        for applied in range(MAX_ROUNDS * len(steps)):
            if not to_confirm:
                break
            again = steps[applied % len(steps)](text)
            to_confirm = len(steps) - 1 if again != text else to_confirm - 1
            text = again
        return text

    def _mask_extras(self, text: str) -> str:
        assert self._extras is not None
        return _settled(self._extras, lambda match: _replace(match, self._extra_families), text)

    def _without_secrets(self, text: str) -> str:
        if self._secret_regex is None:
            return text
        text, count = self._secret_regex.subn(MASK, text)
        while count and self._mask_may_complete_secret:  # every round shortens the text, so this ends
            text, count = self._secret_regex.subn(MASK, text)
        return text

    # ---- structures

    def mask_value(self, value: object) -> object:
        """`value` with every string masked, recursively through mappings, lists and tuples; keys are kept,
        a non-empty scalar under a secret-looking key is masked whole, and other values are returned as they are
        (turn objects into JSON values first, as `artifacts.jsonable` does, to have their text masked)."""
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, Mapping):
            return {key: self._entry(key, item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.mask_value(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.mask_value(item) for item in value)
        return value

    def mask_json_text(self, text: str) -> str:
        """A JSON document masked through `mask_value` and serialised again, so it stays valid JSON (text
        patterns alone could join a value to the structure around it); text that is not JSON goes to `mask`."""
        try:
            return json.dumps(self.mask_value(json.loads(text)), ensure_ascii=False)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python recurses
            return self.mask(text)

    def _entry(self, key: object, item: object) -> object:
        if isinstance(key, str) and is_secret_key(key) and _is_secret_scalar(item):
            return MASK
        return self.mask_value(item)


def _is_secret_scalar(item: object) -> bool:
    if isinstance(item, bool) or item is None:
        return False
    if isinstance(item, str | bytes):
        return len(item) > 0
    return isinstance(item, int | float)
