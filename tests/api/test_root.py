"""Global routes and the wire conventions of spec §2."""


class TestHealth:
    def test_health_is_true(self, client):
        r = client.get("health")
        assert r.status_code == 200
        assert r.json() is True

    def test_version_is_api_version(self, client):
        assert client.get("version").json() == "0.8.4"

    def test_admin_version_is_a_220_string(self, client):
        r = client.get("admin/version")
        assert r.status_code == 200
        assert r.json().startswith("2.20.")

    def test_hello(self, client):
        assert client.get("hello").json() == "\N{WAVING HAND SIGN}"

    def test_ready(self, client):
        assert client.get("ready").json() == {"message": "OK"}


class TestCsrfToken:
    def test_disabled_answer_is_422_with_the_text_the_client_checks(self, client):
        r = client.get("csrf-token", params={"client": "abc"})
        assert r.status_code == 422
        assert r.json() == {"detail": "CSRF protection is disabled."}

    def test_missing_client_is_a_validation_envelope(self, client):
        r = client.get("csrf-token")
        assert r.status_code == 422
        body = r.json()
        assert body["exception_message"] == "Invalid request received."
        assert body["exception_detail"][0]["loc"] == ["query", "client"]
        assert body["exception_detail"][0]["msg"] == "field required"


class TestApiVersionHeader:
    def test_malformed_version_is_400(self, client):
        r = client.get("health", headers={"X-PREFECT-API-VERSION": "banana"})
        assert r.status_code == 400
        assert r.json() == {
            "detail": "Invalid X-PREFECT-API-VERSION header format.Expected header in format 'x.y.z' but received banana"
        }

    def test_too_old_version_is_400(self, client):
        r = client.get("health", headers={"X-PREFECT-API-VERSION": "0.7.9"})
        assert r.status_code == 400
        assert r.json() == {
            "detail": "The request specified API version 0.7.9 but this server requires version 0.8.0 or higher."
        }

    def test_missing_header_is_accepted(self, client):
        del client.headers["X-PREFECT-API-VERSION"]
        assert client.get("health").status_code == 200


class TestUnknownPaths:
    def test_unknown_path_is_404_not_found(self, client):
        r = client.get("nope/nothing")
        assert r.status_code == 404
        assert r.json() == {"detail": "Not Found"}
