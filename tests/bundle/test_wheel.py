"""Deployed code ships as the project's wheel: the bundle's artifact builds it with the same
command a developer runs, and the jobs and pipelines that install it find what they run in it."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import yaml

from lakehouse.bundle.resources import PROJECT_WHEEL, build_target
from tests.bundle.conftest import REPO


def test_the_bundle_artifact_builds_a_wheel_with_the_grants_entry_point_and_dependencies(
    tmp_path: Path,
):
    artifact = yaml.safe_load((REPO / "databricks.yml").read_text())["artifacts"]["lakehouse"]
    assert (artifact["type"], artifact["path"]) == ("whl", ".")
    build = [*artifact["build"].split(), "--out-dir", str(tmp_path)]
    run = subprocess.run(build, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    (wheel,) = tmp_path.glob("lakehouse-*.whl")
    assert Path(PROJECT_WHEEL).parent == Path("dist")  # the build's default folder
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (info,) = {n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA")}
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        metadata = archive.read(f"{info}/METADATA").decode()
    job = build_target(REPO, "platform", "prod").jobs["platform_table_grants"][0].as_dict()
    task = job["tasks"][0]["python_wheel_task"]
    assert f"{task['entry_point']} = lakehouse.governance.table_grants:main" in entry_points
    assert "lakehouse/governance/table_grants.py" in names
    assert "lakehouse/engine/spark_conf/log4j2.properties" in names
    for needed in ("sqlglot", "jsonschema", "open-data-contract-standard"):
        assert f"Requires-Dist: {needed}" in metadata


def test_ingestion_pipelines_install_the_wheel_and_run_their_source_from_its_own_folder():
    pipeline = build_target(REPO, "sales", "prod").pipelines["crm_ingestion"][0].as_dict()
    assert pipeline["environment"]["dependencies"] == [PROJECT_WHEEL]
    (library,) = pipeline["libraries"]
    source = library["file"]["path"]
    assert (REPO / source).is_file()
    assert pipeline["root_path"] == str(Path(source).parent)
