"""/logs routes (orchestration spec §1.8, behaviours 109-110; texts verified against the 2.20
reference server)."""

import datetime as dt
import uuid

import pytest

LOG_KEYS = ["id", "created", "updated", "name", "level", "message", "timestamp", "flow_run_id", "task_run_id"]
RUN = "11111111-1111-4111-8111-111111111111"
OTHER_RUN = "22222222-2222-4222-8222-222222222222"
TASK = "33333333-3333-4333-8333-333333333333"
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def log(second=0, level=20, message="m", flow_run_id=RUN, task_run_id=None, **kw):
    return {"name": "prefect.flow_runs", "level": level, "message": message,
            "timestamp": (T0 + dt.timedelta(seconds=second)).isoformat(), "flow_run_id": flow_run_id,
            "task_run_id": task_run_id, **kw}


def post_logs(client, logs):
    r = client.post("logs/", json=logs)
    assert r.status_code == 201, r.text
    return r


def read(client, **body):
    r = client.post("logs/filter", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def messages(rows):
    return [row["message"] for row in rows]


class TestCreateLogs:
    def test_three_logs_are_201_with_null_body(self, client):
        r = client.post("logs/", json=[log(1), log(2), log(3)])
        assert (r.status_code, r.json()) == (201, None)
        assert len(read(client)) == 3

    def test_stored_log_has_exact_keys_fresh_id_and_utc_timestamp(self, client, clock):
        now = clock.freeze(dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.timezone.utc))
        post_logs(client, [log(message="hello", timestamp="2025-01-01T01:00:00.5+01:00", task_run_id=TASK)])
        (row,) = read(client)
        assert list(row) == LOG_KEYS
        assert uuid.UUID(row["id"]).version == 4
        assert row["created"] == row["updated"] == now.isoformat()
        assert row | {"id": None, "created": None, "updated": None} == {
            "id": None, "created": None, "updated": None, "name": "prefect.flow_runs", "level": 20,
            "message": "hello", "timestamp": "2025-01-01T00:00:00.500000+00:00", "flow_run_id": RUN,
            "task_run_id": TASK}

    def test_unknown_flow_run_id_is_accepted(self, client):
        post_logs(client, [log(flow_run_id=str(uuid.uuid4()))])

    def test_empty_array_is_201(self, client):
        r = client.post("logs/", json=[])
        assert (r.status_code, r.json()) == (201, None)

    def test_extra_key_is_422_at_its_index(self, client):
        r = client.post("logs/", json=[log(), log(bogus=1)])
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", 1, "bogus"], "msg": "extra fields not permitted", "type": "value_error.extra"}]
        assert read(client) == []  # nothing of a refused batch is written

    def test_object_instead_of_array_is_422_not_a_valid_list(self, client):
        r = client.post("logs/", json={"name": "a"})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body"], "msg": "value is not a valid list", "type": "type_error.list"}]

    def test_missing_body_is_422_field_required(self, client):
        r = client.post("logs/")
        assert r.json()["exception_detail"] == [
            {"loc": ["body"], "msg": "field required", "type": "value_error.missing"}]

    def test_missing_timestamp_and_bad_level_are_422(self, client):
        r = client.post("logs/", json=[{"name": "a", "level": "x", "message": "m"}])
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", 0, "level"], "msg": "value is not a valid integer", "type": "type_error.integer"},
            {"loc": ["body", 0, "timestamp"], "msg": "field required", "type": "value_error.missing"}]

    def test_float_level_is_truncated_and_number_message_becomes_text_as_in_pydantic_v1(self, client):
        post_logs(client, [log(level=20.5, message=5)])
        (row,) = read(client)
        assert (row["level"], row["message"]) == (20, "5")

    def test_more_than_one_batch_write_request_of_logs_is_stored(self, client, dynamo_calls):
        post_logs(client, [log(i % 60, message=str(i)) for i in range(60)])
        assert dynamo_calls.count("BatchWriteItem") == 3  # 25 items a request
        assert len(read(client)) == 60

    def test_log_over_the_item_size_limit_is_422_and_nothing_is_written(self, client):
        r = client.post("logs/", json=[log(message="ok"), log(message="x" * 500_000)])
        assert r.status_code == 422
        assert r.json() == {"detail": "Log 1 is too large to store (DynamoDB items are limited to 400 KB)."}
        assert read(client) == []

    def test_size_is_measured_as_stored_so_escaped_characters_count(self, client):
        message = "\u65e5" * 70_000  # 210 KB of UTF-8, 420 KB as the JSON escapes stores write
        r = client.post("logs/", json=[log(message="ok"), log(message=message)])
        assert r.status_code == 422
        assert read(client) == []

    def test_logs_expire_after_the_history_retention(self, client, clock, dynamo_ctx):
        now = clock.freeze()
        post_logs(client, [log()])
        retention = dynamo_ctx.settings.history_retention
        (item,) = dynamo_ctx.stores.logs.query("by_flow_run", RUN)
        assert item["_expires_at"] == int((now + retention).timestamp())
        clock.advance(seconds=retention.total_seconds() + 1)
        assert read(client) == []  # expired but not yet deleted by TTL: not returned


