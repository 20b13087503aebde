"""Auto Loader (cloudFiles) on open-source Spark: schema inference and location, rescued data,
schema evolution modes, and each file ingested once."""

from __future__ import annotations

import json
import os

import pytest

from lakehouse.engine import PipelineError


def _pipeline(*options: str, schema: str | None = None, file_format: str = "json") -> str:
    chained = "".join(f".option({o})" for o in options)
    with_schema = f'.schema("{schema}")' if schema else ""
    return f"""
import dlt

@dlt.table
def raw_orders():
    return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "{file_format}")
            {chained}
            {with_schema}.load(spark.conf.get("landing")))
"""


def _rows(workspace, order_by: str = "id") -> list[dict]:
    return workspace.rows("raw_orders", order_by)


def test_json_columns_are_inferred_as_strings_and_each_file_is_read_once(workspace):
    workspace.source(_pipeline())
    workspace.land("1.json", [{"id": 1, "amount": 9.5}, {"id": 2, "amount": 3}])
    first = workspace.run()
    assert first.rows_written("raw_orders") == 2
    assert _rows(workspace) == [
        {"id": "1", "amount": "9.5", "_rescued_data": None},
        {"id": "2", "amount": "3", "_rescued_data": None},
    ]
    workspace.land("2.json", [{"id": 3, "amount": 1}])
    second = workspace.run()
    assert second.rows_written("raw_orders") == 1
    assert workspace.run().rows_written("raw_orders") == 0


def test_the_schema_and_the_stream_see_the_same_files_in_nested_folders(workspace):
    workspace.source(
        """
        import dlt

        def files(path, *filters):
            reader = spark.readStream.format("cloudFiles").option("cloudFiles.format", "json")
            for name_filter in filters:
                reader = reader.option("pathGlobFilter", name_filter)
            return reader.load(spark.conf.get("landing") + path)

        @dlt.table
        def nested():
            return files("/orders")

        @dlt.table
        def globbed():
            return files("/orders/round*/")

        @dlt.table
        def filtered():
            return files("/orders", "*.json")
        """
    )
    workspace.land("a.json", [{"id": 1}], folder="orders/round1")
    workspace.land("b.json", [{"id": 2, "late": True}], folder="orders/round2/retry")
    workspace.land("c.txt", [{"id": 3, "other": "x"}], folder="orders")
    workspace.run()
    assert workspace.rows("nested", "id") == [
        {"id": "1", "late": None, "other": None, "_rescued_data": None},
        {"id": "2", "late": "true", "other": None, "_rescued_data": None},
        {"id": "3", "late": None, "other": "x", "_rescued_data": None},
    ]
    for table in ("globbed", "filtered"):  # the .txt file is not theirs, nor is its column
        assert workspace.rows(table, "id") == [
            {"id": "1", "late": None, "_rescued_data": None},
            {"id": "2", "late": "true", "_rescued_data": None},
        ], table


def test_infer_column_types_and_schema_hints_type_the_columns(workspace):
    workspace.source(
        _pipeline(
            '"cloudFiles.inferColumnTypes", "true"',
            '"cloudFiles.schemaHints", "amount DECIMAL(10,2), note STRING"',
        )
    )
    workspace.land("1.json", [{"id": 1, "amount": 9.5, "when": "2026-01-01"}])
    workspace.run()
    schema = workspace.table("raw_orders").schema
    assert schema["id"].dataType.typeName() == "long"
    assert schema["amount"].dataType.simpleString() == "decimal(10,2)"
    assert schema["note"].dataType.typeName() == "string"


def test_values_that_do_not_fit_their_type_are_rescued_with_the_file_path(workspace):
    workspace.source(_pipeline('"cloudFiles.inferColumnTypes", "true"'))
    workspace.land("1.json", [{"id": 1, "amount": 2.5}])
    workspace.run()
    bad = workspace.land("2.json", [{"id": 2, "amount": "lots"}])
    workspace.run()
    row = _rows(workspace)[1]
    assert row["id"] == 2 and row["amount"] is None
    rescued = json.loads(row["_rescued_data"])
    assert rescued["amount"] == "lots"
    assert rescued["_file_path"].endswith(str(bad))


