"""SQL pipeline files, as Databricks documents them: each statement and clause read into the
same graph as Python's, the same pipeline in SQL and in Python giving the same tables and
metrics, and a mistake named by file, line and column."""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import asdict
from pathlib import Path

import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable

from lakehouse.engine import run_pipeline, sql
from lakehouse.engine.errors import ConfigurationError, GraphError
from lakehouse.engine.graph.elements import AutoCdc, DatasetKind, Expectation
from lakehouse.engine.loader import pipeline_files
from lakehouse.engine.sql_files.lexer import split_statements, tokenize
from lakehouse.engine.sql_files.query import parse_query
from lakehouse.engine.sql_files.statements import (
    CreateDataset,
    CreateFlow,
    Query,
    SetConf,
    read_statement,
)


def _read(text: str, values: dict[str, str] | None = None):
    ((statement, line, column),) = split_statements(text, "gold.sql")
    return read_statement(tokenize(statement, "gold.sql", line, column, (values or {}).get))


def test_a_streaming_table_reads_its_columns_constraints_and_clauses():
    # The example of CREATE STREAMING TABLE's reference page, with every table clause.
    declared = _read("""
        CREATE OR REFRESH STREAMING TABLE main.sales.orders (
          id INT NOT NULL COMMENT 'the order',
          amount DECIMAL(10, 2), tags MAP<STRING, INT>, ssn STRING MASK hr.mask USING COLUMNS (id),
          CONSTRAINT valid_id EXPECT (id IS NOT NULL) ON VIOLATION DROP ROW,
          CONSTRAINT positive EXPECT (amount > 0),
          CONSTRAINT named_ok EXPECT (length(name) > 0) ON VIOLATION FAIL UPDATE,
          CONSTRAINT pk PRIMARY KEY (id)
        )
        USING DELTA
        COMMENT 'Orders, checked'
        PARTITIONED BY (order_date)
        CLUSTER BY (country, city)
        WITH ROW FILTER hr.same_region ON (country)
        TBLPROPERTIES ('quality' = 'silver', "delta.appendOnly" = 'true')
        AS SELECT * FROM STREAM(raw_orders)
    """)
    assert isinstance(declared, CreateDataset)
    assert (declared.kind, declared.name, declared.private) == (
        DatasetKind.STREAMING_TABLE, "main.sales.orders", False,
    )  # fmt: skip
    assert declared.schema == (
        "id INT NOT NULL COMMENT 'the order', amount DECIMAL(10, 2), tags MAP<STRING, INT>, "
        "ssn STRING MASK hr.mask USING COLUMNS (id)"
    )
    assert declared.expectations == (
        Expectation("valid_id", "id IS NOT NULL", "drop"),
        Expectation("positive", "amount > 0", "warn"),
        Expectation("named_ok", "length(name) > 0", "fail"),
    )
    assert declared.comment == "Orders, checked"
    assert declared.partition_cols == ("order_date",)
    assert declared.cluster_by == ("country", "city")
    assert declared.table_properties == {"quality": "silver", "delta.appendOnly": "true"}
    assert declared.row_filter == "ROW FILTER hr.same_region ON (country)"
    assert declared.flow is not None and declared.flow.query is not None
    assert declared.flow.query.text == "SELECT * FROM STREAM(raw_orders)"


@pytest.mark.parametrize(
    ("text", "kind", "private", "has_query"),
    [
        ("CREATE OR REFRESH STREAMING TABLE users", DatasetKind.STREAMING_TABLE, False, False),
        ("CREATE OR REFRESH PRIVATE STREAMING TABLE t AS SELECT * FROM STREAM(s)", DatasetKind.STREAMING_TABLE, True, True),
        ("CREATE STREAMING LIVE TABLE t AS SELECT * FROM STREAM(s)", DatasetKind.STREAMING_TABLE, False, True),
        ("CREATE OR REFRESH MATERIALIZED VIEW mv AS SELECT 1 AS one", DatasetKind.MATERIALIZED_VIEW, False, True),
        ("CREATE OR REFRESH PRIVATE MATERIALIZED VIEW mv AS SELECT 1", DatasetKind.MATERIALIZED_VIEW, True, True),
        ("CREATE LIVE TABLE mv AS SELECT 1", DatasetKind.MATERIALIZED_VIEW, False, True),
        ("CREATE TEMPORARY VIEW v AS SELECT 1", DatasetKind.VIEW, True, True),
        ("CREATE VIEW v AS SELECT 1", DatasetKind.VIEW, False, True),  # published
        ("CREATE TEMPORARY LIVE VIEW v AS SELECT 1", DatasetKind.VIEW, True, True),
        ("CREATE LIVE VIEW v AS SELECT 1", DatasetKind.VIEW, True, True),
    ],
)  # fmt: skip
def test_each_dataset_statement_declares_its_kind(text, kind, private, has_query):
    declared = _read(text)
    assert isinstance(declared, CreateDataset)
    assert (declared.kind, declared.private, declared.flow is not None) == (
        kind,
        private,
        has_query,
    )


