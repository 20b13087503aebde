"""`lakehouse domain new` scaffolds a domain that validates, runs and passes its own test at
once; `lakehouse domain list` shows it."""

from __future__ import annotations

from typer.testing import CliRunner

from lakehouse.bundle.validate import validate_bundle
from lakehouse.cli import app
from lakehouse.contracts import find_contracts, load_contract
from lakehouse.platform.domains import Domain


def _new(bundle, *extra: str):
    return CliRunner().invoke(app, [
        "domain", "new", "marketing", "--owner", "cmo@example.com", "--cost-centre", "CC-130",
        "--root", str(bundle), *extra,
    ])  # fmt: skip


def test_a_new_domain_validates_and_runs_end_to_end(bundle, lakehouse):
    created = _new(bundle)
    assert created.exit_code == 0, created.output
    folder = bundle / "domains" / "marketing"
    (contract,) = [load_contract(f) for f in find_contracts([folder / "contracts"])]
    assert (contract.domain, contract.source_system) == ("marketing", "marketing_app")

    # the targets were synced too; the real CLI checks it in test_databricks_cli
    report = validate_bundle(bundle, ["marketing-prod"], use_cli=False)
    assert report.problems == {}
    codeowners = (bundle / ".github/CODEOWNERS").read_text()
    assert "/domains/marketing/ @example-org/marketing-data-engineers\n" in codeowners

    run = lakehouse.run_batches(Domain(folder), [0])
    assert run.conservation_problems() == [] and run.quarantine_problems() == []
    assert run.runs[0].pipelines["marketing_gold"].rows_written("daily_events") > 0

    listed = CliRunner().invoke(app, ["domain", "list", "--root", str(bundle)])
    assert "marketing" in listed.output and "marketing-prod" in listed.output


def test_a_new_domain_with_its_gold_in_sql_passes_its_own_test(bundle, pytester):
    created = _new(bundle, "--sql")
    assert created.exit_code == 0, created.output
    folder = bundle / "domains" / "marketing"
    assert [p.name for p in (folder / "pipelines").iterdir()] == ["gold.sql"]
    # its own test, run by pytest as the domain's team would, with the kit's plugin alone (the
    # Python gold runs end to end in the test above)
    own_test = pytester.runpytest_inprocess(folder / "tests", "--import-mode=importlib")
    own_test.assert_outcomes(passed=1)


def test_a_domain_that_exists_or_a_bad_name_is_refused(bundle):
    assert _new(bundle).exit_code == 0
    again = _new(bundle)
    assert again.exit_code == 1 and "exists already" in again.output
    bad = CliRunner().invoke(app, [
        "domain", "new", "Sales-EU", "--owner", "x@example.com", "--cost-centre", "CC-1",
        "--root", str(bundle),
    ])  # fmt: skip
    assert bad.exit_code == 1 and "expected a lower-case identifier" in bad.output
    # `$` would let a trailing newline through, and the folder would break `domain list`
    newline = CliRunner().invoke(app, [
        "domain", "new", "evil\n", "--owner", "x@example.com", "--cost-centre", "CC-1",
        "--root", str(bundle),
    ])  # fmt: skip
    assert newline.exit_code == 1 and "expected a lower-case identifier" in newline.output
    assert sorted(p.name for p in (bundle / "domains").iterdir() if p.is_dir()) == ["finance", "hr", "marketing", "sales"]  # fmt: skip
    level = _new(bundle, "--self-service", "sometimes")
    assert level.exit_code == 2  # a usage error, listing the levels
    assert "'sometimes' is not one of 'self-serve', 'managed'" in " ".join(level.output.split())


def test_a_domain_that_fails_half_way_leaves_nothing_behind(bundle):
    before = {
        name: (bundle / name).read_text()
        for name in ("resources/targets.yml", ".github/CODEOWNERS")
    }
    failed = CliRunner().invoke(app, [
        "domain", "new", "marketing", "--owner", "not-an-email", "--cost-centre", "CC-130",
        "--root", str(bundle),
    ])  # fmt: skip
    assert failed.exit_code == 1
    assert (
        "domains/marketing/domain.yml:5: owner: expected the data owner's e-mail" in failed.output
    )
    assert "nothing was created" in failed.output and "Traceback" not in failed.output
    assert not (bundle / "domains/marketing").exists()
    assert {name: (bundle / name).read_text() for name in before} == before
