"""AUTO CDC: the users example of Databricks' AUTO CDC documentation, then one rule per test."""

from __future__ import annotations

import pytest
from deltalake import DeltaTable

from lakehouse.engine import GraphError, PipelineError
from lakehouse.engine.settings import DRIVER_WRITE_MAX_BATCH_BYTES, DRIVER_WRITE_MAX_PYTHON_BYTES

PLACEMENTS = ("python", "delta-rs", "spark")
# Spark computes a delta-rs placement's batch as it does a spark one; the two differ only in
# how the state is read and who writes (delta-rs' MERGE or Spark's). A rule decided while
# computing the batch (the documented example in one batch among them) runs in these two; the
# tests of reads and writes across runs (the documented example split in two, the null-update
# clauses, the event log's counts, once flows) in all three.
COMPUTED_APART = pytest.mark.placements("python", "delta-rs")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test runs once per placement of a micro-batch: computed in Python and written by
    delta-rs (the default for small ones), computed by Spark and written by delta-rs, all in
    Spark (as bigger batches are). ``@pytest.mark.placements(...)`` narrows that for a test
    whose subject does not depend on where the batch is applied."""
    marker = metafunc.definition.get_closest_marker("placements")
    placements = marker.args if marker else PLACEMENTS
    metafunc.parametrize("placement", placements, indirect=True)


@pytest.fixture(autouse=True)
def placement(request, workspace, monkeypatch) -> str:
    """Runs the test's updates with its micro-batches applied where ``request.param`` says."""
    limits = {
        "python": {},
        "delta-rs": {DRIVER_WRITE_MAX_PYTHON_BYTES: "0"},
        "spark": {DRIVER_WRITE_MAX_BATCH_BYTES: "0"},
    }[request.param]
    run = workspace.run

    def run_placed(**options):
        options["configuration"] = {**limits, **options.get("configuration", {})}
        return run(**options)

    monkeypatch.setattr(workspace, "run", run_placed)
    return request.param


USERS_SCHEMA = "userId INT, name STRING, city STRING, operation STRING, sequenceNum INT"

# The change events of the documentation's example, in the order they arrive.
USER_EVENTS = [
    {"userId": 124, "name": "Raul", "city": "Oaxaca", "operation": "INSERT", "sequenceNum": 1},
    {"userId": 123, "name": "Isabel", "city": "Monterrey", "operation": "INSERT", "sequenceNum": 1},
    {"userId": 125, "name": "Mercedes", "city": "Tijuana", "operation": "INSERT", "sequenceNum": 2},
    {"userId": 126, "name": "Lily", "city": "Cancun", "operation": "INSERT", "sequenceNum": 2},
    {"userId": 123, "name": None, "city": None, "operation": "DELETE", "sequenceNum": 6},
    {
        "userId": 125,
        "name": "Mercedes",
        "city": "Guadalajara",
        "operation": "UPDATE",
        "sequenceNum": 6,
    },
    # These arrived out of order: the events at sequence 6 above are the final state.
    {
        "userId": 125,
        "name": "Mercedes",
        "city": "Mexicali",
        "operation": "UPDATE",
        "sequenceNum": 5,
    },
    {"userId": 123, "name": "Isabel", "city": "Chihuahua", "operation": "UPDATE", "sequenceNum": 5},
]

EXPECTED_SCD1 = [
    {"userId": 124, "name": "Raul", "city": "Oaxaca"},
    {"userId": 125, "name": "Mercedes", "city": "Guadalajara"},
    {"userId": 126, "name": "Lily", "city": "Cancun"},
]
EXPECTED_SCD2 = [
    {"userId": 123, "name": "Isabel", "city": "Monterrey", "__START_AT": 1, "__END_AT": 5},
    {"userId": 123, "name": "Isabel", "city": "Chihuahua", "__START_AT": 5, "__END_AT": 6},
    {"userId": 124, "name": "Raul", "city": "Oaxaca", "__START_AT": 1, "__END_AT": None},
    {"userId": 125, "name": "Mercedes", "city": "Tijuana", "__START_AT": 2, "__END_AT": 5},
    {"userId": 125, "name": "Mercedes", "city": "Mexicali", "__START_AT": 5, "__END_AT": 6},
    {"userId": 125, "name": "Mercedes", "city": "Guadalajara", "__START_AT": 6, "__END_AT": None},
    {"userId": 126, "name": "Lily", "city": "Cancun", "__START_AT": 2, "__END_AT": None},
]
EXPECTED_SCD2_CITY_UNTRACKED = [
    {"userId": 123, "name": "Isabel", "city": "Chihuahua", "__START_AT": 1, "__END_AT": 6},
    {"userId": 124, "name": "Raul", "city": "Oaxaca", "__START_AT": 1, "__END_AT": None},
    {"userId": 125, "name": "Mercedes", "city": "Guadalajara", "__START_AT": 2, "__END_AT": None},
    {"userId": 126, "name": "Lily", "city": "Cancun", "__START_AT": 2, "__END_AT": None},
]

