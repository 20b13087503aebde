"""Row conservation: every record read from bronze reaches silver, is quarantined, or is
dropped by an expectation, and is counted where it went.

The counts come from one update of the source system's ingestion pipeline, as its event log
records them: the bronze flow's rows written, the quarantine flow's rows written, and the
silver flow's dropped records and rows received (``num_change_events`` for AUTO CDC, rows
appended otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakehouse.contracts import DataContract
from lakehouse.ingestion.settings import bronze_table, silver_table

if TYPE_CHECKING:  # the local engine's result; ingestion itself also runs on Databricks
    from lakehouse.engine import UpdateResult


@dataclass(frozen=True)
class RowConservation:
    """Where one update's bronze rows of a dataset went."""

    dataset: str
    bronze: int
    silver: int
    quarantined: int
    dropped: int

    @property
    def holds(self) -> bool:
        return self.bronze == self.silver + self.quarantined + self.dropped

    def __str__(self) -> str:
        sign = "=" if self.holds else "!="
        return (
            f"{self.dataset}: bronze {self.bronze} {sign} silver {self.silver} + quarantined "
            f"{self.quarantined} + dropped {self.dropped}"
        )


def row_conservation(
    result: UpdateResult, contract: DataContract, env: str, schema_prefix: str = ""
) -> RowConservation:
    """Count where the bronze rows of ``contract``'s dataset went in the update ``result``.

    Example:
        >>> check = row_conservation(result, contract, "dev")  # doctest: +SKIP
        >>> check.holds, str(check)  # doctest: +SKIP
        (True, 'customers: bronze 47 = silver 42 + quarantined 4 + dropped 1')
    """
    silver = silver_table(contract, env, schema_prefix)
    flows = [f for f in result.flows if f.dataset == silver]
    received = sum(
        f.cdc_metrics["num_change_events"] if f.cdc_metrics else f.num_output_rows for f in flows
    )
    return RowConservation(
        contract.dataset,
        bronze=result.rows_written(bronze_table(contract, env, schema_prefix)),
        silver=received,
        quarantined=result.rows_written(f"{silver}_quarantine"),
        dropped=sum(f.dropped_records for f in flows),
    )
