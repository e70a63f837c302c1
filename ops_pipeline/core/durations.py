"""Durations as people write them in configuration: `90s`, `30m`, `1h`, `1d`, `1h30m`."""

from __future__ import annotations

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)([smhdw])")


def parse_duration(text: str) -> int:
    """Whole seconds of a duration such as `1h30m`; ValueError that shows the expected form."""
    cleaned = text.strip().lower()
    parts = _PART.findall(cleaned)
    if not cleaned or "".join(f"{n}{u}" for n, u in parts) != cleaned:
        raise ValueError(f"{text!r} is not a duration; write e.g. 90s, 30m, 1h, 1d or 1h30m")
    return sum(int(number) * UNITS[unit] for number, unit in parts)


def format_duration(seconds: int) -> str:
    """The shortest exact spelling of whole seconds in the units `parse_duration` reads: `1d2h`, `90s`, `0s`."""
    if seconds == 0:
        return "0s"
    parts = []
    rest = seconds
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
