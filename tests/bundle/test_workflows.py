"""The GitHub workflows, checked offline: valid workflows, clean under zizmor, actions pinned
to commits, the Databricks CLI pinned, prod behind a reviewed environment per domain."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lakehouse.bundle.changes import changed_domains
from lakehouse.bundle.databricks_cli import CLI_VERSION
from tests.bundle.conftest import REPO

WORKFLOWS = sorted((REPO / ".github/workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def _workflow(name: str) -> dict:
    return yaml.load((REPO / ".github/workflows" / name).read_text(), Loader=yaml.BaseLoader)


def test_the_workflows_are_valid_github_workflows():
    checker = shutil.which("check-jsonschema", path=str(BIN))
    run = subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert [w.name for w in WORKFLOWS] == ["deploy.yml", "pull-request.yml"]


def test_the_workflows_are_clean_under_zizmor():
    zizmor = shutil.which("zizmor", path=str(BIN))
    run = subprocess.run(
        [zizmor, "--offline", str(REPO / ".github/workflows")], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No findings" in run.stdout + run.stderr


def test_actions_are_pinned_to_commits_and_the_cli_to_the_bundle_version():
    bundle = yaml.safe_load((REPO / "databricks.yml").read_text())
    assert bundle["bundle"]["databricks_cli_version"] == CLI_VERSION
    for workflow in WORKFLOWS:
        text = workflow.read_text()
        for action in re.findall(r"uses:\s*(\S+)", text):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), (workflow.name, action)
        assert f'DATABRICKS_CLI_VERSION: "{CLI_VERSION}"' in text
        assert text.count("databricks/setup-cli@") == text.count(
            "version: ${{ env.DATABRICKS_CLI_VERSION }}"
        )


def test_pull_requests_run_the_suite_the_contract_check_and_a_plan_per_changed_domain():
    jobs = _workflow("pull-request.yml")["jobs"]
    assert any(s.get("run") == "bash .ci/run" for s in jobs["test"]["steps"])
    assert any("contracts-diff" in s.get("run", "") for s in jobs["contracts"]["steps"])
    bundle = jobs["bundle"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in bundle["if"]
    assert bundle["permissions"]["id-token"] == "write"
    runs = [s.get("run", "") for s in bundle["steps"]]
    assert 'databricks bundle validate --strict -t "$TARGET"' in runs
    assert 'databricks bundle plan -t "$TARGET"' in runs
    assert bundle["env"]["TARGET"] == "${{ matrix.domain }}-dev"
    assert "setup-cli" in str(jobs["test"]["steps"])  # the suite runs the real CLI offline
    assert "id-token" not in str(jobs["test"].get("permissions", {}))


def test_no_workspace_credential_reaches_a_pull_requests_code_before_a_person_allows_it():
    workflow = _workflow("pull-request.yml")
    assert workflow["on"] == {"pull_request": ""}  # never pull_request_target
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        credentials = "id-token" in str(job.get("permissions", {})) or "DATABRICKS" in str(job.get("env", {}))  # fmt: skip
        if credentials:  # only behind an environment whose reviewers read the change first
            assert name == "bundle" and job["environment"].endswith("-pr-plan"), name


def test_merges_promote_dev_then_test_then_prod_behind_a_reviewed_environment():
    jobs = _workflow("deploy.yml")["jobs"]
    assert jobs["test"]["needs"] == ["changed", "dev"] and jobs["prod"]["needs"] == ["changed", "test"]  # fmt: skip
    for env in ("dev", "test", "prod"):
        assert jobs[env]["environment"] == f"${{{{ matrix.domain }}}}-{env}"
        assert jobs[env]["concurrency"]["group"] == f"deploy-${{{{ matrix.domain }}}}-{env}"
        assert jobs[env]["concurrency"]["cancel-in-progress"] == "false"
    assert any("bundle run" in s.get("run", "") for s in jobs["dev"]["steps"])  # the smoke job


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["domains/sales/pipelines/gold.py"], ["sales"]),
        (["domains/sales/tests/test_gold.py", "README.md"], ["sales"]),
        # a registry entry and contracts also build the platform's foundation
        (["domains/hr/domain.yml"], ["hr", "platform"]),
        (["domains/finance/contracts/x.yaml"], ["finance", "platform"]),
        (["docs/bundle.md"], []),
        (["domains/platform.yml"], ["platform"]),
        # the platform declares the sandpits and applies every domain's shares
        (["sandpits/churn_ideas.yml"], ["platform"]),
        (["domains/sales/shares/partner_revenue.yml"], ["platform", "sales"]),
        (["src/lakehouse/governance/share_job.py"], ["platform"]),
        # code the deployed pipelines and jobs import, however indirectly
        (["src/lakehouse/ingestion/silver.py"], ["finance", "hr", "sales"]),
        (["src/lakehouse/engine/errors.py"], ["finance", "hr", "platform", "sales"]),
        (["src/lakehouse/engine/graph/elements.py"], ["finance", "hr", "platform", "sales"]),
        (["src/lakehouse/schema_errors.py"], ["finance", "hr", "platform", "sales"]),
        (["src/lakehouse/platform/domains.py"], ["finance", "hr", "platform", "sales"]),
        # the grants job's local reader, imported by every domain's monitoring job too
        (["src/lakehouse/engine/storage/catalog.py"], ["finance", "hr", "platform", "sales"]),
        (["src/lakehouse/operations/observations.py"], ["finance", "hr", "sales"]),
        (["src/lakehouse/scoring/job.py"], ["sales"]),  # the one domain with a model
        # the local engine alone ships nowhere
        (["src/lakehouse/engine/execution/update.py", "src/lakehouse/demo.py"], []),
        (["databricks.yml"], ["finance", "hr", "platform", "sales"]),
        (["uv.lock"], ["finance", "hr", "platform", "sales"]),
    ],
)
def test_a_change_touches_the_targets_that_are_built_from_or_ship_it(files, expected):
    assert changed_domains(REPO, files) == expected