def test_a_line_that_is_not_json_is_rescued_whole(workspace):
    workspace.source(_pipeline())
    workspace.land("1.json", [{"id": 1}])
    (workspace.landing / "2.json").write_text('{"id": 2}\nnot json at all\n\n')
    workspace.run()
    rows = _rows(workspace, "id NULLS LAST")
    assert [r["id"] for r in rows] == ["1", "2", None]
    assert json.loads(rows[2]["_rescued_data"])["_corrupt_record"] == "not json at all"


def test_add_new_columns_evolves_the_schema_on_the_next_update(workspace):
    workspace.source(_pipeline())
    workspace.land("1.json", [{"id": 1}])
    workspace.run()
    workspace.land("2.json", [{"id": 2, "country": "NL"}])
    workspace.run()
    assert [(r["id"], r["country"]) for r in _rows(workspace)] == [("1", None), ("2", "NL")]
    versions = sorted(p.name for p in workspace.storage.rglob("_schemas/*"))
    assert versions == ["0", "1"]


def test_rescue_mode_keeps_the_schema_and_rescues_new_columns(workspace):
    workspace.source(_pipeline('"cloudFiles.schemaEvolutionMode", "rescue"'))
    workspace.land("1.json", [{"id": 1}])
    workspace.run()
    workspace.land("2.json", [{"id": 2, "country": "NL"}])
    workspace.run()
    rows = _rows(workspace)
    assert set(rows[1]) == {"id", "_rescued_data"}
    assert json.loads(rows[1]["_rescued_data"])["country"] == "NL"


def test_fail_on_new_columns_stops_the_update_naming_them(workspace):
    workspace.source(_pipeline('"cloudFiles.schemaEvolutionMode", "failOnNewColumns"'))
    workspace.land("1.json", [{"id": 1}])
    workspace.run()
    workspace.land("2.json", [{"id": 2, "country": "NL"}])
    with pytest.raises(PipelineError, match="new columns country"):
        workspace.run()


def test_a_given_schema_ignores_new_columns_by_default(workspace):
    workspace.source(_pipeline(schema="id INT"))
    workspace.land("1.json", [{"id": 1, "country": "NL"}])
    workspace.run()
    assert _rows(workspace) == [{"id": 1}]


@pytest.mark.parametrize("option", ["rescuedDataColumn", "cloudFiles.rescuedDataColumn"])
def test_a_given_schema_with_a_rescued_data_column_keeps_what_does_not_fit(workspace, option):
    workspace.source(_pipeline(f'"{option}", "_bad"', schema="id INT"))
    workspace.land("1.json", [{"id": "x1", "country": "NL"}])
    workspace.run()
    (row,) = _rows(workspace)
    assert row["id"] is None
    assert {k: v for k, v in json.loads(row["_bad"]).items() if k != "_file_path"} == {
        "id": "x1",
        "country": "NL",
    }


def test_max_files_per_trigger_and_file_metadata(workspace):
    workspace.source(
        _pipeline('"cloudFiles.maxFilesPerTrigger", 1').replace(
            '.load(spark.conf.get("landing")))',
            '.load(spark.conf.get("landing")).select("*", "_metadata.file_name"))',
        )
    )
    for i in range(3):
        workspace.land(f"{i}.json", [{"id": i}])
    result = workspace.run()
    assert result.rows_written("raw_orders") == 3
    assert [r["file_name"] for r in _rows(workspace)] == ["0.json", "1.json", "2.json"]


def test_no_files_and_no_schema_is_a_clear_error(workspace):
    workspace.source(_pipeline())
    with pytest.raises(PipelineError, match="no files to infer the schema from"):
        workspace.run()


def _csv_pipeline(*options: str, schema: str | None = None) -> str:
    return _pipeline('"header", "true"', *options, schema=schema, file_format="csv")


