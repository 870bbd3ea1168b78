"""Each of the 11 pages of the Prefect 2.20 UI on flowplane, same origin and cross-origin: no failed
API call (4xx/5xx, CORS, network), no console error, no "Can't connect to Server API", and the seeded
objects on screen."""

from __future__ import annotations

import pytest
from drive import FORM_PAGES, PAGES

# what must be on screen once the page has loaded (seed.py's objects)
EXPECTED_TEXT = {
    "dashboard": ["ui-pool"],
    "flow-runs": ["ui-etl"],
    "flow-run": ["ui-etl", "2 Task runs", "extracting 3 rows", "etl done: 3"],  # the graph is a canvas
    "flows": ["ui-etl", "ui-child"],
    "flow": ["ui-etl"],
    "deployments": ["nightly"],
    "deployment": ["nightly", "ui-pool"],
    "work-pools": ["ui-pool"],
    "work-pool": ["ui-pool", "Process"],
    "blocks": ["ui-secret"],
    "variables": ["ui_var"],
    # the forms and the rest of the navigation
    "deployment-run": ["nightly"],
    "deployment-edit": ["nightly"],
    "work-pool-create": ["Process"],
    "block-catalog": ["Secret"],
    "block-create": ["Secret"],
    "notifications": ["Notifications"],
    "notification-create": ["Notifications"],
    "concurrency": ["Concurrency"],
    "settings": ["PREFECT_API_DEFAULT_LIMIT"],
    "artifacts": ["Artifacts"],
}
NAMES = [name for name, _ in PAGES]
FORM_NAMES = [name for name, _ in FORM_PAGES]


def check(page: dict) -> None:
    assert page["failures"] == [], f"failed calls on {page['url']} (see {page['screenshot']})"
    assert page["console"] == [], f"console errors on {page['url']} (see {page['screenshot']})"
    assert not page["cant_connect"], f"\"Can't connect to Server API\" on {page['url']}"
    missing = [t for t in EXPECTED_TEXT[page["name"]] if t not in page["text"]]
    assert missing == [], f"{missing} not on {page['url']} (see {page['screenshot']})"
    assert page["calls"], f"{page['url']} made no API call"


class TestSameOrigin:
    @pytest.mark.parametrize("name", NAMES)
    def test_page_loads_with_no_failed_call(self, same_origin, name):
        check(same_origin[name])


class TestCrossOrigin:
    @pytest.mark.parametrize("name", NAMES)
    def test_page_loads_with_no_failed_call_or_cors_error(self, cross_origin, name):
        check(cross_origin[name])


class TestFormsSameOrigin:
    @pytest.mark.parametrize("name", FORM_NAMES)
    def test_form_page_loads_with_no_failed_call(self, forms, name):
        check(forms[name])
