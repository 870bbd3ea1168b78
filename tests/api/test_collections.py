"""GET /collections/views/{view} (orchestration spec §1.13, behaviours 138-139)."""

import json
import pathlib

PACKAGES = ["prefect", "prefect-aws", "prefect-azure", "prefect-docker", "prefect-gcp", "prefect-kubernetes"]
WORKER_KEYS = ["type", "display_name", "description", "documentation_url", "install_command", "is_beta", "logo_url",
               "default_base_job_configuration"]


class TestReadCollectionView:
    def test_aggregate_worker_metadata_lists_the_bundled_packages(self, client, dynamo_calls):
        r = client.get("collections/views/aggregate-worker-metadata")
        assert r.status_code == 200
        body = r.json()
        assert list(body) == PACKAGES
        assert {pkg: sorted(types) for pkg, types in body.items()} == {
            "prefect": ["prefect-agent", "process"], "prefect-aws": ["ecs"],
            "prefect-azure": ["azure-container-instance"], "prefect-docker": ["docker"],
            "prefect-gcp": ["cloud-run", "cloud-run-v2", "vertex-ai"], "prefect-kubernetes": ["kubernetes"]}
        assert dynamo_calls.count() == 0

    def test_every_worker_type_has_the_registry_keys_and_a_base_job_template(self, client):
        body = client.get("collections/views/aggregate-worker-metadata").json()
        for types in body.values():
            for name, meta in types.items():
                assert meta["type"] == name
                assert set(meta) <= set(WORKER_KEYS), name
                assert {"type", "display_name", "description", "documentation_url", "install_command",
                        "logo_url"} <= set(meta), name
                assert name == "prefect-agent" or "default_base_job_configuration" in meta, name
        docker = body["prefect-docker"]["docker"]["default_base_job_configuration"]
        assert set(docker) == {"job_configuration", "variables"}
        assert docker["variables"]["properties"]["image"]["type"] == "string"

    def test_unknown_view_is_404(self, client):
        r = client.get("collections/views/nope")
        assert (r.status_code, r.json()) == (404, {"detail": "View nope not found in registry"})

    def test_the_view_is_packaged_data_declared_in_pyproject(self):
        root = pathlib.Path(__file__).resolve().parents[2]
        data = root / "domain" / "data" / "collection_views" / "aggregate-worker-metadata.json"
        assert json.loads(data.read_text())["prefect"]["process"]["type"] == "process"
        assert 'domain = ["data/**/*.json"]' in (root / "pyproject.toml").read_text()
