"""Seeded sample data: the same batch gives the same files, every batch carries each kind of
defect the contract allows, and a generator that drifts from its contract is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.contracts import load_contract
from lakehouse.engine.errors import ConfigurationError
from lakehouse.platform.domains import DOMAINS, find_domains
from lakehouse.sample_data import DatasetSample, Outcome, land_domain, sample_batch

CUSTOMERS = load_contract(DOMAINS / "sales" / "contracts" / "crm_customers.yaml")


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.json"))}


def test_the_same_batch_lands_the_same_files(tmp_path):
    for domain in find_domains():
        land_domain(domain.folder, tmp_path / "a", 2)
        land_domain(domain.folder, tmp_path / "b", 2)
    first, again = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first == again
    assert "crm/orders/batch-0002.json" in first and "hris/employees/batch-0002.json" in first
    land_domain(DOMAINS / "sales", tmp_path / "c", 3)
    assert (
        _files(tmp_path / "c")["crm/orders/batch-0003.json"] != first["crm/orders/batch-0002.json"]
    )


@pytest.mark.parametrize("batch", [0, 1])
def test_every_batch_carries_each_defect_the_contract_allows(tmp_path, batch):
    for domain in find_domains():
        for landed in land_domain(domain.folder, tmp_path, batch):
            contract = landed.contract
            kinds = {r.kind for r in landed.records}
            rules = {f"rule:{q.name}" for q in contract.quality if q.action.value != "fail"}
            assert rules <= kinds, contract.dataset
            assert {"clean", "late", "unknown_column", "unreadable"} <= kinds
            assert any(k.startswith("malformed:") for k in kinds)
            assert any(k.startswith("required:") for k in kinds)
            assert ("duplicate" in kinds) == (contract.cdc is not None), contract.dataset
            assert landed.count(Outcome.QUARANTINED) >= 3
            lines = landed.file.read_text().splitlines()
            assert len(lines) == len(landed.records)
            assert landed.file.parent == tmp_path / contract.source_system / contract.dataset


def test_a_late_change_event_is_older_than_the_clean_ones():
    records = sample_batch(CUSTOMERS, _customers(), 1)
    late = next(r.record["changed_at"] for r in records if r.kind == "late")
    clean = [r.record["changed_at"] for r in records if r.kind == "clean"]
    assert all(late < at for at in clean)


def test_a_duplicate_is_an_exact_copy_of_a_delivered_change_event():
    records = sample_batch(CUSTOMERS, _customers(), 0)
    duplicate = next(r.record for r in records if r.kind == "duplicate")
    assert sum(r.record == duplicate for r in records) == 2


def test_a_rule_without_a_breaker_is_named():
    sample = _customers()
    breakers = {k: v for k, v in sample.breakers.items() if k != "email_well_formed"}
    with pytest.raises(
        ConfigurationError, match="no breaker for the contract's rule 'email_well_formed'"
    ):
        sample_batch(CUSTOMERS, DatasetSample(sample.clean, breakers), 0)


def test_a_clean_record_that_drifted_from_the_contract_is_refused():
    sample = _customers()
    drifted = DatasetSample(
        lambda batch: [{**r, "mail": r.pop("email")} for r in sample.clean(batch)],
        sample.breakers,
    )
    with pytest.raises(ConfigurationError, match=r"has columns \[.*'mail'"):
        sample_batch(CUSTOMERS, drifted, 0)


def _customers() -> DatasetSample:
    from lakehouse.sample_data import domain_samples

    return domain_samples(DOMAINS / "sales")["customers"]
