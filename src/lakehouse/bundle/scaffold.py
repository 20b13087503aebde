"""``lakehouse domain new NAME``: a new domain folder that works from the first commit.

It holds a registry entry, one example contract (a source system ``<name>_app`` sending
``events``), a gold pipeline over that contract's silver table, its bundle resource, a sample
data generator and a test of the gold logic written with ``lakehouse.testing``. The domain's team then replaces the
example with their own sources, keeping the shape.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from lakehouse.bundle.targets import GENERATED_FILES, sync_targets
from lakehouse.platform.registry import SelfService, load_registry

NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")


class ScaffoldError(ValueError):
    """A domain that cannot be created as asked."""


def new_domain(root: Path, name: str, *, owner: str, cost_centre: str,
               self_service: SelfService = SelfService.SELF_SERVE, sql: bool = False) -> Path:  # fmt: skip
    """Create ``domains/<name>/`` under the bundle at ``root`` and regenerate the targets;
    with ``sql``, its gold pipeline is a SQL file.

    Example:
        >>> new_domain(Path("."), "marketing", owner="cmo@example.com", cost_centre="CC-130")  # doctest: +SKIP
        PosixPath('domains/marketing')
    """
    if not NAME.match(name) or name == "platform":
        raise ScaffoldError(
            f"domain name {name!r}: expected a lower-case identifier, not 'platform'"
        )
    folder = root / "domains" / name
    if folder.exists():
        raise ScaffoldError(f"{folder} exists already")
    platform, _ = load_registry(root)
    organization = platform.code_owners.split("/")[0]
    values = {
        "code_owners": f"{organization}/{name}-data-engineers",
        "name": name,
        "title": name.replace("_", " "),
        "owner": owner,
        "cost_centre": cost_centre,
        "self_service": self_service.value,
        "source_system": f"{name}_app",
    }
    files = [root / name for name in GENERATED_FILES]
    generated = {file: file.read_text() if file.is_file() else None for file in files}
    try:
        gold = {"pipelines/gold.sql": SQL_GOLD} if sql else {"pipelines/gold.py": PYTHON_GOLD}
        for relative, template in {**FILES, **gold}.items():
            file = folder / relative.format(**values)
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(template.format(**values))
        sync_targets(root)  # loads the new entry: a bad owner fails here
    except BaseException:
        # Nothing is left behind: a half-made folder would break the registry for everyone.
        shutil.rmtree(folder, ignore_errors=True)
        for file, text in generated.items():
            if text is not None:
                file.write_text(text)
            else:
                file.unlink(missing_ok=True)
        raise
    return folder


FILES = {
    "__init__.py": "",
    "tests/__init__.py": "",
    "domain.yml": """\
# The {title} domain in the registry: who owns it and where it deploys. After editing, run
# `uv run lakehouse bundle sync-targets` to regenerate its targets (resources/targets.yml).
name: {name}
description: The {title} domain (replace with what the domain is about).
owner: {owner}
cost_centre: {cost_centre}
self_service: {self_service}
# Whose review a change to this domain's folder needs (.github/CODEOWNERS).
code_owners: "{code_owners}"
groups:
  admins: {name}-data-admins
  engineers: {name}-data-engineers
  readers: {name}-data-readers
# Replace with the domain's workspaces and service principals before the first deploy.
workspaces:
  dev: https://adb-0000000000000001.1.azuredatabricks.net
  test: https://adb-0000000000000002.2.azuredatabricks.net
  prod: https://adb-0000000000000003.3.azuredatabricks.net
service_principals:
  test: 00000000-0000-4000-8000-000000000002
  prod: 00000000-0000-4000-8000-000000000003
""",
    "contracts/{source_system}_events.yaml": """\
# An example source dataset: replace it with the domain's own (see docs/contracts.md).
apiVersion: v3.1.0
kind: DataContract
id: urn:lakehouse:{name}:{source_system}:events
version: 1.0.0
status: active
name: Example events
domain: {name}
description:
  purpose: Something the source system records, as it happens.
team:
  name: {name}-data-engineering
customProperties:
  - property: sourceSystem
    value: {source_system}
  - property: ingestionMode
    value: batch
  - property: fileFormat
    value: json
schema:
  - name: events
    physicalType: table
    description: One record per event.
    customProperties:
      - property: classification
        value: general
    properties:
      - name: event_id
        logicalType: string
        primaryKey: true
        description: The event's id in the source system.
      - name: happened_at
        logicalType: timestamp
        required: true
        description: When it happened.
      - name: kind
        logicalType: string
        required: true
        description: What happened.
        quality:
          - name: known_kind
            metric: invalidValues
            arguments:
              validValues: [created, changed, closed]
            mustBe: 0
            customProperties:
              - property: action
                value: quarantine