USERS_WITH_DLT = f"""
import dlt
from pyspark.sql.functions import col, expr

@dlt.view
def users():
    return spark.readStream.format("json").schema("{USERS_SCHEMA}").load(spark.conf.get("landing"))

dlt.create_streaming_table("users_scd1")
dlt.apply_changes(
    target="users_scd1", source="users", keys=["userId"], sequence_by=col("sequenceNum"),
    apply_as_deletes=expr("operation = 'DELETE'"), apply_as_truncates=expr("operation = 'TRUNCATE'"),
    except_column_list=["operation", "sequenceNum"], stored_as_scd_type=1,
)

dlt.create_streaming_table("users_scd2")
dlt.apply_changes(
    target="users_scd2", source="users", keys=["userId"], sequence_by=col("sequenceNum"),
    apply_as_deletes=expr("operation = 'DELETE'"), except_column_list=["operation", "sequenceNum"],
    stored_as_scd_type="2",
)

dlt.create_streaming_table("users_scd2_city_untracked")
dlt.apply_changes(
    target="users_scd2_city_untracked", source="users", keys=["userId"],
    sequence_by=col("sequenceNum"), apply_as_deletes=expr("operation = 'DELETE'"),
    except_column_list=["operation", "sequenceNum"], stored_as_scd_type="2",
    track_history_except_column_list=["city"],
)
"""

USERS_WITH_DP = f"""
from pyspark import pipelines as dp
from pyspark.sql.functions import col, expr

@dp.temporary_view
def users():
    return spark.readStream.format("json").schema("{USERS_SCHEMA}").load(spark.conf.get("landing"))

dp.create_streaming_table("users_scd1")
dp.create_auto_cdc_flow(
    target="users_scd1", source="users", keys=["userId"], sequence_by=col("sequenceNum"),
    apply_as_deletes=expr("operation = 'DELETE'"), apply_as_truncates=expr("operation = 'TRUNCATE'"),
    except_column_list=["operation", "sequenceNum"], stored_as_scd_type=1,
)

dp.create_streaming_table("users_scd2")
dp.create_auto_cdc_flow(
    target="users_scd2", source="users", keys=["userId"], sequence_by="sequenceNum",
    apply_as_deletes="operation = 'DELETE'", except_column_list=["operation", "sequenceNum"],
    stored_as_scd_type=2,
)

dp.create_streaming_table("users_scd2_city_untracked")
dp.create_auto_cdc_flow(
    target="users_scd2_city_untracked", source="users", keys=["userId"],
    sequence_by="sequenceNum", apply_as_deletes="operation = 'DELETE'",
    except_column_list=["operation", "sequenceNum"], stored_as_scd_type=2,
    track_history_except_column_list=["city"],
)
"""


def _assert_documented_results(workspace) -> None:
    assert workspace.rows("users_scd1", "userId") == EXPECTED_SCD1
    assert workspace.rows("users_scd2", "userId, __START_AT") == EXPECTED_SCD2
    assert (
        workspace.rows("users_scd2_city_untracked", "userId, __START_AT")
        == EXPECTED_SCD2_CITY_UNTRACKED
    )


@COMPUTED_APART
def test_documented_users_example_in_one_run(workspace):
    workspace.source(USERS_WITH_DLT)
    workspace.land("events.json", USER_EVENTS)
    workspace.run()
    _assert_documented_results(workspace)


def test_documented_users_example_split_across_two_runs(workspace):
    workspace.source(USERS_WITH_DLT)
    workspace.land("1.json", USER_EVENTS[:6])
    first = workspace.run()
    assert first.rows_written("users_scd1") == 3  # 124, 125 (at 6), 126; 123 deleted
    workspace.land("2.json", USER_EVENTS[6:])  # the late events, older than what is applied
    workspace.run()
    _assert_documented_results(workspace)