def test_flows_append_once_or_apply_changes():
    # CREATE FLOW's reference examples: a flow, a backfill, and an AUTO CDC flow.
    flow = _read("CREATE FLOW users_flow AS INSERT INTO users SELECT * FROM stream(raw_data.users)")
    backfill = _read("CREATE FLOW backfill AS INSERT INTO ONCE users BY NAME SELECT * FROM old")
    cdc = _read("""
        CREATE FLOW cdc_flow AS AUTO CDC INTO target
        FROM stream(cdc_data.users)
        KEYS (userId)
        IGNORE NULL UPDATES
        APPLY AS DELETE WHEN operation = "DELETE"
        APPLY AS TRUNCATE WHEN operation = "TRUNCATE"
        SEQUENCE BY struct(sequenceNum, secondary)
        COLUMNS * EXCEPT (operation, sequenceNum)
        STORED AS SCD TYPE 2
        TRACK HISTORY ON * EXCEPT (city)
    """)
    assert isinstance(flow, CreateFlow) and isinstance(backfill, CreateFlow)
    assert (flow.name, flow.target, flow.once) == ("users_flow", "users", False)
    assert flow.query is not None and flow.query.text == "SELECT * FROM stream(raw_data.users)"
    assert (backfill.target, backfill.once) == ("users", True)
    assert isinstance(cdc, CreateFlow) and cdc.query is None
    assert cdc.auto_cdc == AutoCdc(
        source="cdc_data.users",
        keys=("userId",),
        sequence_by="struct(sequenceNum, secondary)",
        scd_type=2,
        ignore_null_updates=True,
        apply_as_deletes='operation = "DELETE"',
        apply_as_truncates='operation = "TRUNCATE"',
        except_column_list=("operation", "sequenceNum"),
        track_history_except_column_list=("city",),
    )
    legacy = _read("APPLY CHANGES INTO live.customers FROM stream(live.changes) KEYS (id) "
                   "SEQUENCE BY ts COLUMNS name, city")  # fmt: skip
    assert isinstance(legacy, CreateFlow) and legacy.auto_cdc is not None
    assert (legacy.name, legacy.target) == (
        "customers",
        "live.customers",
    )  # named as Databricks does
    assert legacy.auto_cdc.column_list == ("name", "city")


def test_a_streaming_tables_own_flow_clause_inserts_once_or_applies_changes():
    backfilled = _read("CREATE STREAMING TABLE t FLOW INSERT ONCE BY NAME SELECT * FROM old")
    applied = _read("CREATE STREAMING TABLE t FLOW AUTO CDC FROM STREAM(s) KEYS (id) SEQUENCE BY v")
    assert isinstance(backfilled, CreateDataset) and backfilled.flow is not None
    assert backfilled.flow.once and backfilled.flow.query is not None
    assert isinstance(applied, CreateDataset) and applied.flow is not None
    assert applied.flow.auto_cdc == AutoCdc(source="s", keys=("id",), sequence_by="v")


def test_statements_split_at_semicolons_outside_strings_and_comments():
    text = textwrap.dedent("""\
        -- a comment; not a statement
        SET landing = /mnt/in;
        /* a block; /* nested */ comment */
        CREATE VIEW v AS SELECT ';' AS semicolon, `a;b` FROM t;

        ;
    """)
    assert split_statements(text, "gold.sql") == [
        ("SET landing = /mnt/in", 2, 1),
        ("CREATE VIEW v AS SELECT ';' AS semicolon, `a;b` FROM t", 4, 1),
    ]
    assert _read("SET spark.sql.shuffle.partitions=4") == SetConf(
        "spark.sql.shuffle.partitions", "4"
    )


