"""Seeded sample data for a domain's source datasets, driven by their contracts.

A domain's ``sample_data.py`` says what clean records of each dataset look like
(``DatasetSample.clean``) and how to break each of the contract's quality rules
(``DatasetSample.breakers``); this module adds the records a real feed also delivers and
writes each batch as JSON lines into ``<landing>/<source_system>/<dataset>/``:

- ``late``: an existing record's event time moved back (the CDC sequence by 30 days, or an
  appended record's first required date or timestamp by 3 days);
- ``duplicate``: a change event delivered twice (CDC datasets only: AUTO CDC applies it once);
- ``unknown_column``: an existing record with a column the contract does not know (rescued in
  bronze);
- ``unreadable``: a line cut in half, not JSON at all (kept whole in bronze's rescued data,
  quarantined);
- ``malformed:<column>``: a value that does not fit its column's type (quarantined);
- ``required:<column>``: a required column left empty (quarantined);
- ``rule:<name>``: one record breaking each quality rule (quarantined, dropped or kept and
  counted, as the rule's action says; rules with action ``fail`` are never broken on purpose).

Every record carries where it should end up (``Outcome``), so tests can check the layers
against what was landed. The same batch number always gives the same files.
"""

from __future__ import annotations

import importlib.util
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from lakehouse.contracts import DataContract, find_contracts, load_contract
from lakehouse.contracts.model import Action
from lakehouse.engine.errors import ConfigurationError

Record = dict[str, Any]
UNKNOWN_COLUMN = "legacy_ref"


class Outcome(str, Enum):
    """Where a landed record ends up after silver."""

    SILVER = "silver"
    QUARANTINED = "quarantined"
    DROPPED = "dropped"


@dataclass(frozen=True)
class SampleRecord:
    """A landed record, what was done to it, and where it should end up."""

    record: Record
    kind: str
    outcome: Outcome = Outcome.SILVER
    line: str | None = None  # landed instead of the record as JSON: an unreadable line


@dataclass(frozen=True)
class DatasetSample:
    """How a domain generates one dataset: ``clean(batch)`` gives the batch's clean records
    (the same for the same batch), ``breakers[rule]`` turns a clean record into one that
    breaks the rule.

    Example:
        >>> DatasetSample(clean=lambda batch: [{"order_id": f"SO-{batch}"}],
        ...               breakers={"known_currency": lambda r: {**r, "currency": "JPY"}})  # doctest: +SKIP
    """

    clean: Callable[[int], list[Record]]
    breakers: Mapping[str, Callable[[Record], Record]] = field(default_factory=dict)


@dataclass(frozen=True)
class LandedDataset:
    """One dataset's batch as landed: its file and its records."""

    contract: DataContract
    file: Path
    records: list[SampleRecord]

    def count(self, outcome: Outcome) -> int:
        return sum(r.outcome is outcome for r in self.records)