@pytest.mark.placements("python")  # the spelling is read before any batch is applied
def test_the_pyspark_pipelines_spelling_gives_the_documented_results(workspace):
    workspace.source(USERS_WITH_DP)
    workspace.land("1.json", USER_EVENTS[:6])
    workspace.run()
    workspace.land("2.json", USER_EVENTS[6:])
    workspace.run()
    _assert_documented_results(workspace)


@pytest.mark.placements("python")  # would use delta-rs; either way the target's goes to Spark
def test_targets_with_table_features_delta_rs_does_not_write_are_merged_by_spark(workspace):
    deletion_vectors = "{'delta.enableDeletionVectors': 'true'}"
    workspace.source(
        USERS_WITH_DLT.replace(
            'dlt.create_streaming_table("users_scd2")',
            f'dlt.create_streaming_table("users_scd2", table_properties={deletion_vectors})',
        )
    )
    workspace.land("1.json", USER_EVENTS[:6])
    workspace.run()
    workspace.land("2.json", USER_EVENTS[6:])
    workspace.run()
    _assert_documented_results(workspace)
    target = DeltaTable(str(workspace.storage / "catalog/main/sales/users_scd2"))
    assert "deletionVectors" in (target.protocol().reader_features or [])


def _cdc_pipeline(events_schema: str, *flows: str, targets: tuple[str, ...] = ("people",)) -> str:
    """A pipeline with a ``changes`` view over the landing folder and AUTO CDC flows."""
    declared = "\n".join(f'dlt.create_streaming_table("{t}")' for t in targets)
    return (
        "import dlt\nfrom pyspark.sql import functions as F\n\n"
        "@dlt.view\ndef changes():\n"
        f'    return spark.readStream.format("json").schema("{events_schema}")'
        '.load(spark.conf.get("landing"))\n\n'
        f"{declared}\n" + "\n".join(flows)
    )


PEOPLE = "id INT, name STRING, city STRING, op STRING, seq INT"


def _apply(**options: str) -> str:
    arguments = {
        "target": '"people"',
        "source": '"changes"',
        "keys": '["id"]',
        "sequence_by": '"seq"',
        "apply_as_deletes": "\"op = 'D'\"",
        "except_column_list": '["op", "seq"]',
        **options,
    }
    return "dlt.apply_changes(" + ", ".join(f"{k}={v}" for k, v in arguments.items()) + ")"


def _event(id, name=None, city=None, op="U", seq=0):
    return {"id": id, "name": name, "city": city, "op": op, "seq": seq}


def test_scd2_keeps_timestamp_columns(workspace):
    workspace.source(
        _cdc_pipeline(
            "id INT, name STRING, seen_at TIMESTAMP, op STRING, seq INT",
            _apply(stored_as_scd_type="2"),
        )
    )
    ann = {"id": 1, "name": "Ann", "seen_at": "2026-03-02T09:00:00Z", "op": "I", "seq": 1}
    workspace.land("a.json", [ann, {**ann, "name": "Bo", "seen_at": "2026-03-03T10:30:00Z", "seq": 2}])  # fmt: skip
    workspace.run()
    versions = workspace.rows("people", "__START_AT")
    assert [(v["name"], v["seen_at"].isoformat()) for v in versions] == [
        ("Ann", "2026-03-02T09:00:00"),
        ("Bo", "2026-03-03T10:30:00"),
    ]


@pytest.mark.placements("python")  # the placement that reads the target with delta-rs
def test_scd2_string_keys_keep_their_history_across_runs(workspace):
    workspace.source(
        _cdc_pipeline(
            "code STRING, name STRING, op STRING, seq INT",
            _apply(keys='["code"]', stored_as_scd_type="2"),
        )
    )
    workspace.land("a.json", [{"code": "NO", "name": "Norway", "op": "I", "seq": 1}])
    workspace.run()
    workspace.land("b.json", [{"code": "NO", "name": "Noreg", "op": "U", "seq": 2}])
    workspace.run()
    versions = workspace.rows("people", "__START_AT")
    assert [(v["code"], v["name"], v["__END_AT"]) for v in versions] == [
        ("NO", "Norway", 2),
        ("NO", "Noreg", None),
    ]