class TestFilterLogs:
    @pytest.fixture
    def logs(self, client):
        post_logs(client, [
            log(3, level=10, message="r3"),
            log(1, level=20, message="r1"),
            log(2, level=40, message="r2", task_run_id=TASK),
            log(4, level=50, message="o4", flow_run_id=OTHER_RUN),
            log(0, level=30, message="none0", flow_run_id=None),
        ])

    def test_by_flow_run_is_timestamp_ascending(self, client, logs):
        rows = read(client, logs={"flow_run_id": {"any_": [RUN]}})
        assert messages(rows) == ["r1", "r2", "r3"]
        assert all(list(row) == LOG_KEYS for row in rows)

    def test_several_flow_runs_are_merged_in_time_order(self, client, logs):
        rows = read(client, logs={"flow_run_id": {"any_": [OTHER_RUN, RUN]}}, sort="TIMESTAMP_DESC")
        assert messages(rows) == ["o4", "r3", "r2", "r1"]

    def test_level_ge_with_timestamp_desc(self, client, logs):
        assert messages(read(client, logs={"level": {"ge_": 20}}, sort="TIMESTAMP_DESC")) == ["o4", "r2", "r1", "none0"]

    def test_level_le(self, client, logs):
        assert messages(read(client, logs={"level": {"le_": 20}})) == ["r1", "r3"]

    def test_by_task_run(self, client, logs):
        assert messages(read(client, logs={"task_run_id": {"any_": [TASK]}})) == ["r2"]

    def test_timestamp_before_is_inclusive(self, client, logs):
        before = (T0 + dt.timedelta(seconds=2)).isoformat()
        assert messages(read(client, logs={"timestamp": {"before_": before}})) == ["none0", "r1", "r2"]

    def test_timestamp_after_is_inclusive_and_combines_with_flow_run(self, client, logs):
        after = (T0 + dt.timedelta(seconds=2)).isoformat()
        rows = read(client, logs={"flow_run_id": {"any_": [RUN]}, "timestamp": {"after_": after}})
        assert messages(rows) == ["r2", "r3"]

    def test_empty_timestamp_window_is_empty(self, client, logs):
        window = {"after_": (T0 + dt.timedelta(seconds=3)).isoformat(), "before_": T0.isoformat()}
        assert read(client, logs={"timestamp": window}) == []

    def test_limit_and_offset(self, client, logs):
        assert messages(read(client, limit=2, offset=1)) == ["r1", "r2"]
        assert messages(read(client, logs={"flow_run_id": {"any_": [RUN]}}, limit=1, offset=2)) == ["r3"]
        assert read(client, limit=0) == []

    def test_or_operator_unions_criteria(self, client, logs):
        rows = read(client, logs={"operator": "or_", "level": {"ge_": 50}, "task_run_id": {"any_": [TASK]}})
        assert messages(rows) == ["r2", "o4"]

    def test_empty_any_matches_nothing(self, client, logs):
        assert read(client, logs={"flow_run_id": {"any_": []}}) == []

    def test_equal_timestamps_come_back_in_the_order_they_were_sent_reversed_for_desc(self, client, clock):
        clock.freeze()
        post_logs(client, [log(5, message=str(i)) for i in range(3)])
        clock.advance(seconds=1)
        post_logs(client, [log(5, message=str(i)) for i in range(3, 5)])
        assert messages(read(client)) == ["0", "1", "2", "3", "4"]
        assert messages(read(client, sort="TIMESTAMP_DESC")) == ["4", "3", "2", "1", "0"]

    def test_name_criterion_is_422(self, client):
        r = client.post("logs/filter", json={"logs": {"name": {"any_": ["a"]}}})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", "logs", "name"], "msg": "extra fields not permitted", "type": "value_error.extra"}]

    def test_unknown_sort_is_422_with_permitted_values(self, client):
        r = client.post("logs/filter", json={"sort": "NOPE"})
        (err,) = r.json()["exception_detail"]
        # the reference joins the values with ", "; domain/parsing.py (shared) renders pydantic v2's " or "
        assert err["msg"].startswith("value is not a valid enumeration member; permitted: 'TIMESTAMP_ASC'")
        assert {k: err[k] for k in ("loc", "type", "ctx")} == {
            "loc": ["body", "sort"], "type": "type_error.enum",
            "ctx": {"enum_values": ["TIMESTAMP_ASC", "TIMESTAMP_DESC"]}}

    def test_negative_offset_is_422(self, client):
        r = client.post("logs/filter", json={"offset": -1})
        assert r.json()["exception_detail"][0]["msg"] == "ensure this value is greater than or equal to 0"

    def test_limit_over_the_default_is_422(self, client):
        r = client.post("logs/filter", json={"limit": 201})
        assert (r.status_code, r.json()) == (422, {"detail": "Invalid limit: must be less than or equal to 200."})

    def test_unknown_top_level_keys_are_ignored(self, client, logs):
        assert len(read(client, bogus=1, logs=None)) == 5


