"""The business domains under ``domains/``.

A domain folder holds its contracts (``contracts/``, one per source dataset), its gold
pipeline (``pipelines/``), its sample data generator (``sample_data.py``) and its tests. A
domain's data goes landing -> bronze -> silver through the generated ingestion pipeline of
each of its source systems, then silver -> gold through its own pipeline; ``domain_run``
runs them locally.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from lakehouse.contracts import DataContract, find_contracts, load_contract

REPO_ROOT = Path(__file__).resolve().parents[3]
DOMAINS = REPO_ROOT / "domains"


@dataclass(frozen=True)
class Domain:
    """A ``domains/<name>`` folder.

    Example:
        >>> sales = Domain(Path("domains/sales"))
        >>> sales.name, sales.source_systems  # doctest: +SKIP
        ('sales', ['crm'])
    """

    folder: Path

    @property
    def name(self) -> str:
        return self.folder.name

    @cached_property
    def contracts(self) -> list[DataContract]:
        return [load_contract(f) for f in find_contracts([self.folder / "contracts"])]

    @property
    def source_systems(self) -> list[str]:
        return sorted({c.source_system for c in self.contracts})

    @property
    def pipelines(self) -> Path:
        return self.folder / "pipelines"


def find_domains(root: Path = DOMAINS) -> list[Domain]:
    """Every folder under ``root`` with contracts or pipelines, by name."""
    return [
        Domain(folder)
        for folder in sorted(root.iterdir())
        if (folder / "contracts").is_dir() or (folder / "pipelines").is_dir()
    ]
