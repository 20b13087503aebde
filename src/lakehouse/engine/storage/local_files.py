"""Small files the engine keeps beside its tables (Auto Loader schema versions, inputs
fingerprints, re-read logs): each written whole or not at all."""

from __future__ import annotations

from pathlib import Path


def write_atomically(file: Path, text: str) -> None:
    """Write ``text`` to ``file`` so that a run killed meanwhile leaves the old file or the new
    one, never half of one (a hidden temporary file, then a rename).

    Example:
        >>> write_atomically(Path("/tmp/lh/state/0"), '{"fields": []}')  # doctest: +SKIP
    """
    file.parent.mkdir(parents=True, exist_ok=True)
    temporary = file.with_name(f".{file.name}.tmp")
    temporary.write_text(text)
    temporary.replace(file)
