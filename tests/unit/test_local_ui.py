"""The Prefect UI beside the local API: fetched from the prefect wheel once, placeholder replaced
as the reference does at start, ``ui-settings`` as the reference answers. No network: a tiny fake
wheel stands in for prefect-2.20.26-py3-none-any.whl."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from infra.local import ui

INDEX = ('<html><head><base href="/PREFECT_UI_SERVE_BASE_REPLACE_PLACEHOLDER/">'
         '<script src="/PREFECT_UI_SERVE_BASE_REPLACE_PLACEHOLDER/assets/index.js"></script></head></html>')


def fake_wheel(tmp_path: Path) -> Path:
    wheel = tmp_path / "prefect-2.20.26-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("prefect/__init__.py", "")
        zf.writestr("prefect/server/ui/index.html", INDEX)
        zf.writestr("prefect/server/ui/assets/index.js", 'const b="/PREFECT_UI_SERVE_BASE_REPLACE_PLACEHOLDER";')
        zf.writestr("prefect/server/ui/assets/logo.png", b"\x89PNG/PREFECT_UI_SERVE_BASE_REPLACE_PLACEHOLDER")
        zf.writestr("prefect/server/ui_build/stale.txt", "not part of the UI")
    return wheel


class TestEnsureUi:
    def test_extracts_only_the_ui_and_replaces_the_placeholder_with_the_stripped_base(self, tmp_path):
        build = ui.ensure_ui(tmp_path / "cache", wheel=fake_wheel(tmp_path))
        assert build == tmp_path / "cache" / "build"
        files = sorted(str(p.relative_to(build)) for p in build.rglob("*") if p.is_file())
        assert files == ["UI_SERVE_BASE", "assets/index.js", "assets/logo.png", "index.html"]
        assert (build / "index.html").read_text() == INDEX.replace("/PREFECT_UI_SERVE_BASE_REPLACE_PLACEHOLDER", "")
        assert (build / "assets/index.js").read_text() == 'const b="";'
        # binary files are not rewritten, as the reference only touches text extensions
        assert (build / "assets/logo.png").read_bytes() == b"\x89PNG/PREFECT_UI_SERVE_BASE_REPLACE_PLACEHOLDER"
        assert (build / "UI_SERVE_BASE").read_text() == "2.20.26:/"

    def test_a_sub_path_base_is_written_without_its_trailing_slash(self, tmp_path):
        build = ui.ensure_ui(tmp_path / "cache", wheel=fake_wheel(tmp_path), base="/prefect/")
        assert 'src="/prefect/assets/index.js"' in (build / "index.html").read_text()
        assert (build / "UI_SERVE_BASE").read_text() == "2.20.26:/prefect/"

    def test_a_ready_cache_is_reused_without_fetching(self, tmp_path, monkeypatch):
        root = tmp_path / "cache"
        ui.ensure_ui(root, wheel=fake_wheel(tmp_path))
        (root / "build" / "index.html").write_text("kept")
        monkeypatch.setattr(ui, "download_wheel", lambda *a, **k: pytest.fail("fetched again"))
        assert (ui.ensure_ui(root) / "index.html").read_text() == "kept"

    def test_a_changed_base_rebuilds(self, tmp_path):
        root = tmp_path / "cache"
        ui.ensure_ui(root, wheel=fake_wheel(tmp_path))
        build = ui.ensure_ui(root, wheel=fake_wheel(tmp_path), base="/x")
        assert '<base href="/x/">' in (build / "index.html").read_text()

    def test_a_wheel_without_the_ui_is_refused(self, tmp_path):
        wheel = tmp_path / "prefect-2.20.26-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr("prefect/__init__.py", "")
        with pytest.raises(ui.UiUnavailable, match="holds no prefect/server/ui/index.html"):
            ui.ensure_ui(tmp_path / "cache", wheel=wheel)
        assert not (tmp_path / "cache" / "build").exists()

    def test_download_asks_pip_for_that_one_wheel_without_dependencies(self, tmp_path, monkeypatch):
        calls = []

        def fake_run(cmd, **kw):
            calls.append(cmd)
            fake_wheel(Path(cmd[cmd.index("-d") + 1]))

            class P:
                returncode, stderr = 0, ""
            return P()

        monkeypatch.setattr(ui.subprocess, "run", fake_run)
        wheel = ui.download_wheel(tmp_path / "w")
        assert wheel.name == "prefect-2.20.26-py3-none-any.whl"
        assert calls[0][1:] == ["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                                "prefect==2.20.26", "-d", str(tmp_path / "w")]
        ui.download_wheel(tmp_path / "w")
        assert len(calls) == 1  # the downloaded wheel is kept


class TestServedUi:
    @pytest.fixture
    def client(self, tmp_path):
        from fastapi import FastAPI

        api = FastAPI()

        @api.get("/api/health")
        def health():
            return True

        build = ui.ensure_ui(tmp_path / "cache", wheel=fake_wheel(tmp_path))
        app = ui.with_ui(api, build, ui.ui_settings("/api"))
        return TestClient(app)

    def test_ui_settings_answers_as_the_reference(self, client):
        r = client.get("/ui-settings")
        assert r.status_code == 200
        assert r.json() == {
            "api_url": "/api", "csrf_enabled": False,
            "flags": ["states_on_flow_run_graph", "deployment_status", "work_pools", "work_queue_status",
                      "enhanced_cancellation", "workers", "workspace_dashboard", "artifacts_on_flow_run_graph",
                      "artifacts"],
        }

    def test_root_and_unknown_pages_serve_index_html(self, client):
        for path in ("/", "/flow-runs", "/deployments/deployment/abc"):
            r = client.get(path)
            assert r.status_code == 200, path
            assert r.text.startswith("<html><head><base href=\"/\">")

    def test_assets_are_served(self, client):
        r = client.get("/assets/index.js")
        assert r.status_code == 200
        assert r.text == 'const b="";'

    def test_api_paths_stay_with_the_api(self, client):
        assert client.get("/api/health").json() is True
        r = client.get("/api/nothing")
        assert r.status_code == 404
        assert r.json() == {"detail": "Not Found"}


class TestUiFilesInTheBackground:
    def test_a_ready_cache_is_used_at_once(self, tmp_path):
        root = tmp_path / "cache"
        ui.ensure_ui(root, wheel=fake_wheel(tmp_path))
        files = ui.UiFiles.prepare(root)
        assert files.ready
        assert files.path == root / "build"

    def test_a_first_start_fetches_in_a_thread(self, tmp_path):
        root = tmp_path / "cache"
        (root / "wheel").mkdir(parents=True)
        fake_wheel(root / "wheel")  # what pip would have downloaded: no network in this test
        files = ui.UiFiles.prepare(root, wait=True)
        assert files.ready, files.error
        assert (files.path / "index.html").read_text().startswith('<html><head><base href="/">')

    def test_pages_are_503_until_ready_while_the_api_and_ui_settings_answer(self, tmp_path):
        from fastapi import FastAPI

        api = FastAPI()

        @api.get("/api/health")
        def health():
            return True

        files = ui.UiFiles()
        client = TestClient(ui.with_ui(api, files, ui.ui_settings("/api")))
        r = client.get("/flow-runs")
        assert r.status_code == 503
        assert r.headers["retry-after"] == "5"
        assert "being prepared" in r.text
        assert client.get("/ui-settings").status_code == 200
        assert client.get("/api/health").json() is True
        files.path = ui.ensure_ui(tmp_path / "cache", wheel=fake_wheel(tmp_path))
        assert client.get("/flow-runs").status_code == 200

    def test_a_failed_fetch_says_why(self, tmp_path):
        from fastapi import FastAPI

        client = TestClient(ui.with_ui(FastAPI(), ui.UiFiles(error="no network"), ui.ui_settings("/api")))
        r = client.get("/")
        assert r.status_code == 503
        assert "could not be prepared: no network" in r.text