def test_configuration_is_substituted_and_a_missing_key_is_named_where_it_is_used():
    declared = _read("CREATE VIEW v AS SELECT * FROM read_files('${root}/orders')", {"root": "/in"})
    assert isinstance(declared, CreateDataset) and declared.flow and declared.flow.query
    assert declared.flow.query.text == "SELECT * FROM read_files('/in/orders')"
    with pytest.raises(GraphError) as error:
        _read("CREATE VIEW v AS\n  SELECT * FROM ${missing}")
    assert str(error.value).startswith("gold.sql:2:17: ${missing} is not set")


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("CREATE TABLE t AS SELECT 1", "gold.sql:1:8", "expected STREAMING TABLE, MATERIALIZED VIEW"),
        ("CREATE MATERIALIZED VIEW mv", "gold.sql:1:28", "expected AS query: a materialized view needs one, found the end"),
        ("CREATE STREAMING TABLE t\nCLUSTER ON (a)", "gold.sql:2:1", "expected COMMENT, PARTITIONED BY"),
        ("CREATE STREAMING TABLE t (a INT,\n CONSTRAINT c EXPECT (a > 0) ON VIOLATION SKIP)", "gold.sql:2:43", "expected ON VIOLATION DROP ROW or FAIL UPDATE"),
        ("CREATE FLOW f AS AUTO CDC INTO t FROM s KEYS (id)", "gold.sql:1:50", "AUTO CDC needs SEQUENCE BY"),
        ("CREATE STREAMING TABLE t USING parquet", "gold.sql:1:32", "pipeline tables are Delta tables"),
        ("CREATE STREAMING TABLE t FLOW REPLACE WHERE d > 1 BY NAME SELECT 1", "gold.sql:1:31", "FLOW REPLACE WHERE is not supported"),
        ("SELECT 'unclosed", "gold.sql:1:8", "string not closed"),
    ],
)  # fmt: skip
def test_a_malformed_statement_is_named_by_file_line_and_column(text, where, message):
    with pytest.raises(GraphError) as error:
        _read(text)
    assert str(error.value).startswith(f"{where}: {message}"), str(error.value)
    assert f"in: {text.splitlines()[0][:40]}" in str(error.value)


def test_spark_finds_every_relation_a_query_reads(spark):
    text = (
        "WITH recent AS (SELECT * FROM LIVE.orders) "
        "SELECT o.*, (SELECT max(id) FROM main.sales.dim) AS top FROM STREAM(events) o "
        "JOIN recent r ON r.id = o.id "
        "JOIN read_files('/in', format => 'csv', header => true) f ON f.id = o.id "
        "WHERE o.id IN (SELECT id FROM STREAM ids) AND EXISTS (SELECT 1 FROM `odd name`)"
    )
    query = parse_query(spark, Query(text, 0), tokenize(text, "q.sql", 1, 1))
    found = [(text[r.start : r.end], r.streaming, r.table or r.files) for r in query.relations]
    assert found == [
        ("LIVE.orders", False, "`LIVE`.`orders`"),
        ("main.sales.dim", False, "`main`.`sales`.`dim`"),
        ("STREAM(events)", True, "`events`"),
        ("read_files('/in', format => 'csv', header => true)", False, "/in"),
        ("STREAM ids", True, "`ids`"),
        ("`odd name`", False, "`odd name`"),
    ]  # the CTE's own name is no relation
    assert query.relations[3].options == {"format": "csv", "header": "true"}


def test_sql_files_are_pipeline_files_beside_python_ones(tmp_path):
    (tmp_path / "gold.sql").write_text("CREATE VIEW v AS SELECT 1")
    (tmp_path / "bronze.py").write_text("")
    (tmp_path / "notes.md").write_text("")
    assert [p.name for p in pipeline_files([tmp_path])] == ["bronze.py", "gold.sql"]
    assert pipeline_files([tmp_path / "gold.sql"]) == [(tmp_path / "gold.sql").resolve()]
    with pytest.raises(ConfigurationError, match=r"must be Python \(.py\) or SQL \(.sql\) files"):
        pipeline_files([tmp_path / "notes.md"])


# -- the same pipeline in SQL and in Python -------------------------------------------------

