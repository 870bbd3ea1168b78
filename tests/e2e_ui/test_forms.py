"""The UI's forms, submitted as a user does: each must reach flowplane with the write the reference
answers, and nothing the page calls around it may fail."""

from __future__ import annotations

import forms
import pytest


@pytest.fixture(scope="module")
def page(server):
    from drive import chromium_path
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        failures: list = []
        page.on("response", lambda r: failures.append(f"{r.request.method} {r.url} -> {r.status}")
                if "/api/" in r.url and r.status >= 400 else None)
        page.failures = failures
        page.writes = forms.record_writes(page)
        yield page
        browser.close()


@pytest.fixture
def fresh(page):
    page.failures.clear()
    page.writes.clear()
    return page


class TestForms:
    def test_custom_run_of_a_deployment(self, fresh, server, ids):
        forms.custom_run(fresh, server["base"], ids["deployment_id"])
        assert fresh.writes == [["POST", "/ui/schemas/validate", 200],
                                ["POST", f"/deployments/{ids['deployment_id']}/create_flow_run", 201]]
        assert fresh.failures == []

    def test_add_an_interval_schedule(self, fresh, server, ids):
        forms.add_interval_schedule(fresh, server["base"], ids["deployment_id"])
        assert fresh.writes == [["POST", f"/deployments/{ids['deployment_id']}/schedules", 201]]
        assert fresh.failures == []

    def test_pause_toggle_of_a_deployment(self, fresh, server, ids):
        forms.toggle_deployment(fresh, server["base"], ids["deployment_id"])
        assert fresh.writes == [["PATCH", f"/deployments/{ids['deployment_id']}", 204]]
        assert fresh.failures == []

    def test_create_a_variable(self, fresh, server):
        forms.create_variable(fresh, server["base"], "made_in_the_ui", "42")
        assert fresh.writes == [["POST", "/variables/", 201]]
        # the form first checks that the name is free: a 404 is the answer it wants (as from the reference)
        assert [f.split("/api", 1)[1] for f in fresh.failures] == ["/variables/name/made_in_the_ui -> 404"]

    def test_create_a_process_work_pool(self, fresh, server):
        forms.create_process_pool(fresh, server["base"], "ui-made-pool")
        assert fresh.writes == [["POST", "/work_pools/", 201]]
        assert fresh.failures == []

    def test_create_a_secret_block(self, fresh, server):
        forms.create_secret_block(fresh, server["base"], "made-in-the-ui", "s3cr3t")
        assert fresh.writes == [["POST", "/block_documents/", 201]]
        assert fresh.failures == []

    def test_cancel_a_scheduled_run(self, fresh, server, ids):
        run = _api(server, f"/deployments/{ids['deployment_id']}/create_flow_run", {})
        forms.cancel_run(fresh, server["base"], run["id"])
        assert fresh.writes == [["POST", f"/flow_runs/{run['id']}/set_state", 201]]
        assert fresh.failures == []
        assert _api(server, f"/flow_runs/{run['id']}")["state_type"] in ("CANCELLING", "CANCELLED")


def _api(server, path: str, body=None):
    import json
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{server['base']}/api{path}", data=data,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())
