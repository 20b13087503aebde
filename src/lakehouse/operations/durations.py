"""Durations as people say them, for the operational commands and the run report."""

from __future__ import annotations

import datetime as dt

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def span(value: dt.timedelta | None, *, decimals: int = 0) -> str:
    """The largest unit that fits: ``45s``, ``12m``, ``3h``, ``2d``; ``-`` for None; negative
    durations (clocks apart) as ``0s``.

    Example:
        >>> span(dt.timedelta(hours=36)), span(dt.timedelta(hours=36), decimals=1)
        ('1d', '1.5d')
        >>> span(dt.timedelta(seconds=24.4), decimals=1), span(None)
        ('24.4s', '-')
    """
    if value is None:
        return "-"
    seconds = max(0.0, value.total_seconds())
    unit, size = next((u, s) for u, s in _UNITS if seconds >= s or s == 1)
    amount = seconds / size
    return f"{amount:.{decimals}f}{unit}" if decimals else f"{int(amount)}{unit}"


def ago(now: dt.datetime, at: dt.datetime | None) -> str:
    """How long before ``now`` ``at`` was, or ``never``.

    Example:
        >>> now = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
        >>> ago(now, now - dt.timedelta(minutes=5)), ago(now, None)
        ('5m ago', 'never')
    """
    return "never" if at is None else f"{span(now - at)} ago"
