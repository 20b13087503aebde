"""``lakehouse test``: pytest with the testing kit (``lakehouse.testing``), in the warm engine
when one runs, so that the tests' Spark session is the resident driver's and no JVM starts."""

from __future__ import annotations

import io
import sys

import typer

_ALREADY_IMPORTED = "Module already imported so cannot be rewritten; lakehouse"


def test_command(ctx: typer.Context) -> None:
    """Run pytest with these arguments (paths, -k EXPR, -x, ...): in the warm engine when one
    runs (lakehouse engine start), cold otherwise. Exits with pytest's code."""
    import pytest

    # The kit's plugin is this package, imported before pytest could rewrite its asserts.
    args = ["-W", f"ignore:{_ALREADY_IMPORTED}:pytest.PytestAssertRewriteWarning", *ctx.args]
    if not _has_file_descriptor(sys.stdout):  # the warm engine streams output to its client
        args.append("--capture=sys")
    raise typer.Exit(int(pytest.main(args)))


def _has_file_descriptor(stream: object) -> bool:
    try:
        stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, io.UnsupportedOperation):
        return False
    return True