""",
    "resources/{name}_gold.pipeline.yml": """\
# The {title} domain's gold pipeline: the files in ../pipelines, reading its silver tables.
# Bundle YAML included by databricks.yml, declared under {name}'s own targets only (a file's
# top-level resources would reach every domain's workspace); the anchor declares it once.
# ${{var.schema_prefix}} makes a developer's dev deployment write schemas of their own.
targets:
  {name}-dev:
    resources: &resources
      pipelines:
        {name}_gold:
          name: {name}_gold
          catalog: ${{var.env}}_gold
          schema: ${{var.schema_prefix}}{name}
          # Published where the monitoring job reads it (the local engine's place for it too).
          event_log:
            catalog: ${{var.env}}_gold
            schema: ${{var.schema_prefix}}{name}
            name: event_log
          serverless: true
          channel: CURRENT
          libraries:
            - glob:
                include: ../pipelines/**
          configuration:
            lakehouse.env: ${{var.env}}
            lakehouse.schemaPrefix: ${{var.schema_prefix}}
  {name}-test:
    resources: *resources
  {name}-prod:
    resources: *resources
""",
    "sample_data.py": '''\
"""Seeded sample data for the {title} domain: a batch of events per day."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from lakehouse.sample_data import DatasetSample, Record

FIRST_DAY = datetime(2026, 3, 2)


def events(batch: int) -> list[Record]:
    rng = random.Random(f"{source_system}.events:{{batch}}")
    return [
        {{
            "event_id": f"E-{{batch:03d}}-{{i:04d}}",
            "happened_at": FIRST_DAY + timedelta(days=batch, minutes=rng.randrange(24 * 60)),
            "kind": rng.choice(["created", "changed", "closed"]),
        }}
        for i in range(50)
    ]


SAMPLES = {{
    "events": DatasetSample(
        clean=events,
        breakers={{"known_kind": lambda r: {{**r, "kind": "exploded"}}}},
    ),
}}
''',
    "tests/test_gold.py": '''\
"""{title} gold logic, on a silver table written by hand."""

from __future__ import annotations

from datetime import date, datetime

from lakehouse.testing import assert_table_equals


def test_daily_events_counts_events_per_day_and_kind(lakehouse, domain, spark):
    lakehouse.seed("dev_silver.{source_system}.events", [
        ("E1", datetime(2026, 3, 2, 9), "created"),
        ("E2", datetime(2026, 3, 2, 17), "created"),
        ("E3", datetime(2026, 3, 3, 8), "closed"),
    ], "event_id STRING, happened_at TIMESTAMP, kind STRING")  # fmt: skip
    lakehouse.run_pipelines(domain)
    expected = spark.createDataFrame(
        [(date(2026, 3, 2), "created", 2), (date(2026, 3, 3), "closed", 1)],
        "day DATE, kind STRING, events BIGINT",
    )
    assert_table_equals(lakehouse.table("dev_gold.{name}.daily_events"), expected)
''',
}

PYTHON_GOLD = '''\
"""{title} gold, from the {source_system} silver tables: events per day and kind.

Plain Lakeflow pipeline code: it runs unchanged on Databricks and on the local engine. The
pipeline configuration's ``lakehouse.env`` (default ``dev``) says which silver catalog to read,
and ``lakehouse.schemaPrefix`` a developer's own schemas in a development deployment.
"""

from pyspark import pipelines as dp
from pyspark.sql import functions as F

ENV = spark.conf.get("lakehouse.env", "dev")
SCHEMA_PREFIX = spark.conf.get("lakehouse.schemaPrefix", "")  # a developer's own, in dev
SILVER = f"{{ENV}}_silver.{{SCHEMA_PREFIX}}{source_system}"


@dp.materialized_view(
    comment="Events per day and kind.",
    table_properties={{"lakehouse.classification": "general"}},
)
def daily_events():
    return (
        spark.read.table(f"{{SILVER}}.events")
        .groupBy(F.to_date("happened_at").alias("day"), "kind")
        .agg(F.count("*").alias("events"))
    )
'''

SQL_GOLD = """\
-- {title} gold, from the {source_system} silver tables: events per day and kind.
--
-- A Lakeflow SQL pipeline file: it runs unchanged on Databricks and on the local engine. The
-- pipeline configuration's lakehouse.env says which silver catalog to read, and
-- lakehouse.schemaPrefix a developer's own schemas in a development deployment.

CREATE OR REFRESH MATERIALIZED VIEW daily_events
COMMENT 'Events per day and kind.'
TBLPROPERTIES ('lakehouse.classification' = 'general')
AS SELECT to_date(happened_at) AS day, kind, count(*) AS events
FROM ${{lakehouse.env}}_silver.${{lakehouse.schemaPrefix}}{source_system}.events
GROUP BY to_date(happened_at), kind;
"""