@pytest.fixture
def items_read(monkeypatch):
    """The number of items each DynamoDB Query read (``ScannedCount``), in call order."""
    import botocore.client

    counts: list[int] = []
    inner = botocore.client.BaseClient._make_api_call

    def counting(self, operation_name, api_params):
        out = inner(self, operation_name, api_params)
        if operation_name == "Query":
            counts.append(out.get("ScannedCount", 0))
        return out

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return counts


class TestLogFilterCost:
    def test_one_flow_runs_logs_are_read_with_queries_only(self, client, dynamo_calls):
        post_logs(client, [log(i) for i in range(3)])
        dynamo_calls.clear()
        assert len(read(client, logs={"flow_run_id": {"any_": [RUN]}}, limit=200)) == 3
        assert list(dynamo_calls) == ["Query"]

    def test_reads_do_not_grow_with_other_runs_logs(self, client, dynamo_calls, items_read):
        post_logs(client, [log(i) for i in range(3)])
        read(client, logs={"flow_run_id": {"any_": [RUN]}})
        before = sum(items_read)
        for _ in range(4):
            post_logs(client, [log(i, flow_run_id=str(uuid.uuid4())) for i in range(25)])
        items_read.clear()
        assert len(read(client, logs={"flow_run_id": {"any_": [RUN]}})) == 3
        assert sum(items_read) == before == 3

    def test_a_page_reads_only_offset_plus_limit_items(self, client, items_read):
        post_logs(client, [log(i % 60) for i in range(50)])
        items_read.clear()
        assert len(read(client, logs={"flow_run_id": {"any_": [RUN]}}, limit=5, offset=5)) == 5
        assert sum(items_read) == 10

    @pytest.mark.parametrize("sort", ["TIMESTAMP_ASC", "TIMESTAMP_DESC"])
    def test_a_selective_filter_reads_on_in_growing_chunks_until_the_page_is_full(self, client, items_read, sort):
        post_logs(client, [log(i, level=40 if i % 10 == 9 else 20, message=str(i)) for i in range(50)])
        items_read.clear()
        rows = read(client, logs={"flow_run_id": {"any_": [RUN]}, "level": {"ge_": 40}}, limit=3, sort=sort)
        expected = ["9", "19", "29"] if sort == "TIMESTAMP_ASC" else ["49", "39", "29"]
        assert messages(rows) == expected
        assert items_read == [3, 6, 12, 24]  # growing chunks, each restarting at the last key read

