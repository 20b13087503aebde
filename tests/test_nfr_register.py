"""The NFR register (docs/nfr.md): every requirement names a test or benchmark that exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REQUIRED = ("Landing to reporting", "Availability", "Recovery point", "Recovery time", "Users",
            "Land once", "Sharing with third parties")  # fmt: skip
PROOF = re.compile(r"`((?:tests|benchmarks|domains)/[\w/.-]+\.py)(?:::(\w+))?`")


def _entries() -> dict[str, str]:
    rows = [line for line in (REPO / "docs/nfr.md").read_text().splitlines() if line.startswith("| ")]  # fmt: skip
    return {row.split("|")[1].strip(): row.split("|")[4] for row in rows[1:]}  # after the header


def test_every_requirement_names_a_test_or_benchmark_that_exists():
    entries = _entries()
    assert all(any(name.startswith(r) for name in entries) for r in REQUIRED), sorted(entries)
    for requirement, shown_by in entries.items():
        proofs = PROOF.findall(shown_by)
        assert proofs, f"{requirement}: names no test or benchmark"
        for file, function in proofs:
            assert (REPO / file).is_file(), f"{requirement}: no {file}"
            if function:
                tree = ast.parse((REPO / file).read_text())
                defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
                assert function in defined, f"{requirement}: no {function} in {file}"