SQL_PIPELINE = """\
CREATE OR REFRESH STREAMING TABLE raw_orders
COMMENT 'Orders as landed'
AS SELECT * FROM STREAM read_files('${landing}/orders', format => 'json',
                                   schema => 'id INT, amount DOUBLE, country STRING');

CREATE OR REFRESH STREAMING TABLE orders (
  CONSTRAINT has_id EXPECT (id IS NOT NULL) ON VIOLATION DROP ROW,
  CONSTRAINT positive EXPECT (amount > 0)
)
PARTITIONED BY (country)
TBLPROPERTIES ('quality' = 'silver')
AS SELECT id, amount, country FROM STREAM(LIVE.raw_orders);

CREATE TEMPORARY VIEW dutch AS SELECT * FROM orders WHERE country = 'NL';

CREATE OR REFRESH MATERIALIZED VIEW dutch_totals AS
SELECT country, sum(amount) AS total, count(*) AS orders FROM dutch GROUP BY country;

CREATE OR REFRESH STREAMING TABLE all_ids;
CREATE FLOW stream_ids AS INSERT INTO all_ids BY NAME SELECT id FROM STREAM orders;
CREATE FLOW backfill_ids AS INSERT INTO ONCE all_ids BY NAME SELECT CAST(0 AS INT) AS id;

CREATE TEMPORARY VIEW all_customer_changes AS
SELECT * FROM STREAM read_files('${landing}/customers', format => 'json',
                                schemaHints => 'id INT, seq INT');
CREATE TEMPORARY VIEW customer_changes AS
SELECT * FROM STREAM(all_customer_changes) WHERE op != 'T';

CREATE OR REFRESH STREAMING TABLE customers;
CREATE FLOW customers_cdc AS AUTO CDC INTO customers
FROM STREAM(customer_changes) KEYS (id) APPLY AS DELETE WHEN op = 'D' SEQUENCE BY seq
COLUMNS * EXCEPT (op, seq) STORED AS SCD TYPE 2 TRACK HISTORY ON * EXCEPT (city);

CREATE OR REFRESH STREAMING TABLE customers_latest;
APPLY CHANGES INTO LIVE.customers_latest FROM STREAM(LIVE.all_customer_changes)
KEYS (id) IGNORE NULL UPDATES APPLY AS DELETE WHEN op = 'D' APPLY AS TRUNCATE WHEN op = 'T'
SEQUENCE BY seq COLUMNS * EXCEPT (op, seq) STORED AS SCD TYPE 1;

SET spark.sql.session.timeZone = Asia/Tokyo;
CREATE OR REFRESH MATERIALIZED VIEW refreshed_in AS SELECT current_timezone() AS zone;
"""

PYTHON_PIPELINE = """\
import dlt
from pyspark.sql import functions as F

def files(folder, schema):
    return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "json")
            .option("cloudFiles.inferColumnTypes", "true").schema(schema)
            .load(spark.conf.get("landing") + "/" + folder))

@dlt.table(comment="Orders as landed")
def raw_orders():
    return files("orders", "id INT, amount DOUBLE, country STRING")

@dlt.table(partition_cols=["country"], table_properties={"quality": "silver"})
@dlt.expect_or_drop("has_id", "id IS NOT NULL")
@dlt.expect("positive", "amount > 0")
def orders():
    return spark.readStream.table("raw_orders").select("id", "amount", "country")

@dlt.view
def dutch():
    return spark.read.table("orders").where("country = 'NL'")

@dlt.table
def dutch_totals():
    return (spark.read.table("dutch").groupBy("country")
            .agg(F.sum("amount").alias("total"), F.count("*").alias("orders")))

dlt.create_streaming_table("all_ids")

@dlt.append_flow(target="all_ids")
def stream_ids():
    return spark.readStream.table("orders").select("id")

@dlt.append_flow(target="all_ids", once=True)
def backfill_ids():
    return spark.range(1).select(F.lit(0).cast("int").alias("id"))

@dlt.view
def all_customer_changes():
    return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "json")
            .option("cloudFiles.inferColumnTypes", "true")
            .option("cloudFiles.schemaHints", "id INT, seq INT")
            .load(spark.conf.get("landing") + "/customers"))

@dlt.view
def customer_changes():
    return spark.readStream.table("all_customer_changes").where("op != 'T'")

dlt.create_streaming_table("customers")
dlt.create_auto_cdc_flow(
    target="customers", source="customer_changes", keys=["id"], sequence_by="seq",
    apply_as_deletes="op = 'D'", except_column_list=["op", "seq"], stored_as_scd_type=2,
    track_history_except_column_list=["city"], name="customers_cdc",
)

dlt.create_streaming_table("customers_latest")
dlt.apply_changes(
    target="customers_latest", source="all_customer_changes", keys=["id"], sequence_by="seq",
    ignore_null_updates=True, apply_as_deletes="op = 'D'", apply_as_truncates="op = 'T'",
    except_column_list=["op", "seq"], stored_as_scd_type=1,
)

@dlt.table(spark_conf={"spark.sql.session.timeZone": "Asia/Tokyo"})
def refreshed_in():
    return spark.range(1).select(F.current_timezone().alias("zone"))
"""

