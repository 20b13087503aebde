"""A pipeline workspace per test: source, landing and storage folders under tmp_path."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

from lakehouse.engine import UpdateResult, run_pipeline, sql


class PipelineWorkspace:
    """A pipeline's source folder, landing folder and storage folder under tmp_path."""

    def __init__(self, root: Path, spark: SparkSession) -> None:
        self.root = root
        self.spark = spark
        self.src = root / "src"
        self.landing = root / "landing"
        self.storage = root / "storage"
        self.src.mkdir()
        self.landing.mkdir()

    def source(self, code: str, name: str = "pipeline.py") -> Path:
        path = self.src / name
        path.write_text(textwrap.dedent(code))
        return path

    def land(self, name: str, records: Iterable[dict[str, Any]], folder: str = "") -> Path:
        target = self.landing / folder if folder else self.landing
        target.mkdir(parents=True, exist_ok=True)
        path = target / name
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        return path

    def run(self, **options: Any) -> UpdateResult:
        options.setdefault("schema", "sales")
        configuration = {"landing": str(self.landing), **options.pop("configuration", {})}
        return run_pipeline(
            [self.src],
            storage=self.storage,
            name="test_pipeline",
            configuration=configuration,
            spark=self.spark,
            **options,
        )

    def sql(self, query: str) -> DataFrame:
        return sql(self.storage, query, schema="sales", spark=self.spark)

    def table(self, name: str) -> DataFrame:
        return self.sql(f"SELECT * FROM {name}")

    def rows(self, name: str, order_by: str) -> list[dict[str, Any]]:
        return [r.asDict() for r in self.sql(f"SELECT * FROM {name} ORDER BY {order_by}").collect()]

    def events(self, table: str = "main.sales.event_log") -> list[dict[str, Any]]:
        frame = self.sql(f"SELECT * FROM {table} ORDER BY timestamp")
        return [
            {**r.asDict(recursive=True), "details": json.loads(r["details"])}
            for r in frame.collect()
        ]


@pytest.fixture
def workspace(tmp_path: Path, spark: SparkSession) -> PipelineWorkspace:
    return PipelineWorkspace(tmp_path, spark)


ORDERS = [
    {"id": 1, "amount": 10.0, "country": "NL"},
    {"id": 2, "amount": 20.0, "country": "DE"},
    {"id": 3, "amount": -5.0, "country": "NL"},
    {"id": None, "amount": 7.0, "country": "FR"},
]
