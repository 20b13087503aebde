"""Sinks write a pipeline's rows outside it, as Databricks documents them: ``create_sink``
(Delta, by path or by table name) and ``@foreach_batch_sink``, targeted by append flows; a full
refresh reprocesses into a sink and never clears it."""

from __future__ import annotations

import json
import textwrap

import pytest

from lakehouse.engine.errors import GraphError
from tests.conftest import ORDERS
from tests.engine.test_datasets import STREAM_ORDERS

SINKS = (
    STREAM_ORDERS
    + """
    import json

    dp.create_sink("export_table", "delta", {"tableName": "main.exports.orders"})
    dp.create_sink("export_files", format="delta", options={"path": spark.conf.get("exports")})

    @dp.foreach_batch_sink(name="batches")
    def record_batch(df, batch_id):
        with open(spark.conf.get("batches"), "a") as out:
            out.write(json.dumps({"batch_id": batch_id, "rows": df.count()}) + "\\n")

    @dp.table
    def orders():
        return landing()

    @dp.append_flow(target="export_table")
    def to_table():
        return spark.readStream.table("orders").where("country = 'NL'")

    @dp.append_flow(target="export_files")
    def to_files():
        return spark.readStream.table("orders")

    @dp.append_flow(target="batches")
    def to_batches():
        return spark.readStream.table("orders")
    """
)


def test_append_flows_write_each_row_once_to_delta_and_foreach_batch_sinks(workspace, tmp_path):
    exports, batches = tmp_path / "exports", tmp_path / "batches.jsonl"
    workspace.source(SINKS)
    configuration = {"exports": str(exports), "batches": str(batches)}

    def run(**options):
        return workspace.run(configuration=configuration, **options)

    def exported(path_or_table: str) -> int:
        return workspace.sql(f"SELECT count(*) FROM {path_or_table}").first()[0]

    def batch_log() -> list[tuple[int, int]]:
        return [
            (b["batch_id"], b["rows"]) for b in map(json.loads, batches.read_text().splitlines())
        ]

    workspace.land("1.json", ORDERS)
    result = run()
    workspace.land("2.json", [{"id": 5, "amount": 1.0, "country": "NL"}])
    run()
    assert result.datasets["export_table"] == "sink"
    assert result.rows_written("export_table") == 2
    assert exported("main.exports.orders") == 3  # NL rows, each once
    assert exported(f"delta.`{exports}`") == 5
    assert batch_log() == [(0, 4), (1, 1)]

    run(full_refresh=True)  # the flows start over and append again; the sinks stay
    assert exported("main.exports.orders") == 6
    assert exported(f"delta.`{exports}`") == 10
    assert batch_log()[2:] == [(0, 5)]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ('dp.create_sink("s", "kafka", {"topic": "t"})', "writes to a Kafka broker"),
        ('dp.create_sink("s", "parquet", {"path": "/x"})', "format must be 'delta' or 'kafka'"),
        ('dp.create_sink("s", "delta")', "either a path or a tableName"),
        ('dp.create_sink("s", "delta", {"tableName": "orders"})', "must be fully qualified"),
        ('dp.create_sink("main.sales.s", "delta", {"path": "/x"})', "sinks are pipeline-scoped"),
        (
            'dp.create_sink("s", "delta", {"path": "/x"})\n'
            "dp.create_auto_cdc_flow(target='s', source='orders', keys=['id'], sequence_by='id')",
            "sinks take streaming append flows only",
        ),
        (
            'dp.create_sink("s", "delta", {"path": "/x"})\n'
            "@dp.append_flow(target='s')\ndef batch():\n    return spark.read.table('orders')",
            "flows into a sink must stream",
        ),
    ],
    ids=["kafka", "format", "no-location", "short-table", "qualified-name", "auto-cdc", "batch"],
)
def test_a_sink_the_engine_cannot_write_is_a_graph_error_naming_it(workspace, code, message):
    orders = "@dp.table\ndef orders():\n    return landing()\n"
    workspace.source(STREAM_ORDERS + textwrap.indent(orders + code, "    "))
    workspace.land("1.json", ORDERS)
    with pytest.raises(GraphError, match=message):
        workspace.run()