BATCHES = [
    {
        "orders": [
            {"id": 1, "amount": 10.0, "country": "NL"},
            {"id": 2, "amount": 20.0, "country": "DE"},
            {"id": None, "amount": 7.0, "country": "FR"},
        ],
        "customers": [
            {"id": 1, "name": "Ann", "city": "Utrecht", "op": "U", "seq": 1},
            {"id": 2, "name": "Bob", "city": "Delft", "op": "U", "seq": 1},
            {"id": 3, "name": "Cy", "city": "Breda", "op": "U", "seq": 1},
            {"id": 5, "name": "Eve", "city": "Gouda", "op": "U", "seq": 1},
        ],
    },
    {
        "orders": [
            {"id": 3, "amount": -5.0, "country": "NL"},
            {"id": 4, "amount": 12.5, "country": "NL"},
        ],
        "customers": [  # a truncate at 2 empties customers_latest before the changes at 3 on
            {"id": None, "name": None, "city": None, "op": "T", "seq": 2},
            {"id": 1, "name": "Anna", "city": "Utrecht", "op": "U", "seq": 3},
            {"id": 2, "name": None, "city": None, "op": "D", "seq": 3},
            {"id": 3, "name": "Cy", "city": "Leiden", "op": "U", "seq": 3},  # untracked change
            {"id": 1, "name": None, "city": "Amsterdam", "op": "U", "seq": 4},  # a null update
        ],
    },
]

TABLES = (
    "raw_orders", "orders", "dutch_totals", "all_ids", "customers", "customers_latest",
    "refreshed_in",
)  # fmt: skip


def _land(landing: Path, batch: int) -> None:
    for folder, records in BATCHES[batch].items():
        (landing / folder).mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(r) + "\n" for r in records)
        (landing / folder / f"{batch}.json").write_text(lines)


def _metrics(result) -> list[dict]:
    flows = [asdict(f) for f in result.flows]
    return sorted(({k: v for k, v in f.items() if k != "seconds"} for f in flows), key=str)


def _event_metrics(storage: Path, spark) -> list[tuple]:
    """Each flow's progress in the event log, without the ids, times and durations."""
    details = "get_json_object(details, '$.flow_progress.{}')"
    query = (
        f"SELECT origin.flow_name, origin.dataset_name, {details.format('status')}, "
        f"{details.format('metrics.num_output_rows')}, "
        f"{details.format('data_quality')} FROM main.shop.event_log "
        "WHERE event_type = 'flow_progress'"
    )
    return sorted(tuple(r) for r in sql(storage, query, spark=spark).collect())


