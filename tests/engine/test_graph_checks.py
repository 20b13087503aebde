"""Graph errors are found before any data moves, and name the file and line."""

from __future__ import annotations

import pytest

from lakehouse.engine import ConfigurationError, GraphError
from tests.engine.test_datasets import ORDERS_PIPELINE, STREAM_ORDERS


def _line_of(path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _assert_nothing_written(workspace) -> None:
    catalog = workspace.storage / "catalog/main/sales"
    assert not catalog.exists() or sorted(p.name for p in catalog.iterdir()) == ["event_log"]


def test_unknown_dataset_names_the_line_that_reads_it(workspace):
    source = workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    def orders():
        return spark.read.table("no_such_table")
    """
    )
    with pytest.raises(GraphError, match="unknown dataset 'no_such_table'") as error:
        workspace.run()
    assert error.value.location.file == str(source.resolve())
    assert error.value.location.line == _line_of(source, "no_such_table")


def test_unknown_dataset_in_spark_sql_names_the_users_line(workspace):
    source = workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    def orders():
        return spark.sql("SELECT * FROM stream(main.silver.gone)")
    """
    )
    with pytest.raises(GraphError, match="unknown dataset") as error:
        workspace.run()
    assert error.value.location.file == str(source.resolve())
    assert error.value.location.line == _line_of(source, "main.silver.gone")


def test_cycle_is_reported_with_its_path(workspace):
    source = workspace.source(
        """
    import dlt

    @dlt.table
    def a():
        return dlt.read("b")

    @dlt.table
    def b():
        return dlt.read("a")
    """
    )
    with pytest.raises(
        GraphError, match=r"cycle: main.sales.a -> main.sales.b -> main.sales.a"
    ) as error:
        workspace.run()
    assert error.value.location.file == str(source.resolve())
    _assert_nothing_written(workspace)


def test_duplicate_dataset_name_names_both_definitions(workspace):
    source = workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table(name="orders")
    def first():
        return landing()

    @dlt.table(name="orders")
    def second():
        return landing()
    """
    )
    with pytest.raises(GraphError, match="defined twice") as error:
        workspace.run()
    # A decorated function starts at its decorator, as Python reports it.
    assert error.value.location.line == _line_of(source, "def second") - 1
    assert f":{_line_of(source, 'def first') - 1})" in str(error.value)


def test_duplicate_between_view_and_table_is_an_error(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.view
    def orders():
        return landing()

    @dlt.table(name="main.sales.orders")
    def orders_table():
        return landing()
    """
    )
    with pytest.raises(GraphError, match="defined twice"):
        workspace.run()


def test_streaming_read_of_a_materialized_view_is_refused(workspace):
    source = workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    def orders():
        return landing()

    @dp.materialized_view
    def totals():
        return spark.read.table("orders").groupBy("country").count()

    @dlt.table
    def totals_stream():
        return spark.readStream.table("totals")
    """
    )
    with pytest.raises(GraphError, match="streaming read of materialized view") as error:
        workspace.run()
    assert error.value.location.line == _line_of(source, 'readStream.table("totals")')


@pytest.mark.parametrize(
    ("action", "method"),
    [
        ("frame.collect()", "collect"),
        ("frame.count()", "count"),
        ("frame.toPandas()", "toPandas"),
        ("frame.write.format('delta').save('/tmp/x')", "save"),
        ("frame.write.saveAsTable('x')", "saveAsTable"),
        ("landing().writeStream.format('console').start()", "start"),
    ],
)
def test_query_function_that_collects_or_writes_is_refused(workspace, action, method):
    source = workspace.source(
        STREAM_ORDERS
        + f"""
    @dlt.table
    def orders():
        frame = spark.createDataFrame([(1,)], "id INT")
        {action}
        return frame
    """
    )
    with pytest.raises(GraphError, match=rf"calls {method}\(\)") as error:
        workspace.run()
    assert error.value.location.line == _line_of(source, action)
    _assert_nothing_written(workspace)


def test_aggregations_named_like_actions_are_allowed(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    def per_country():
        return spark.createDataFrame([(1, "NL")], "id INT, c STRING").groupBy("c").count()
    """
    )
    workspace.run()
    assert workspace.table("per_country").collect()[0]["count"] == 1


