"""Pairs of contract versions to compare: two files, or the working tree against a git ref."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

from lakehouse.contracts.loader import DOMAIN_CONTRACTS, find_contracts, load_contract
from lakehouse.contracts.model import DataContract

Pair = tuple[str, DataContract | None, DataContract | None]


def contract_pairs(paths: list[Path], against: str | None) -> Iterator[Pair]:
    """(label, old, new) per contract: ``paths`` is OLD and NEW, or, with ``against`` (a git
    ref), the contract files under ``paths`` (default: every domain's) now and at that ref. A
    contract only in one of them has None on the other side.

    Example:
        >>> [label for label, _, _ in contract_pairs([], "origin/main")]  # doctest: +SKIP
        ['domains/sales/contracts/crm_customers.yaml']
    """
    if against is None:
        old, new = paths
        yield f"{old} -> {new}", load_contract(old), load_contract(new)
        return
    now = {str(f): f for f in find_contracts(paths)}
    listed = _files_at(against, paths or [Path("domains")])
    before = {n for n in listed if paths or fnmatch(n, f"{DOMAIN_CONTRACTS}/*")}
    for name in sorted(now.keys() | before):
        old = load_contract(Path(name), _text_at(against, name)) if name in before else None
        new = load_contract(now[name]) if name in now else None
        yield name, old, new


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def _files_at(ref: str, folders: list[Path]) -> list[str]:
    """The ``.yaml`` files under ``folders`` at ``ref``, relative to the current folder."""
    listed = _git("ls-tree", "-r", "--name-only", ref, "--", *map(str, folders))
    return [name for name in listed.splitlines() if name.endswith(".yaml")]


def _text_at(ref: str, name: str) -> str:
    return _git("show", f"{ref}:./{name}")