def test_the_same_pipeline_in_sql_and_in_python_gives_the_same_tables_and_metrics(tmp_path, spark):
    landing = tmp_path / "landing"
    sources = {"sql": ("pipeline.sql", SQL_PIPELINE), "python": ("pipeline.py", PYTHON_PIPELINE)}
    for language, (name, code) in sources.items():
        (tmp_path / language).mkdir()
        (tmp_path / language / name).write_text(code)

    def run(language: str, **options):
        return run_pipeline(
            [tmp_path / language], storage=tmp_path / f"{language}_storage", name="shop",
            schema="shop", configuration={"landing": str(landing)}, spark=spark, **options,
        )  # fmt: skip

    # incremental, then a refresh of two tables while the others go on, then a full refresh
    updates = [{}, {"refresh": ["customers_latest", "refreshed_in"]}, {"full_refresh": True}]
    flows_run = 0
    for batch, options in enumerate(updates):
        if batch < len(BATCHES):
            _land(landing, batch)
        in_sql, in_python = run("sql", **options), run("python", **options)
        assert in_sql.datasets == in_python.datasets
        assert _metrics(in_sql) == _metrics(in_python), options
        flows_run += sum(not f.skipped for f in in_sql.flows)
    for table in TABLES:
        query = f"SELECT * FROM main.shop.{table}"
        assert_df_equality(
            sql(tmp_path / "sql_storage", query, spark=spark),
            sql(tmp_path / "python_storage", query, spark=spark),
            ignore_row_order=True, ignore_nullable=True,
        )  # fmt: skip
    in_event_log = _event_metrics(tmp_path / "sql_storage", spark)
    assert in_event_log == _event_metrics(tmp_path / "python_storage", spark)
    assert [e[2] for e in in_event_log].count("COMPLETED") == flows_run

    def rows(query: str) -> list[tuple]:
        return [tuple(r) for r in sql(tmp_path / "sql_storage", query, spark=spark).collect()]

    assert in_sql.expectation("orders", "positive")["failed_records"] == 1
    assert in_sql.rows_written("all_ids") == 5  # rebuilt: the backfill's row and each order's
    # SCD2 tracks the name only: Cy's move is no new version, Ann's renames are; Bob's delete
    # ends his version
    query = (
        "SELECT id, name, city, __END_AT IS NULL FROM main.shop.customers ORDER BY id, __START_AT"
    )
    assert rows(query) == [
        (1, "Ann", "Utrecht", False), (1, "Anna", "Utrecht", False), (1, None, "Amsterdam", True),
        (2, "Bob", "Delft", False), (3, "Cy", "Leiden", True), (5, "Eve", "Gouda", True),
    ]  # fmt: skip
    # SCD1: the truncate removed Eve, the null name of the last change is ignored
    assert rows("SELECT id, name, city FROM main.shop.customers_latest ORDER BY id") == [
        (1, "Anna", "Amsterdam"), (3, "Cy", "Leiden"),
    ]  # fmt: skip
    assert rows("SELECT zone FROM main.shop.refreshed_in") == [("Asia/Tokyo",)]  # SET's conf
    detail = (
        DeltaTable.forPath(spark, str(tmp_path / "sql_storage/catalog/main/shop/orders"))
        .detail()
        .first()
    )
    assert detail["partitionColumns"] == ["country"]
    assert detail["properties"]["quality"] == "silver"


