"""A copy of the repository's bundle files per test, to break on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lakehouse.bundle.validate import SCHEMA_ENV, SCHEMA_FILE

REPO = Path(__file__).resolve().parents[2]
SHARED_SCHEMA = REPO.parent / "shared" / "reference" / SCHEMA_FILE


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundle's files (databricks.yml, the registry, resources, the domains' contracts,
    pipelines and resources) under tmp_path, with the CLI's schema found as in the repository."""
    root = tmp_path / "bundle"
    root.mkdir()
    for name in ("databricks.yml", "platform.yml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "resources", root / "resources", ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    for domain in (REPO / "domains").glob("*/domain.yml"):
        for part in ("domain.yml", "contracts", "pipelines", "resources"):
            source, target = domain.parent / part, root / "domains" / domain.parent.name / part
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, target)
    if SHARED_SCHEMA.is_file():
        monkeypatch.setenv(SCHEMA_ENV, str(SHARED_SCHEMA))
    return root


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new, 1))
