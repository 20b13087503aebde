"""A copy of the repository's bundle per test, to break on purpose: the bundle files, the
lakehouse package (which the targets sync, and the bundle builds into a wheel with ./dev) and
the environment the CLI builds with."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

from lakehouse.bundle.databricks_cli import CLI_ENV, CliNotFound, find_cli
from lakehouse.bundle.validate import SCHEMA_ENV, SCHEMA_FILE

REPO = Path(__file__).resolve().parents[2]
SHARED_SCHEMA = REPO.parent / "shared" / "reference" / SCHEMA_FILE
IGNORE = shutil.ignore_patterns("__pycache__", ".databricks")


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundle's files under tmp_path, with the CLI and its schema found as in the
    repository (the copy has no ../shared of its own)."""
    root = tmp_path / "bundle"
    root.mkdir()
    for name in ("databricks.yml", "domains/platform.yml", ".gitignore", ".github/CODEOWNERS",
                 "dev", "pyproject.toml", "README.md"):  # fmt: skip
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, root / name)
    for name in ("resources", "src", "sandpits"):
        shutil.copytree(REPO / name, root / name, ignore=IGNORE)
    (root / ".venv").symlink_to(REPO / ".venv")  # databricks.yml's python.venv_path
    for domain in (REPO / "domains").glob("*/domain.yml"):
        for part in ("domain.yml", "contracts", "pipelines", "resources", "models"):
            source, target = domain.parent / part, root / "domains" / domain.parent.name / part
            if source.is_dir():
                shutil.copytree(source, target, ignore=IGNORE)
            elif source.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, target)
    if SHARED_SCHEMA.is_file():
        monkeypatch.setenv(SCHEMA_ENV, str(SHARED_SCHEMA))
    with contextlib.suppress(CliNotFound):  # the tests that need the CLI say so
        monkeypatch.setenv(CLI_ENV, str(find_cli(REPO).path))
    return root


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new, 1))
