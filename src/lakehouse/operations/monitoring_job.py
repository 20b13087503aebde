"""Each domain's monitoring job on Databricks (``<domain>_monitoring``, hourly): the same check as
``lakehouse monitor`` over the domain's tables in the workspace, from their history
(``DESCRIBE HISTORY``), the pipelines' published event logs, and the landing volumes
(databricks-sdk's Files API). Results are appended to ``<env>_platform.monitoring``. A freshness
breach, a quality drop, lost rows or a failed pipeline makes the run fail, and the job's failure
notification mails the domain's owner the alerts it printed.

Example:
    $ lakehouse-monitoring --env prod --domain sales --root /Workspace/.../files
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.operations.monitoring import MonitoringCheck, run_checks
from lakehouse.operations.observations import Observations
from lakehouse.platform.domains import Domain, find_domains
from lakehouse.platform.registry import ENVS

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import SparkSession


def monitor_domain(
    domain: Domain, observed: Observations, *, env: str, schema_prefix: str = ""
) -> MonitoringCheck:
    """Run the check for one domain and print what it found; the caller exits on alerts.

    Example:
        >>> monitor_domain(Domain(Path("domains/sales")), observed, env="prod").alerts  # doctest: +SKIP
        []
    """
    check = run_checks([domain], observed, env=env, schema_prefix=schema_prefix)
    for result in check.freshness:
        print(f"{result.dataset}: {result.status}")
    quality = check.quality
    print(f"{quality.updates} new update(s): {len(quality.expectations)} expectation result(s), {len(quality.conservation)} conservation check(s)")  # fmt: skip
    for alert in check.alerts:
        print(f"ALERT {domain.name}: {alert}")
    return check


def main(argv: list[str] | None = None) -> None:
    """The job's entry point: check ``--domain`` in ``--env``; exit 1 on an alert."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", required=True, choices=ENVS)
    parser.add_argument("--domain", required=True)
    parser.add_argument("--root", type=Path, default=Path("."), help="the synced bundle files")
    parser.add_argument("--schema-prefix", default="", help="a developer's dev schemas")
    args = parser.parse_args(argv)
    domains = {d.name: d for d in find_domains(args.root / "domains")}
    if args.domain not in domains:
        parser.error(f"no domain {args.domain!r} under {args.root / 'domains'}; expected one of {', '.join(domains)}")  # fmt: skip
    from databricks.sdk import WorkspaceClient
    from pyspark.sql import SparkSession

    from lakehouse.operations.observations import WorkspaceObservations

    spark = SparkSession.builder.getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")  # history and event times, as UTC
    observed = WorkspaceObservations(spark.sql, WorkspaceClient(), _appender(spark))
    check = monitor_domain(domains[args.domain], observed, env=args.env, schema_prefix=args.schema_prefix)  # fmt: skip
    if check.alerts:
        sys.exit(1)


def _appender(spark: SparkSession):
    def append(table: str, rows: pa.Table) -> None:
        frame = spark.createDataFrame(rows.to_pandas())
        frame.write.mode("append").option("mergeSchema", "true").saveAsTable(table)

    return append
