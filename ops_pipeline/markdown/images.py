"""PNG charts embedded in markdown metadata, so the Dagster UI shows the picture itself, not a file path."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path


def embedded_png(path: Path, caption: str) -> str:
    """A markdown image whose source is the PNG itself (a data URI): the UI needs no access to the file."""
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    alt = caption.replace("[", "(").replace("]", ")")
    return f"![{alt}](data:image/png;base64,{encoded})"


def charts_markdown(charts: Iterable[tuple[str, Path]]) -> str:
    """Each chart under its caption; one paragraph per chart."""
    return "\n\n".join(f"`{caption}`\n\n{embedded_png(path, caption)}" for caption, path in charts)