def test_append_flow_into_an_undeclared_table_is_an_error(workspace):
    source = workspace.source(
        STREAM_ORDERS
        + """
    @dlt.append_flow(target="nowhere")
    def lost():
        return landing()
    """
    )
    with pytest.raises(
        GraphError, match=r"'main\.sales\.nowhere', which this pipeline does not define"
    ) as error:
        workspace.run()
    assert error.value.location.line == _line_of(source, "def lost") - 1


def test_materialized_view_with_a_streaming_query_is_an_error(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dp.materialized_view
    def orders():
        return landing()
    """
    )
    with pytest.raises(
        GraphError, match=r"materialized view 'main\.sales\.orders' has a streaming query"
    ):
        workspace.run()


def test_batch_append_flow_without_once_is_an_error(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    dlt.create_streaming_table("orders")

    @dlt.append_flow(target="orders")
    def batch():
        return spark.createDataFrame([(1,)], "id INT")
    """
    )
    with pytest.raises(GraphError, match="returns a batch query"):
        workspace.run()


def test_query_function_returning_something_else_than_a_dataframe_is_an_error(workspace):
    workspace.source(
        """
    import dlt

    @dlt.table
    def orders():
        return [1, 2, 3]
    """
    )
    with pytest.raises(GraphError, match="returned list, expected a DataFrame"):
        workspace.run()


def test_error_while_loading_a_file_names_the_file_and_line(workspace):
    source = workspace.source(
        """
    import dlt

    settings = {"a": 1}
    value = settings["missing"]
    """
    )
    with pytest.raises(GraphError, match="KeyError") as error:
        workspace.run()
    assert error.value.location.line == _line_of(source, 'settings["missing"]')


def test_a_failed_assert_in_a_query_function_shows_the_assert(workspace):
    source = workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    def orders():
        frame = landing()
        assert "amount" not in frame.columns
        return frame
    """
    )
    with pytest.raises(GraphError) as error:
        workspace.run()
    line = _line_of(source, "assert")
    assert str(error.value).endswith(
        f"the query function of 'main.sales.orders' failed: "
        f'AssertionError at pipeline.py:{line}: assert "amount" not in frame.columns'
    )
    assert error.value.location.line == line


def test_syntax_error_in_a_pipeline_file_names_the_line(workspace):
    source = workspace.source("import dlt\n\n@dlt.table\ndef broken(:\n    pass\n")
    with pytest.raises(GraphError, match="SyntaxError") as error:
        workspace.run()
    assert error.value.location == type(error.value.location)(str(source.resolve()), 4)


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (["missing_folder"], "no such file or folder"),
        (["notes.txt"], "must be Python"),
        (["empty"], "no pipeline source files"),
    ],
)
def test_bad_paths_are_configuration_errors(workspace, paths, message):
    (workspace.root / "notes.txt").write_text("hello")
    (workspace.root / "empty").mkdir()
    from lakehouse.engine import run_pipeline

    with pytest.raises(ConfigurationError, match=message):
        run_pipeline(
            [workspace.root / p for p in paths], storage=workspace.storage, spark=workspace.spark
        )


def test_full_refresh_and_refresh_selection_together_are_refused(workspace):
    workspace.source("import dlt\n")
    with pytest.raises(ConfigurationError, match="either"):
        workspace.run(full_refresh=True, refresh=["orders"])


def test_refresh_of_an_unknown_table_is_refused(workspace):
    workspace.source(ORDERS_PIPELINE)
    with pytest.raises(ConfigurationError, match="'nope' is not a table of this pipeline"):
        workspace.run(refresh=["nope"])


def test_invalid_schema_ddl_is_a_graph_error(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table(schema="id INTEGR")
    def orders():
        return landing()
    """
    )
    with pytest.raises(GraphError, match="not valid DDL"):
        workspace.run()


def test_query_that_spark_cannot_resolve_is_a_graph_error_at_its_line(workspace):
    source = workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    def orders():
        return landing().select("no_such_column")
    """
    )
    with pytest.raises(GraphError, match="no_such_column") as error:
        workspace.run()
    assert error.value.location.line == _line_of(source, "no_such_column")
    _assert_nothing_written(workspace)


def test_expectations_given_as_something_else_than_a_dict_are_a_graph_error(workspace):
    source = workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    @dlt.expect_all(["id IS NOT NULL"])
    def orders():
        return landing()
    """
    )
    with pytest.raises(GraphError, match="must be a dict of name to SQL constraint") as error:
        workspace.run()
    assert error.value.location.line == _line_of(source, "expect_all")