@COMPUTED_APART
def test_sequence_by_a_struct_orders_by_its_fields_in_turn(workspace):
    schema = "id INT, name STRING, day INT, n INT"
    workspace.source(
        _cdc_pipeline(
            schema,
            _apply(
                sequence_by='F.struct("day", "n")',
                apply_as_deletes="None",
                except_column_list='["day", "n"]',
            ),
        )
    )
    workspace.land(
        "a.json",
        [
            {"id": 1, "name": "b", "day": 2, "n": 1},
            {"id": 1, "name": "c", "day": 2, "n": 3},
            {"id": 1, "name": "a", "day": 3, "n": 0},
            {"id": 2, "name": "x", "day": 1, "n": 9},
            {"id": 2, "name": "y", "day": 1, "n": 10},
        ],
    )
    workspace.run()
    assert workspace.rows("people", "id") == [{"id": 1, "name": "a"}, {"id": 2, "name": "y"}]


def test_scd1_ignore_null_updates_keeps_stored_values_for_null_columns(workspace):
    workspace.source(_cdc_pipeline(PEOPLE, _apply(ignore_null_updates="True")))
    workspace.land("1.json", [_event(1, "Ann", "Oslo", "I", 1), _event(2, "Bo", "Rome", "I", 1)])
    workspace.run()
    workspace.land(
        "2.json",
        [
            _event(1, None, "Bergen", seq=2),  # name stays Ann
            _event(2, None, None, "D", 2),  # a delete, then a partial insert: nothing to keep
            _event(2, "Bo", None, "I", 3),
        ],
    )
    workspace.run()
    assert workspace.rows("people", "id") == [
        {"id": 1, "name": "Ann", "city": "Bergen"},
        {"id": 2, "name": "Bo", "city": None},
    ]


def test_ignore_null_updates_column_lists_keep_only_the_named_columns(workspace):
    latest = _apply(ignore_null_updates_column_list='["city"]')
    history = _apply(
        target='"history"',
        stored_as_scd_type="2",
        ignore_null_updates_except_column_list='["name"]',
    )
    workspace.source(_cdc_pipeline(PEOPLE, latest, history, targets=("people", "history")))
    workspace.land("1.json", [_event(1, "Ann", "Oslo", "I", 1), _event(1, None, None, seq=2)])
    workspace.run()
    # city keeps Oslo; name takes the NULL, which opens a version in the history
    assert workspace.rows("people", "id") == [{"id": 1, "name": None, "city": "Oslo"}]
    assert workspace.rows("history", "__START_AT") == [
        {"id": 1, "name": "Ann", "city": "Oslo", "__START_AT": 1, "__END_AT": 2},
        {"id": 1, "name": None, "city": "Oslo", "__START_AT": 2, "__END_AT": None},
    ]


@COMPUTED_APART
def test_scd1_without_ignore_null_updates_overwrites_with_nulls(workspace):
    workspace.source(_cdc_pipeline(PEOPLE, _apply()))
    workspace.land("1.json", [_event(1, "Ann", "Oslo", "I", 1), _event(1, None, "Bergen", seq=2)])
    workspace.run()
    assert workspace.rows("people", "id") == [{"id": 1, "name": None, "city": "Bergen"}]


def test_scd2_ignore_null_updates_carries_values_into_the_new_version(workspace):
    workspace.source(
        _cdc_pipeline(PEOPLE, _apply(stored_as_scd_type="2", ignore_null_updates="True"))
    )
    workspace.land("a.json", [_event(1, "Ann", "Oslo", "I", 1), _event(1, None, "Bergen", seq=2)])
    workspace.run()
    assert workspace.rows("people", "__START_AT") == [
        {"id": 1, "name": "Ann", "city": "Oslo", "__START_AT": 1, "__END_AT": 2},
        {"id": 1, "name": "Ann", "city": "Bergen", "__START_AT": 2, "__END_AT": None},
    ]


@COMPUTED_APART
def test_truncate_removes_rows_older_than_it_and_ignores_older_events(workspace):
    workspace.source(_cdc_pipeline(PEOPLE, _apply(apply_as_truncates="\"op = 'T'\"")))
    workspace.land("1.json", [_event(1, "Ann", op="I", seq=1), _event(2, "Bo", op="I", seq=5)])
    workspace.run()
    workspace.land(
        "2.json",
        [
            {"id": None, "name": None, "city": None, "op": "T", "seq": 3},
            _event(3, "Cy", op="I", seq=2),  # older than the truncate
            _event(4, "Di", op="I", seq=4),
        ],
    )
    workspace.run()
    assert [r["id"] for r in workspace.rows("people", "id")] == [2, 4]


