"""The one gate every JSON body passes before it can reach a store (handlers/_app.py json_body;
issue #10 items 6 and 8).

Reference 2.20.26, measured: bytes that are not UTF-8 and a 10 000-deep array answer 400
``{"detail": "There was an error parsing the body"}``; a lone surrogate escape (``"\\ud800"``)
answers 500 (and, on flowplane before this gate, was stored and broke every later read). Spec
rule for reference 5xx's: answer a clear 4xx instead — here the validation envelope at the
string's location, with the refused body echoed as valid UTF-8.
"""

import pytest

JSON = {"content-type": "application/json"}
PARSE_ERROR = {"detail": "There was an error parsing the body"}
LONE = "string contains a lone UTF-16 surrogate (e.g. \\ud800), which is not valid Unicode"


def post_raw(client, path, raw: bytes):
    return client.post(path, content=raw, headers=JSON)


class TestLoneSurrogates:
    def test_variable_value_is_422_and_nothing_is_stored(self, client):
        r = post_raw(client, "variables/", b'{"name":"s","value":"\\ud800"}')
        assert r.status_code == 422
        assert r.json() == {
            "exception_message": "Invalid request received.",
            "exception_detail": [{"loc": ["body", "value"], "msg": LONE, "type": "value_error.unicode"}],
            "request_body": {"name": "s", "value": "\ufffd"},
        }
        assert client.get("variables/name/s").status_code == 404
        assert (client.post("variables/filter", json={}).status_code, client.post("variables/filter", json={}).json()) \
            == (200, [])

    @pytest.mark.parametrize(("path", "raw", "loc"), [
        ("flows/", b'{"name":"f","tags":["ok","\\udc00"]}', ["body", "tags", 1]),
        ("work_pools/", b'{"name":"p","description":"x\\ud800y"}', ["body", "description"]),
        ("flows/", b'{"name":"f","\\ud800":1}', ["body", "\ufffd"]),
    ])
    def test_anywhere_in_the_body_is_422_at_its_place(self, client, path, raw, loc):
        r = post_raw(client, path, raw)
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{"loc": loc, "msg": LONE, "type": "value_error.unicode"}]

    def test_deployment_parameters_are_refused_and_nothing_is_stored(self, client):
        flow = client.post("flows/", json={"name": "f"}).json()
        raw = b'{"name":"d","flow_id":"' + flow["id"].encode() + b'","parameters":{"p":{"deep":["\\ud800"]}}}'
        r = post_raw(client, "deployments/", raw)
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "parameters", "p", "deep", 0]
        assert client.post("deployments/filter", json={}).json() == []

    def test_a_surrogate_pair_is_one_valid_character(self, client):
        r = post_raw(client, "variables/", b'{"name":"ok","value":"\\ud83d\\ude00"}')
        assert (r.status_code, r.json()["value"]) == (201, "\U0001F600")
        assert client.get("variables/name/ok").json()["value"] == "\U0001F600"


class TestUnparseableBodies:
    def test_bytes_that_are_not_utf8_are_400(self, client):
        r = post_raw(client, "variables/", b'{"name":"s","value":"\xff"}')
        assert (r.status_code, r.json()) == (400, PARSE_ERROR)

    def test_utf8_encoded_surrogate_bytes_are_400(self, client):
        r = post_raw(client, "variables/", b'{"name":"s","value":"\xed\xa0\x80"}')
        assert (r.status_code, r.json()) == (400, PARSE_ERROR)
        assert client.get("variables/name/s").status_code == 404

    def test_ten_thousand_deep_array_is_400(self, client):
        r = post_raw(client, "flows/filter", b"[" * 10000 + b"]" * 10000)
        assert (r.status_code, r.json()) == (400, PARSE_ERROR)

    def test_nesting_past_the_gate_limit_is_400_before_any_service_recurses(self, client):
        flow = client.post("flows/", json={"name": "f"}).json()
        dep = client.post("deployments/", json={"name": "d", "flow_id": flow["id"]}).json()

        def body(levels: int) -> bytes:  # {"parameters": {"p": [[...]]}}: levels counts every array/object
            return b'{"parameters":{"p":' + b"[" * (levels - 2) + b"]" * (levels - 2) + b"}}"

        r = post_raw(client, f"deployments/{dep['id']}/create_flow_run", body(257))
        assert (r.status_code, r.json()) == (400, PARSE_ERROR)
        r = post_raw(client, f"deployments/{dep['id']}/create_flow_run", body(256))
        assert r.status_code == 201, r.text

    def test_deep_value_inside_an_object_is_400(self, client):
        r = post_raw(client, "flows/", b'{"name":"x","tags":' + b"[" * 10000 + b"]" * 10000 + b"}")
        assert (r.status_code, r.json()) == (400, PARSE_ERROR)
        assert client.get("flows/name/x").status_code == 404


class TestValidationOrder:
    """The reference checks a filter's ``limit`` (a dependency) before the rest of the body."""

    @pytest.mark.parametrize("path", ["flows/filter", "deployments/filter", "variables/filter", "work_pools/filter"])
    def test_limit_over_the_maximum_wins_over_an_unknown_sort(self, client, path):
        r = client.post(path, json={"limit": 201, "sort": "BOGUS"})
        assert (r.status_code, r.json()) == (422, {"detail": "Invalid limit: must be less than or equal to 200."})

    def test_limit_wins_over_a_malformed_filter_and_negative_limits_too(self, client):
        r = client.post("flows/filter", json={"limit": 201, "flows": 5})
        assert r.json() == {"detail": "Invalid limit: must be less than or equal to 200."}
        r = client.post("flows/filter", json={"limit": -1, "sort": "BOGUS"})
        assert r.json() == {"detail": "Invalid limit: must be greater than or equal to 0."}

    def test_every_other_error_is_listed_in_the_envelope(self, client):
        r = client.post("flows/filter", json={"offset": -1, "sort": "BOGUS"})
        assert r.status_code == 422
        assert [e["loc"] for e in r.json()["exception_detail"]] == [["body", "offset"], ["body", "sort"]]

    def test_a_field_called_limit_outside_filter_routes_is_ordinary(self, client):
        r = client.post("flows/", json={"name": 5, "limit": 500})
        assert r.status_code == 422
        assert "exception_detail" in r.json()


class TestHugeOffsets:
    """The reference answers 500 for an offset past its integer range; past everything there is
    nothing to show, so flowplane answers the empty page."""

    @pytest.mark.parametrize("path", ["flows/filter", "deployments/filter", "variables/filter", "work_pools/filter",
                                      "work_queues/filter", "flow_runs/filter"])
    def test_offset_of_ten_to_the_thirty_is_an_empty_page(self, client, path):
        client.post("flows/", json={"name": "f"})
        r = client.post(path, json={"offset": 10**30})
        assert (r.status_code, r.json()) == (200, [])
