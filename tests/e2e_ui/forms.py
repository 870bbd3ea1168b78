"""UI form actions, done as a user does them in the browser (Playwright): each returns the
non-GET API calls it caused, ``[method, path, status]``, and leaves the page where the UI went."""

from __future__ import annotations

from urllib.parse import urlsplit


def record_writes(page) -> list:
    calls: list = []

    def on_response(resp):
        path = urlsplit(resp.url).path
        if "/api/" in path and resp.request.method != "GET" and not path.endswith(("/filter", "/count")):
            calls.append([resp.request.method, path.split("/api", 1)[1], resp.status])

    page.on("response", on_response)
    return calls


def custom_run(page, base: str, deployment_id: str) -> None:
    page.goto(f"{base}/deployments/deployment/{deployment_id}/run", wait_until="networkidle")
    with page.expect_response(lambda r: r.url.endswith("/create_flow_run"), timeout=15000):
        page.get_by_role("button", name="Submit").click()
    page.wait_for_load_state("networkidle")


def create_variable(page, base: str, name: str, value: str) -> None:
    page.goto(f"{base}/variables", wait_until="networkidle")
    page.locator("button:has(svg)").first.click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input").first.fill(name)
    dialog.locator("textarea").first.fill(value)
    dialog.get_by_role("button", name="Create").click()
    page.get_by_text(name, exact=True).wait_for(timeout=15000)


def create_process_pool(page, base: str, name: str) -> None:
    page.goto(f"{base}/work-pools/create", wait_until="networkidle")
    page.get_by_text("Process", exact=True).click()
    page.get_by_role("button", name="Next").click()
    page.locator("input[type='text']:visible").first.fill(name)
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(f"**/work-pools/work-pool/{name}**", timeout=15000)
    page.wait_for_load_state("networkidle")


def toggle_deployment(page, base: str, deployment_id: str) -> None:
    page.goto(f"{base}/deployments/deployment/{deployment_id}", wait_until="networkidle")
    page.get_by_role("switch").first.click()
    page.wait_for_timeout(1500)


def add_interval_schedule(page, base: str, deployment_id: str) -> None:
    page.goto(f"{base}/deployments/deployment/{deployment_id}", wait_until="networkidle")
    page.get_by_role("button", name="Schedule").click()
    with page.expect_response(lambda r: r.url.endswith("/schedules") and r.request.method == "POST", timeout=15000):
        page.get_by_role("dialog").get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")


def create_secret_block(page, base: str, name: str, value: str) -> None:
    page.goto(f"{base}/blocks/catalog/secret/create", wait_until="networkidle")
    fields = page.locator("input:visible, textarea:visible")
    fields.nth(0).fill(name)
    fields.nth(1).fill(value)
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/blocks/block/**", timeout=15000)
    page.wait_for_load_state("networkidle")


def cancel_run(page, base: str, flow_run_id: str) -> None:
    page.goto(f"{base}/flow-runs/flow-run/{flow_run_id}", wait_until="networkidle")
    page.get_by_role("button", name="Cancel", exact=True).click()
    with page.expect_response(lambda r: r.url.endswith("/set_state"), timeout=15000):
        page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    page.wait_for_load_state("networkidle")