@COMPUTED_APART
def test_truncate_keeps_keys_updated_after_it_in_earlier_runs(workspace):
    workspace.source(_cdc_pipeline(PEOPLE, _apply(apply_as_truncates="\"op = 'T'\"")))
    workspace.land("1.json", [_event(1, "Ann", op="I", seq=1), _event(2, "Bo", op="I", seq=2)])
    workspace.run()
    workspace.land("2.json", [_event(1, "Ann B", op="U", seq=4)])
    workspace.run()
    workspace.land("3.json", [{"id": None, "name": None, "city": None, "op": "T", "seq": 3}])
    workspace.run()
    assert [(r["id"], r["name"]) for r in workspace.rows("people", "id")] == [(1, "Ann B")]


@COMPUTED_APART
def test_column_list_selects_the_stored_columns(workspace):
    workspace.source(
        _cdc_pipeline(PEOPLE, _apply(column_list='["id", "city"]', except_column_list="None"))
    )
    workspace.land("a.json", [_event(1, "Ann", "Oslo", "I", 1)])
    workspace.run()
    assert workspace.rows("people", "id") == [{"id": 1, "city": "Oslo"}]


@COMPUTED_APART
def test_track_history_column_list_opens_versions_only_for_tracked_columns(workspace):
    workspace.source(
        _cdc_pipeline(
            PEOPLE,
            _apply(stored_as_scd_type="2", track_history_column_list='["city"]'),
        )
    )
    workspace.land(
        "a.json",
        [
            _event(1, "Ann", "Oslo", "I", 1),
            _event(1, "Anna", "Oslo", seq=2),  # untracked: the open version changes in place
            _event(1, "Anna", "Bergen", seq=3),
        ],
    )
    workspace.run()
    assert workspace.rows("people", "__START_AT") == [
        {"id": 1, "name": "Anna", "city": "Oslo", "__START_AT": 1, "__END_AT": 3},
        {"id": 1, "name": "Anna", "city": "Bergen", "__START_AT": 3, "__END_AT": None},
    ]


@COMPUTED_APART
def test_scd2_late_event_lands_in_history_across_runs(workspace):
    workspace.source(_cdc_pipeline(PEOPLE, _apply(stored_as_scd_type="2")))
    workspace.land("1.json", [_event(1, "Ann", "Oslo", "I", 1), _event(1, "Ann", "Rome", seq=5)])
    workspace.run()
    workspace.land("2.json", [_event(1, "Ann", "Bergen", seq=3)])
    workspace.run()
    assert [
        (r["city"], r["__START_AT"], r["__END_AT"]) for r in workspace.rows("people", "__START_AT")
    ] == [
        ("Oslo", 1, 3),
        ("Bergen", 3, 5),
        ("Rome", 5, None),
    ]


@COMPUTED_APART
def test_scd2_delete_of_a_key_without_versions_changes_nothing(workspace):
    workspace.source(_cdc_pipeline(PEOPLE, _apply(stored_as_scd_type="2")))
    workspace.land("1.json", [_event(1, "Ann", "Oslo", "I", 1), _event(2, None, None, "D", 1)])
    workspace.run()
    assert [(r["id"], r["__END_AT"]) for r in workspace.rows("people", "id")] == [(1, None)]


@COMPUTED_APART
def test_composite_keys_keep_a_history_per_combination_across_runs(workspace):
    workspace.source(_cdc_pipeline(PEOPLE, _apply(keys='["id", "city"]', stored_as_scd_type="2")))
    workspace.land("1.json", [_event(1, "Ann", "Oslo", "I", 1), _event(1, "Ann", "Rome", "I", 1)])
    workspace.run()
    workspace.land("2.json", [_event(1, "Anna", "Oslo", seq=2)])
    workspace.run()
    assert [
        (r["city"], r["name"], r["__START_AT"], r["__END_AT"])
        for r in workspace.rows("people", "city, __START_AT")
    ] == [("Oslo", "Ann", 1, 2), ("Oslo", "Anna", 2, None), ("Rome", "Ann", 1, None)]


@COMPUTED_APART
def test_several_named_flows_apply_into_one_target(workspace):
    workspace.source(
        _cdc_pipeline(
            PEOPLE,
            _apply(name='"from_web"'),
            _apply(name='"from_shop"'),
        )
    )
    workspace.land("a.json", [_event(1, "Ann", "Oslo", "I", 1)])
    result = workspace.run()
    assert {f.flow for f in result.flows} == {"from_web", "from_shop"}
    assert workspace.rows("people", "id") == [{"id": 1, "name": "Ann", "city": "Oslo"}]