def test_csv_columns_are_matched_by_header_name_whatever_their_order(workspace):
    # "csv.header": a format's option under the format's name, as frameworks generate it
    workspace.source(_pipeline('"csv.header", "true"', file_format="csv"))
    (workspace.landing / "1.csv").write_text("id,amount\n1,9.5\n\n2,\n")
    (workspace.landing / "2.csv").write_text('amount,id,note\n"1,5",3,"said ""hi"""\n')
    first = workspace.run()
    assert first.rows_written("raw_orders") == 3
    assert _rows(workspace) == [
        {"id": "1", "amount": "9.5", "note": None, "_rescued_data": None},
        {"id": "2", "amount": None, "note": None, "_rescued_data": None},
        {"id": "3", "amount": "1,5", "note": 'said "hi"', "_rescued_data": None},
    ]
    assert workspace.run().rows_written("raw_orders") == 0


def test_csv_values_that_do_not_fit_and_values_beyond_the_header_are_rescued(workspace):
    workspace.source(_csv_pipeline('"cloudFiles.inferColumnTypes", "true"'))
    (workspace.landing / "1.csv").write_text("id,amount\n1,9.5\n")
    workspace.run()
    bad = workspace.landing / "2.csv"
    bad.write_text("id,amount\n2,lots,extra\n")
    workspace.run()
    row = _rows(workspace)[1]
    assert (row["id"], row["amount"]) == (2, None)
    rescued = json.loads(row["_rescued_data"])
    assert (rescued["amount"], rescued["_c2"]) == ("lots", "extra")
    assert rescued["_file_path"].endswith(str(bad))


def test_csv_without_a_header_maps_a_given_schema_by_position(workspace):
    workspace.source(
        _pipeline('";"', schema="id INT, country STRING", file_format="csv").replace(
            '.option(";")', '.option("sep", ";")'
        )
    )
    (workspace.landing / "1.csv").write_text("1;NL\n2;BE\n")
    workspace.run()
    assert _rows(workspace) == [{"id": 1, "country": "NL"}, {"id": 2, "country": "BE"}]


def test_allow_overwrites_reads_a_file_changed_in_place_again_whole_and_once(workspace):
    workspace.source(_pipeline('"cloudFiles.allowOverwrites", "true"'))
    changed = workspace.land("1 [a].json", [{"id": 1}])
    workspace.land("2.json", [{"id": 2}])
    assert workspace.run().rows_written("raw_orders") == 2

    workspace.land("1 [a].json", [{"id": 1}, {"id": 11}])  # completed in place after it was read
    later = changed.stat().st_mtime_ns + 5_000_000_000
    os.utime(changed, ns=(later, later))
    assert workspace.run().rows_written("raw_orders") == 2  # the whole file, again
    assert [r["id"] for r in _rows(workspace)] == ["1", "1", "11", "2"]
    assert workspace.run().rows_written("raw_orders") == 0

    # An update that stopped after appending the file but before logging it as done: the next
    # one finishes the batch, and the table holds its rows once.
    (commit,) = workspace.storage.glob("pipelines/*/checkpoints/*/*/rereads/commits/0")
    commit.unlink()
    workspace.run()
    assert commit.exists()
    assert [r["id"] for r in _rows(workspace)] == ["1", "1", "11", "2"]


def test_allow_overwrites_is_refused_for_an_auto_cdc_flow(workspace):
    workspace.source(
        _pipeline('"cloudFiles.allowOverwrites", "true"').replace("@dlt.table", "@dlt.view")
        + """
dlt.create_streaming_table("orders")
dlt.create_auto_cdc_flow(target="orders", source="raw_orders", keys=["id"], sequence_by="id")
"""
    )
    workspace.land("1.json", [{"id": 1}])
    with pytest.raises(PipelineError, match="allowOverwrites is supported for append flows"):
        workspace.run()


def test_a_schema_version_half_written_by_a_killed_run_is_ignored(workspace):
    workspace.source(_pipeline())
    workspace.land("1.json", [{"id": 1}])
    workspace.run()
    (versions,) = workspace.storage.glob("pipelines/*/auto_loader/*/_schemas")
    (versions / ".1.tmp").write_text('{"type": "str')  # killed before its rename
    workspace.land("2.json", [{"id": 2, "amount": 3}])
    assert workspace.run().rows_written("raw_orders") == 1
    assert sorted(p.name for p in versions.iterdir() if not p.name.startswith(".")) == ["0", "1"]
