"""Case conversions for entity names: words split at non-alphanumeric characters and at case changes, so
`InvoiceLine`, `invoiceLine`, `Invoice Line`, `INVOICE_LINE` and `invoice-line` all become `invoice_line`."""

from __future__ import annotations

import unicodedata
from itertools import groupby, pairwise


def _is_word_char(char: str) -> bool:
    # Combining marks count as letters so that lowercasing "İ" (which adds U+0307) cannot split a word.
    return char.isalnum() or unicodedata.category(char).startswith("M")


def _is_upper(char: str) -> bool:
    # "Changes when lowercased" rather than isupper(), so title-case letters count and lowercased output
    # never contains a word boundary again (which keeps snake_case idempotent).
    return char.lower() != char


def _starts_word(segment: str, index: int) -> bool:
    if not _is_upper(segment[index]):
        return False
    if not _is_upper(segment[index - 1]):
        return True  # invoiceLine, v2Log
    following = segment[index + 1 : index + 2]
    return following.isalpha() and not _is_upper(following)  # the S in HTTPServer


def _split_camel(segment: str) -> list[str]:
    starts = [i for i in range(1, len(segment)) if _starts_word(segment, i)]
    bounds = [0, *starts, len(segment)]
    return [segment[start:end] for start, end in pairwise(bounds)]


def split_words(value: str) -> list[str]:
    """The words of `value`: runs of letters and digits, further split where the case changes."""
    words: list[str] = []
    for is_word, chars in groupby(value, key=_is_word_char):
        if is_word:
            words.extend(_split_camel("".join(chars)))
    return words


def snake_case(value: str) -> str:
    return "_".join(word.lower() for word in split_words(value))


def _capitalized(word: str) -> str:
    lowered = word.lower()
    return lowered[:1].upper() + lowered[1:]


def pascal_case(value: str) -> str:
    return "".join(_capitalized(word) for word in split_words(value))


def camel_case(value: str) -> str:
    words = split_words(value)
    if not words:
        return ""
    return words[0].lower() + "".join(_capitalized(word) for word in words[1:])
