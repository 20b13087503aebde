"""Expectations keep, drop or fail rows as documented, and count every one."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality

from lakehouse.engine import ExpectationFailed, GraphError
from lakehouse.engine.graph.elements import Expectation
from lakehouse.engine.quality.expectations import ExpectationCheck, apply_expectations
from tests.conftest import ORDERS
from tests.engine.test_datasets import STREAM_ORDERS


def test_apply_expectations_drops_only_rows_that_break_a_drop_rule(spark):
    frame = spark.createDataFrame([(1, 5.0), (None, 3.0), (3, -1.0)], "id INT, amount DOUBLE")
    check = ExpectationCheck(
        "unit#0",
        "orders",
        (
            Expectation("has_id", "id IS NOT NULL", "drop"),
            Expectation("positive", "amount > 0", "warn"),
        ),
    )
    expected = spark.createDataFrame([(1, 5.0), (3, -1.0)], "id INT, amount DOUBLE")
    assert_df_equality(apply_expectations(frame, check), expected, ignore_row_order=True)


def test_warn_keeps_rows_drop_removes_them_and_both_are_counted(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    @dlt.expect("positive_amount", "amount > 0")
    @dlt.expect_or_drop("has_id", "id IS NOT NULL")
    def orders():
        return landing()
    """
    )
    workspace.land("a.json", ORDERS)
    result = workspace.run()
    assert sorted(r["id"] for r in workspace.table("orders").collect()) == [1, 2, 3]
    assert result.expectation("orders", "positive_amount") == {
        "name": "positive_amount",
        "dataset": "main.sales.orders",
        "passed_records": 3,
        "failed_records": 1,
    }
    assert result.expectation("orders", "has_id")["failed_records"] == 1
    assert result.flows[0].dropped_records == 1
    assert result.rows_written("orders") == 3


def test_a_constraint_that_evaluates_to_null_counts_as_broken(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    @dlt.expect_or_drop("positive_id", "id > 0")
    def orders():
        return landing()
    """
    )
    workspace.land("a.json", ORDERS)
    result = workspace.run()
    assert result.expectation("orders", "positive_id")["failed_records"] == 1
    assert workspace.table("orders").count() == 3


def test_expect_or_fail_stops_the_update_naming_expectation_dataset_and_record(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    @dlt.expect_or_fail("positive_amount", "amount > 0")
    def orders():
        return landing()
    """
    )
    workspace.land("a.json", ORDERS)
    with pytest.raises(ExpectationFailed) as failure:
        workspace.run()
    message = str(failure.value)
    assert "'positive_amount'" in message
    assert "'main.sales.orders'" in message
    assert '"amount": -5.0' in message and '"id": 3' in message
    assert not (
        workspace.storage / "catalog/main/sales/orders/_delta_log/00000000000000000001.json"
    ).exists()
    failed = [e for e in workspace.events() if e["event_type"] == "update_progress"][-1]
    assert failed["details"]["update_progress"]["state"] == "FAILED"


def test_expect_all_variants_apply_every_rule_in_the_dict(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    rules = {"has_id": "id IS NOT NULL", "positive_amount": "amount > 0"}

    @dlt.table
    @dlt.expect_all(rules)
    def warned():
        return landing()

    @dlt.table
    @dlt.expect_all_or_drop(rules)
    def dropped():
        return landing()

    @dlt.table
    @dlt.expect_all_or_fail({"known_country": "country IS NOT NULL"})
    def failed_never():
        return landing()
    """
    )
    workspace.land("a.json", ORDERS)
    result = workspace.run()
    assert workspace.table("warned").count() == 4
    assert sorted(r["id"] for r in workspace.table("dropped").collect()) == [1, 2]
    assert result.expectation("dropped", "positive_amount")["failed_records"] == 1
    assert result.expectation("failed_never", "known_country")["passed_records"] == 4


def test_expectations_on_views_and_on_create_streaming_table_apply_to_their_rows(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.view
    @dlt.expect_or_drop("has_id", "id IS NOT NULL")
    def clean_orders():
        return landing()

    dlt.create_streaming_table("orders", expect_all_or_drop={"positive_amount": "amount > 0"})

    @dlt.append_flow(target="orders")
    def from_view():
        return dlt.read_stream("clean_orders")

    @dlt.table
    @dlt.expect("above_ten", "amount > 10")
    def big_batch():
        return dlt.read("orders")
    """
    )
    workspace.land("a.json", ORDERS)
    result = workspace.run()
    assert sorted(r["id"] for r in workspace.table("orders").collect()) == [1, 2]
    assert result.expectation("clean_orders", "has_id")["failed_records"] == 1
    assert result.expectation("orders", "positive_amount")["failed_records"] == 1
    assert result.expectation("big_batch", "above_ten")["failed_records"] == 1


def test_expectation_decorators_above_the_table_decorator_also_apply(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.expect_or_drop("has_id", "id IS NOT NULL")
    @dlt.table
    def orders():
        return landing()
    """
    )
    workspace.land("a.json", ORDERS)
    workspace.run()
    assert workspace.table("orders").count() == 3


@pytest.mark.parametrize(
    "constraint", ["amount >", "no_such_column > 0"], ids=["syntax", "unknown_column"]
)
def test_an_invalid_constraint_is_a_graph_error_naming_the_expectation(workspace, constraint):
    workspace.source(
        STREAM_ORDERS
        + f"""
    @dlt.table
    @dlt.expect("broken_rule", "{constraint}")
    def orders():
        return landing()
    """
    )
    workspace.land("a.json", ORDERS)
    with pytest.raises(GraphError, match="broken_rule"):
        workspace.run()
    assert not (workspace.storage / "catalog/main/sales/orders").exists()


def test_a_failure_on_a_classified_table_masks_its_values_and_logs_the_whole_error(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table(table_properties={"lakehouse.classification": "general",
                                 "lakehouse.classification.columns": '{"country": "restricted"}'})
    @dlt.expect_or_fail("positive_amount", "amount > 0")
    def orders():
        return landing().select("*", F.col("_metadata.file_path").alias("_source_file"))
    """
    )
    landed = workspace.land("a.json", ORDERS)
    with pytest.raises(ExpectationFailed) as failure:
        workspace.run()
    message = str(failure.value)
    assert '"country": "<masked: restricted>"' in message and '"NL"' not in message
    assert '"id": 3' in message and f"from file file:{landed}" in message
    log = failure.value.log_file
    assert log is not None and log.is_relative_to(workspace.storage)
    assert f"Full error: {log}" in message
    whole = log.read_text()
    assert "Traceback" in whole and "NL" not in whole
    failed = [e for e in workspace.events() if e["event_type"] == "flow_progress"][-1]
    assert "<masked: restricted>" in failed["error"] and "NL" not in failed["error"]