def test_sql_and_python_files_in_one_folder_read_each_others_datasets(workspace):
    workspace.source(
        """
        CREATE OR REFRESH STREAMING TABLE orders
        AS SELECT * FROM STREAM read_files('${landing}', format => 'json');

        CREATE OR REFRESH MATERIALIZED VIEW doubled (id BIGINT MASK hr.mask_id, twice DOUBLE)
        WITH ROW FILTER hr.same_region ON (id)
        AS SELECT id, amount * 2 AS twice FROM big;

        SET landed.format = json;
        CREATE OR REFRESH MATERIALIZED VIEW landed
        AS SELECT count(*) AS files_rows FROM read_files('${landing}', format => '${landed.format}');

        CREATE VIEW small COMMENT 'Published' AS SELECT id FROM orders WHERE amount < 5;
        """,
        name="silver.sql",
    )
    workspace.source(
        """
        import dlt

        @dlt.view
        def big():
            return spark.read.table("orders").where("amount > 5")

        @dlt.table
        def small_count():
            return spark.read.table("small").groupBy().count()
        """,
        name="views.py",
    )
    workspace.land("a.json", [{"id": 1, "amount": 10.0}, {"id": 2, "amount": 1.0}])
    result = workspace.run()
    assert result.datasets == {
        "main.sales.orders": "streaming_table",
        "big": "view",
        "main.sales.doubled": "materialized_view",
        "main.sales.landed": "materialized_view",
        "main.sales.small": "view",
        "main.sales.small_count": "materialized_view",
    }
    assert workspace.rows("doubled", "id") == [{"id": 1, "twice": 20.0}]
    assert workspace.rows("landed", "files_rows") == [{"files_rows": 2}]  # batch read_files
    # CREATE VIEW publishes the view: read outside the pipeline, and by it
    assert workspace.rows("main.sales.small", "id") == [{"id": 2}]
    assert workspace.rows("small_count", "count") == [{"count": 1}]
    described = {r[0]: r[1] for r in workspace.sql("DESCRIBE TABLE EXTENDED small").collect()}
    assert described["id"] == "bigint" and described["Type"] == "VIEW"
    assert described["View Text"] == "SELECT id FROM orders WHERE amount < 5"
    (created,) = workspace.sql("SHOW CREATE TABLE main.sales.small").first()
    assert created == (
        "CREATE VIEW main.sales.small COMMENT 'Published' AS\n"
        "SELECT id FROM orders WHERE amount < 5\n"
    )
    with pytest.raises(GraphError, match=r"'main\.sales\.small' is a view: DESCRIBE HISTORY"):
        workspace.sql("DESCRIBE HISTORY main.sales.small")
    # Unity Catalog's row filters and column masks are declared, and said not to apply here
    (doubled,) = [e for e in workspace.events() if e["origin"]["dataset_name"] == "main.sales.doubled"
                  and e["event_type"] == "dataset_definition"]  # fmt: skip
    assert doubled["level"] == "WARN" and result.warnings == [doubled["message"]]
    assert doubled["details"]["dataset_definition"]["not_applied_locally"] == [
        "ROW FILTER hr.same_region ON (id)", "MASK hr.mask_id on id",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("statements", "message"),
    [
        ("CREATE VIEW v AS SELECT * FROM STREAM(orders)", "view 'main.sales.v' has a streaming query"),
        ("CREATE TEMPORARY VIEW t AS SELECT * FROM orders;\nCREATE VIEW v AS SELECT * FROM t",
         "view 'main.sales.v' reads t, which only this pipeline sees"),
        ("CREATE VIEW v AS SELECT 1 AS x;\nCREATE STREAMING TABLE s AS SELECT * FROM STREAM(v)",
         "streaming read of view 'main.sales.v'"),
        ("CREATE VIEW orders AS SELECT 1 AS x", "dataset 'main.sales.orders' is defined twice"),
    ],
)  # fmt: skip
def test_a_published_view_is_a_batch_query_over_the_catalog(workspace, statements, message):
    workspace.source(
        "CREATE STREAMING TABLE orders AS SELECT * FROM STREAM read_files('${landing}', "
        f"format => 'json', schema => 'id INT');\n{statements}",
        name="gold.sql",
    )
    with pytest.raises(GraphError, match=re.escape(message)):
        workspace.run()


def test_a_query_spark_cannot_parse_is_named_by_file_line_and_column(workspace):
    workspace.source(
        "CREATE MATERIALIZED VIEW ok AS SELECT 1 AS one;\n\n"
        "CREATE MATERIALIZED VIEW broken AS\n  SELECT id,, amount FROM orders;\n",
        name="gold.sql",
    )
    with pytest.raises(GraphError) as error:
        workspace.run()
    message = str(error.value)
    assert message.startswith(f"{workspace.src / 'gold.sql'}:4:13: not a valid query: "), message
    assert "PARSE_SYNTAX_ERROR" in message and "in: CREATE MATERIALIZED VIEW broken AS" in message


def test_columns_qualified_by_table_name_resolve_and_an_unknown_one_is_placed(workspace):
    workspace.source(
        "CREATE MATERIALIZED VIEW a AS SELECT 1 AS x;\n"
        "CREATE MATERIALIZED VIEW b AS SELECT a.x, a2.x AS y FROM a JOIN a AS a2 ON a.x = a2.x;\n"
        "CREATE MATERIALIZED VIEW c AS\n  SELECT b.x FROM b\n  WHERE b.z > 0;\n",
        name="gold.sql",
    )
    with pytest.raises(GraphError) as error:
        workspace.run()
    message = str(error.value)  # b resolved; c's unknown column is where it is written
    assert message.startswith(f"{workspace.src / 'gold.sql'}:5:9: [UNRESOLVED_COLUMN"), message


def test_a_streaming_table_over_a_batch_query_is_refused(workspace):
    workspace.source(
        "CREATE MATERIALIZED VIEW numbers AS SELECT 1 AS n;\n"
        "CREATE STREAMING TABLE copied AS SELECT * FROM numbers;\n",
        name="gold.sql",
    )
    with pytest.raises(
        GraphError, match=r"streaming table 'main\.sales\.copied' has a batch query"
    ):
        workspace.run()