def test_event_log_counts_upserted_and_deleted_rows(workspace):
    workspace.source(_cdc_pipeline(PEOPLE, _apply()))
    workspace.land("1.json", [_event(1, "Ann", op="I", seq=1), _event(2, "Bo", op="I", seq=1)])
    workspace.run()
    workspace.land("2.json", [_event(1, None, None, "D", 2), _event(2, "Bob", seq=2)])
    workspace.run()
    progress = [
        e["details"]["flow_progress"]
        for e in workspace.events()
        if e["event_type"] == "flow_progress"
        and e["details"]["flow_progress"]["status"] == "COMPLETED"
    ]
    assert progress[-1]["metrics"] == {
        "num_output_rows": 1,
        "num_upserted_rows": 1,
        "num_deleted_rows": 1,
        "num_change_events": 2,
    }


@COMPUTED_APART
def test_full_refresh_rebuilds_the_target_and_its_state(workspace):
    workspace.source(_cdc_pipeline(PEOPLE, _apply()))
    workspace.land("1.json", [_event(1, "Ann", op="I", seq=5)])
    workspace.run()
    workspace.land("2.json", [_event(1, "Old", op="I", seq=1)])
    workspace.run()
    assert workspace.rows("people", "id")[0]["name"] == "Ann"
    workspace.run(full_refresh=True)  # every event again, from scratch: seq 5 still wins
    assert workspace.rows("people", "id") == [{"id": 1, "name": "Ann", "city": None}]


def test_once_flow_applies_a_batch_source_a_single_time(workspace):
    workspace.source(
        f"""
import dlt

@dlt.view
def snapshot():
    return spark.read.format("json").schema("{PEOPLE}").load(spark.conf.get("landing"))

dlt.create_streaming_table("people", expect_all={{"named": "name IS NOT NULL"}})
"""
        + _apply(source='"snapshot"', once="True")
    )
    workspace.land("a.json", [_event(1, "Ann", op="I", seq=1), _event(2, op="I", seq=1)])
    first = workspace.run()
    assert first.expectation("people", "named")["failed_records"] == 1
    workspace.land("b.json", [_event(3, "Bo", op="I", seq=1)])
    second = workspace.run()
    assert [f.skipped for f in second.flows] == [True]
    assert [r["id"] for r in workspace.rows("people", "id")] == [1, 2]


@pytest.mark.parametrize(
    ("events", "problem"),
    [
        ([_event(1, "Ann", op="I", seq=None)], "NULL sequence"),
        ([_event(None, "Ann", op="I", seq=1)], "NULL key"),
        (
            [_event(1, "Ann", op="I", seq=1), _event(1, "Bo", op="I", seq=1)],
            "same key and sequence",
        ),
    ],
    ids=["null-sequence", "null-key", "conflicting-duplicates"],
)
@pytest.mark.parametrize("scd_type", ["1", "2"])
@COMPUTED_APART
def test_invalid_change_events_stop_the_update_with_the_event(workspace, events, problem, scd_type):
    workspace.source(_cdc_pipeline(PEOPLE, _apply(stored_as_scd_type=scd_type)))
    workspace.land("a.json", events)
    with pytest.raises(PipelineError, match=f"AUTO CDC flow 'people'.*{problem}.*Record: "):
        workspace.run()


@COMPUTED_APART
def test_identical_duplicate_events_count_once(workspace):
    workspace.source(_cdc_pipeline(PEOPLE, _apply(stored_as_scd_type="2")))
    workspace.land("a.json", [_event(1, "Ann", op="I", seq=1)] * 2)
    workspace.run()
    assert len(workspace.rows("people", "id")) == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"keys": '["nope"]'}, "keys names 'nope', which is not a column"),
        ({"keys": "[]"}, "keys must name at least one column"),
        ({"column_list": '["id"]'}, "give column_list or except_column_list, not both"),
        ({"apply_as_truncates": "\"op = 'T'\"", "stored_as_scd_type": "2"}, "only for SCD type 1"),
        ({"track_history_column_list": '["city"]'}, "need stored_as_scd_type=2"),
        ({"sequence_by": '"no_such + 1"'}, "sequence_by 'no_such \\+ 1' is not valid"),
        ({"stored_as_scd_type": "3"}, "must be 1 or 2"),
    ],
)
@pytest.mark.placements("python")  # refused when the graph is built, before any batch
def test_bad_auto_cdc_declarations_are_graph_errors_at_the_call(workspace, options, message):
    path = workspace.source(_cdc_pipeline(PEOPLE, _apply(**options)))
    with pytest.raises(GraphError, match=message) as error:
        workspace.run()
    assert error.value.location is not None and error.value.location.file == str(path)
