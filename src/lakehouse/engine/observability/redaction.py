"""Secret values kept out of everything the engine reports.

A secret read through ``dbutils.secrets`` is registered here; ``redacted`` replaces each
registered value in a text with ``[REDACTED]``, as Databricks shows secrets. The event log,
error reports and the CLI's error line pass their text through it.
"""

from __future__ import annotations

import threading

REDACTED = "[REDACTED]"
_secrets: set[str] = set()
_lock = threading.Lock()


def redact(value: str) -> None:
    """Keep ``value`` out of what the engine reports from now on.

    Example:
        >>> redact("s3cr3t-token"); redacted("login with s3cr3t-token failed")
        'login with [REDACTED] failed'
    """
    if value:
        with _lock:
            _secrets.add(value)


def redacted(text: str) -> str:
    """``text`` with every registered secret replaced, longest first (a secret that contains
    another is replaced whole)."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text
