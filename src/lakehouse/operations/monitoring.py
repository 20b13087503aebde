"""The monitoring check, the same locally (``lakehouse monitor``) and in each domain's scheduled
monitoring job on Databricks (``monitoring_job.py``): freshness against the contracts' SLAs,
the data-quality trends of every new update (expectations, conservation, a quality drop), and
pipelines whose last update failed. Results go to ``<env>_platform.monitoring``; anything
that needs the domain's owner is an alert, and the job fails on one, which mails the owner.

Example:
    >>> check = run_checks(find_domains(), LocalObservations(Path(".lakehouse")))  # doctest: +SKIP
    >>> check.alerts  # doctest: +SKIP
    ['crm.orders is late', 'dev_silver.crm.orders: positive_amount failed 12% of records ...']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from lakehouse.operations.event_logs import UpdateRecord, pipeline_event_logs, update_history
from lakehouse.operations.freshness import DatasetFreshness, check_freshness, save_freshness
from lakehouse.operations.observations import Observations
from lakehouse.operations.quality_trends import QualityRecord, record_quality
from lakehouse.platform.domains import Domain


@dataclass(frozen=True)
class MonitoringCheck:
    """One run of the check over some domains."""

    freshness: list[DatasetFreshness]
    quality: QualityRecord
    failed_updates: list[UpdateRecord]  # each pipeline's last update, when it failed

    @property
    def alerts(self) -> list[str]:
        """What the domain's owner must hear of, as sentences.

        Example:
            >>> check.alerts  # doctest: +SKIP
            ['hris.employees is stale', "hr_gold's last update FAILED: ..."]
        """
        found = [f"{r.domain}/{r.dataset} is {r.status}" for r in self.freshness if r.breached]
        found += [f"not conserved: {sentence}" for sentence in self.quality.not_conserved]
        found += [f"quality drop: {sentence}" for sentence in self.quality.drops]
        found += [
            f"{u.pipeline}'s last update {u.state}" + (f": {u.error}" if u.error else "")
            for u in self.failed_updates
        ]
        return found


def run_checks(
    domains: Iterable[Domain],
    observed: Observations,
    *,
    env: str = "dev",
    schema_prefix: str = "",
    now: dt.datetime | None = None,
) -> MonitoringCheck:
    """Check ``domains`` and append the results to ``<env>_platform.monitoring``.

    Example:
        >>> run_checks([Domain(Path("domains/hr"))], observed, env="prod").alerts  # doctest: +SKIP
        []
    """
    domains = list(domains)
    freshness = check_freshness(domains, observed, env=env, schema_prefix=schema_prefix, now=now)
    save_freshness(freshness, observed, env=env)
    quality = record_quality(domains, observed, env=env, schema_prefix=schema_prefix)
    failed = []
    for domain in domains:
        for log in pipeline_event_logs(domain, env, schema_prefix):
            updates = update_history(observed.events(log))
            if updates and updates[-1].state in ("FAILED", "CANCELED"):
                failed.append(updates[-1])
    return MonitoringCheck(freshness, quality, failed)