def sample_batch(contract: DataContract, sample: DatasetSample, batch: int) -> list[SampleRecord]:
    """The batch's clean records with the defects described in this module's docstring mixed
    in at seeded positions.

    Example:
        >>> [r.kind for r in sample_batch(contract, sample, 0)][:3]  # doctest: +SKIP
        ['clean', 'rule:known_currency', 'clean']
    """
    rng = random.Random(f"{contract.id}:{batch}")
    clean = [SampleRecord(_checked(contract, r), "clean") for r in sample.clean(batch)]
    if not clean:
        return []
    records = list(clean)
    cdc = contract.cdc
    changes = [i for i, r in enumerate(records) if not _is_delete(contract, r.record)]
    late_column = cdc.sequence_column if cdc else _event_time(contract)
    late = rng.choice(changes) if late_column is not None and changes else None
    if late is not None:
        back = timedelta(days=30 if cdc else 3)
        records[late] = SampleRecord(_shifted(records[late].record, late_column, -back), "late")
    i = rng.choice([i for i in range(len(records)) if i != late] or [0])
    records[i] = SampleRecord({**records[i].record, UNKNOWN_COLUMN: "X-1"}, "unknown_column")
    extra: list[SampleRecord] = []
    if cdc:
        extra.append(SampleRecord(dict(rng.choice(records).record), "duplicate"))

    def broken(kind: str, outcome: Outcome, change: Callable[[Record], Record]) -> None:
        record = change(dict(rng.choice(clean).record))
        if cdc:  # a later change of the key, so that it never ties with the clean one
            record = _shifted(record, cdc.sequence_column, timedelta(seconds=len(extra) + 1))
        elif contract.keys:  # a key of its own, so that it is no duplicate of the clean one
            record = _fresh_key(record, contract.keys[0], len(extra) + 1)
        extra.append(SampleRecord(record, kind, outcome))

    cut = json.dumps(rng.choice(clean).record, default=_json_value)
    extra.append(SampleRecord({}, "unreadable", Outcome.QUARANTINED, cut[: len(cut) // 2]))
    typed = [c for c in contract.columns if c.spark_type != "STRING"]
    if typed:
        column = next((c for c in typed if c.primary_key_position is None), typed[0])
        broken(f"malformed:{column.name}", Outcome.QUARANTINED, _set(column.name, "n/a"))
    required = [c for c in contract.columns if c.required and c.primary_key_position is None]
    if required:
        broken(f"required:{required[0].name}", Outcome.QUARANTINED, _set(required[0].name, None))
    for rule in contract.quality:
        if rule.action is Action.FAIL:
            continue
        breaker = sample.breakers.get(rule.name)
        if breaker is None:
            raise ConfigurationError(
                f"sample data of '{contract.dataset}' ({contract.id}): no breaker for the "
                f"contract's rule '{rule.name}'; add one to DatasetSample.breakers"
            )
        broken(f"rule:{rule.name}", _OUTCOME[rule.action], breaker)
    for record in extra:
        records.insert(rng.randrange(len(records) + 1), record)
    return records


_OUTCOME = {
    Action.WARN: Outcome.SILVER,
    Action.DROP: Outcome.DROPPED,
    Action.QUARANTINE: Outcome.QUARANTINED,
}


def land_batch(
    contract: DataContract, records: list[SampleRecord], landing: Path, batch: int
) -> LandedDataset:
    """Write ``records`` as one JSON-lines file ``batch-<NNNN>.json`` under the dataset's
    landing folder (created when missing).

    Example:
        >>> land_batch(contract, sample_batch(contract, sample, 0), Path("landing"), 0).file  # doctest: +SKIP
        PosixPath('landing/crm/orders/batch-0000.json')
    """
    folder = landing / contract.source_system / contract.dataset
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"batch-{batch:04d}.json"
    file.write_text(
        "".join((r.line or json.dumps(r.record, default=_json_value)) + "\n" for r in records)
    )
    return LandedDataset(contract, file, records)


def land_domain(domain: Path, landing: Path, batch: int) -> list[LandedDataset]:
    """Land batch ``batch`` of every dataset of ``domain`` (a ``domains/<name>`` folder), as
    its ``sample_data.py`` (a ``SAMPLES`` dict of dataset name to ``DatasetSample``) and its
    contracts say.

    Example:
        >>> [d.file.name for d in land_domain(Path("domains/sales"), Path("landing"), 0)]  # doctest: +SKIP
        ['batch-0000.json', 'batch-0000.json']
    """
    samples = domain_samples(domain)
    landed = []
    for file in find_contracts([domain / "contracts"]):
        contract = load_contract(file)
        if contract.dataset not in samples:
            raise ConfigurationError(
                f"{domain / 'sample_data.py'}: SAMPLES has no entry for dataset "
                f"'{contract.dataset}' of {file}"
            )
        records = sample_batch(contract, samples[contract.dataset], batch)
        landed.append(land_batch(contract, records, landing, batch))
    return landed


def domain_samples(domain: Path) -> Mapping[str, DatasetSample]:
    """The ``SAMPLES`` of a domain's ``sample_data.py``, loaded from its file so that the
    ``domains`` folder need not be on the import path."""
    path = domain / "sample_data.py"
    spec = importlib.util.spec_from_file_location(f"lakehouse_samples_{domain.name}", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise ConfigurationError(f"{path}: missing; a domain's sample data generator lives here")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    samples = getattr(module, "SAMPLES", None)
    if not isinstance(samples, Mapping):
        raise ConfigurationError(
            f"{path}: SAMPLES: expected a dict of dataset name to DatasetSample"
        )
    return samples


def _checked(contract: DataContract, record: Record) -> Record:
    """A clean record must have exactly the contract's columns: the generator follows the
    contract, so a renamed column fails here, not as quietly rescued data."""
    expected = [c.name for c in contract.columns]
    if sorted(record) != sorted(expected):
        raise ConfigurationError(
            f"sample data of '{contract.dataset}': a clean record has columns "
            f"{sorted(record)}, the contract {contract.id} {contract.version} has {sorted(expected)}"
        )
    return record


def _is_delete(contract: DataContract, record: Record) -> bool:
    cdc = contract.cdc
    return bool(
        cdc and cdc.operation_column and record.get(cdc.operation_column) == cdc.delete_marker
    )


def _event_time(contract: DataContract) -> str | None:
    for column in contract.columns:
        if column.required and column.spark_type in ("DATE", "TIMESTAMP"):
            return column.name
    return None


def _shifted(record: Record, column: str, by: timedelta) -> Record:
    value = record[column]
    if isinstance(value, datetime):
        value = value + by
    elif isinstance(value, date):
        value = value + timedelta(days=by.days)
    elif isinstance(value, int):
        value = value + int(by.total_seconds())
    return {**record, column: value}


def _fresh_key(record: Record, key: str, number: int) -> Record:
    value = record.get(key)
    if isinstance(value, str):
        return {**record, key: f"{value}-{number}"}
    if isinstance(value, int) and not isinstance(value, bool):
        return {**record, key: value + 1_000_000 * number}
    return record


def _set(column: str, value: Any) -> Callable[[Record], Record]:
    return lambda record: {**record, column: value}


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON: {value!r}")
