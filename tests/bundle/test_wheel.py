"""Deployed code ships as the project's wheel: the bundle's artifact builds it with the same
command a developer runs, and the jobs and pipelines that install it find what they run in it."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import yaml

from lakehouse.bundle.resources import PROJECT_WHEEL, build_target
from tests.bundle.conftest import REPO


def test_the_bundle_artifact_builds_a_wheel_with_the_jobs_entry_points_and_dependencies(
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
    # Every platform job runs an entry point the wheel declares, of a module it holds.
    jobs = build_target(REPO, "platform", "prod").jobs
    assert sorted(jobs) == ["platform_deep_clone", "platform_sandpit_cleanup", "platform_shares", "platform_table_grants"]  # fmt: skip
    declared = dict(line.split(" = ") for line in entry_points.splitlines() if " = " in line)
    for job, _ in jobs.values():
        entry_point = job.as_dict()["tasks"][0]["python_wheel_task"]["entry_point"]
        module = declared[entry_point].split(":")[0]
        assert f"{module.replace('.', '/')}.py" in names, entry_point
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
