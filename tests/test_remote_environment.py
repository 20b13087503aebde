"""The workspace environment (databricks-connect) is a project of its own, remote/: resolving
it plans remote/.venv with databricks-connect, and leaves the local .venv (open-source pyspark)
as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UV = os.environ.get("UV") or shutil.which("uv")


def _site_packages(venv: Path) -> dict[str, int]:
    (site,) = venv.glob("lib/python*/site-packages")
    return {entry.name: entry.stat().st_mtime_ns for entry in site.iterdir()}


@pytest.mark.skipif(UV is None, reason="uv is not found (./dev installs it)")
def test_resolving_the_remote_environment_plans_its_own_venv_and_leaves_dot_venv_untouched():
    before = _site_packages(REPO / ".venv")
    environment = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}  # fmt: skip
    run = subprocess.run(
        [UV, "sync", "--locked", "--project", "remote", "--dry-run"],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "project environment at: remote/.venv" in output
    assert "databricks-connect==" in output
    assert "pyspark==" not in output  # databricks-connect brings its own client
    after = _site_packages(REPO / ".venv")
    assert after == before
    assert any(name.startswith("pyspark-4.2.0") for name in after)
    assert not any(name.startswith("databricks_connect") for name in after)
