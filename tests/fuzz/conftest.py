"""The fuzz suite's fixture and its summary: requests sent, by status, and the operations that failed.

Each fuzzed operation records its statuses as the ``fuzz_statuses`` user property of its teardown
report (which xdist carries to the controller); the terminal summary adds them up.
"""

from __future__ import annotations

import collections
import json

import pytest

from tests.fuzz.harness import FuzzApp, fuzz_app


class FuzzRun:
    def __init__(self, app: FuzzApp):
        self.app = app
        self.statuses: collections.Counter[int] = collections.Counter()


@pytest.fixture
def fuzz(request) -> FuzzRun:
    run = FuzzRun(fuzz_app())
    yield run
    request.node.user_properties.append(("fuzz_statuses", json.dumps(run.statuses)))


_TOTALS: collections.Counter[str] = collections.Counter()
_FAILED: list[str] = []


def pytest_runtest_logreport(report) -> None:
    for name, value in report.user_properties:
        if name == "fuzz_statuses" and report.when == "teardown":
            _TOTALS.update(json.loads(value))
    if report.failed and "::test_fuzz_" in report.nodeid:
        _FAILED.append(report.location[2])  # ``test_fuzz_flows[POST /flows/]``: one report per operation


def pytest_terminal_summary(terminalreporter) -> None:
    if not _TOTALS:
        return
    total = sum(_TOTALS.values())
    by_status = ", ".join(f"{status}: {n}" for status, n in sorted(_TOTALS.items()))
    terminalreporter.write_sep("=", "fuzz (tests/fuzz)")
    terminalreporter.write_line(f"requests: {total} ({by_status})")
    failed = sorted(set(_FAILED))
    terminalreporter.write_line(f"failing operations: {len(failed)}" + "".join(f"\n  {op}" for op in failed))
