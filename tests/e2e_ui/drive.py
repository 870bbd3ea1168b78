"""Drive the Prefect 2.20 UI in headless Chromium (Playwright with the system browser) over its
pages, recording every API call, failed request, console error and the page text.

``python tests/e2e_ui/drive.py --ui URL --ids IDS.json --out DIR`` prints a JSON report:
``{"pages": [{"name", "url", "calls": [[method, path, status]], "failures": [...], "console": [...],
"cant_connect": bool, "screenshot"}]}``. ``--api URL`` points the UI at another origin's API
(cross-origin: ``ui-settings`` is answered by this script, as a static file on S3 would be).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

PAGES = (
    ("dashboard", "/dashboard"),
    ("flow-runs", "/flow-runs"),
    ("flow-run", "/flow-runs/flow-run/{flow_run_id}"),
    ("flows", "/flows"),
    ("flow", "/flows/flow/{flow_id}"),
    ("deployments", "/deployments"),
    ("deployment", "/deployments/deployment/{deployment_id}"),
    ("work-pools", "/work-pools"),
    ("work-pool", "/work-pools/work-pool/{pool}"),
    ("blocks", "/blocks"),
    ("variables", "/variables"),
)
# the forms and the remaining pages of the navigation (loaded, not submitted)
FORM_PAGES = (
    ("deployment-run", "/deployments/deployment/{deployment_id}/run"),
    ("deployment-edit", "/deployments/deployment/{deployment_id}/edit"),
    ("work-pool-create", "/work-pools/create"),
    ("block-catalog", "/blocks/catalog"),
    ("block-create", "/blocks/catalog/secret/create"),
    ("notifications", "/notifications"),
    ("notification-create", "/notifications/create"),
    ("concurrency", "/concurrency-limits"),
    ("settings", "/settings"),
    ("artifacts", "/artifacts"),
)
CANT_CONNECT = "Can't connect to Server API"


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    raise SystemExit("no chromium on PATH (apt-get install -y chromium)")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def drive(ui: str, ids: dict, out: Path, api: str | None = None, settle_ms: int = 2500,
          pages=PAGES, host: str | None = None, expect: dict | None = None, wait_s: float = 15.0) -> dict:
    """Open each page; see the module docstring for the report. Failures and console errors count
    only for the UI's and the API's origins (``host``): the blocks page loads logos from a CDN.
    ``expect`` (page name -> texts): wait up to ``wait_s`` for them before reading the page."""
    import time

    from playwright.sync_api import sync_playwright

    local = {_origin(ui), _origin(host or ui)}
    out.mkdir(parents=True, exist_ok=True)
    report = {"pages": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        if api is not None:
            import urllib.request

            with urllib.request.urlopen(f"{ui.rstrip('/')}/ui-settings") as r:
                settings = {**json.loads(r.read()), "api_url": api}
            context.route(f"{ui.rstrip('/')}/ui-settings",
                          lambda route: route.fulfill(status=200, content_type="application/json",
                                                      body=json.dumps(settings)))
        for name, template in pages:
            page = context.new_page()
            rec = {"name": name, "url": ui.rstrip("/") + template.format(**ids), "calls": [],
                   "failures": [], "console": []}

            def on_response(resp, rec=rec):
                path = urlsplit(resp.url).path
                if _origin(resp.url) not in local:
                    return
                if "/api/" in path:
                    rec["calls"].append([resp.request.method, path.split("/api", 1)[1], resp.status,
                                         (resp.request.post_data or "")[:2000]])
                if resp.status >= 400:
                    rec["failures"].append(f"{resp.request.method} {path} -> {resp.status}")

            def on_failed(req, rec=rec):
                if _origin(req.url) in local:
                    rec["failures"].append(f"{req.method} {urlsplit(req.url).path} failed: {req.failure}")

            def on_console(msg, rec=rec):
                if msg.type != "error":
                    return
                where = (msg.location or {}).get("url") or ""
                if where and _origin(where) not in local and "CORS" not in msg.text:
                    return
                rec["console"].append(msg.text[:300])

            page.on("response", on_response)
            page.on("requestfailed", on_failed)
            page.on("console", on_console)
            try:
                page.goto(rec["url"], wait_until="networkidle", timeout=60000)
            except Exception as exc:  # noqa: BLE001 - reported, the page is still inspected
                rec["failures"].append(f"navigation: {exc}")
            page.wait_for_timeout(settle_ms)
            text = page.inner_text("body")
            deadline = time.monotonic() + wait_s
            while any(t not in text for t in (expect or {}).get(name, ())) and time.monotonic() < deadline:
                page.wait_for_timeout(500)
                text = page.inner_text("body")
            rec["cant_connect"] = CANT_CONNECT in text
            rec["text"] = text[:20000]
            shot = out / f"{name}.png"
            page.screenshot(path=str(shot), full_page=True)
            rec["screenshot"] = str(shot)
            report["pages"].append(rec)
            page.close()
        browser.close()
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ui", required=True)
    ap.add_argument("--api", default=None)
    ap.add_argument("--host", default=None, help="the API's origin when it differs from the UI's")
    ap.add_argument("--ids", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", nargs="*", default=None, help="page names")
    args = ap.parse_args(argv)
    pages = [p for p in PAGES + FORM_PAGES if (not args.only and p in PAGES) or (args.only and p[0] in args.only)]
    report = drive(args.ui, json.loads(Path(args.ids).read_text()), Path(args.out), args.api, pages=pages,
                   host=args.host)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
