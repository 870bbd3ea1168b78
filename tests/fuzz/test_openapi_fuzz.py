"""Fuzzing every route flowplane serves from the reference's OpenAPI document (schemathesis).

Each operation gets ``FLOWPLANE_FUZZ_EXAMPLES`` generated requests (valid and invalid ones, plus
the document's own examples) against the full local app over memory stores, each starting from the
seeded state (``seed.py``): path parameters and id fields of bodies are often the seeded objects'
ids and names, so id-taking routes reach real objects and not only 404s. A request fails the suite
when it answers 5xx, or when a 2xx/4xx body does not validate against the document's schema for
that status (where the document declares one). Deterministic: hypothesis is derandomized and the
app's ids and clock are fixed (``harness.py``). ``make test`` runs a small budget, ``make fuzz`` a
large one. One test per top-level collection (``test_fuzz_flow_runs`` …) so xdist spreads them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

import hypothesis
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.fuzz.harness import (
    API_VERSION,
    DOCUMENT,
    fuzz_app,
    served_document,
    served_operations,
    shape,
)
from tests.fuzz.seed import BODY_KINDS, Seeded, path_kind, path_params

# ``make test``: the document's examples and a few generated requests per operation; ``make fuzz``
# adds schemathesis' coverage phase (boundary and invalid values of every field) and many more.
EXAMPLES = int(os.environ.get("FLOWPLANE_FUZZ_EXAMPLES", "5"))
PHASES = os.environ.get("FLOWPLANE_FUZZ_PHASES", "examples,fuzzing").split(",")

DOC = served_document()
schema = schemathesis.openapi.from_dict(DOC)
schema.config.seed = int(os.environ.get("FLOWPLANE_FUZZ_SEED", "20"))  # another seed, other cases
schema.config.phases.update(phases=PHASES)
schema.config.generation.update(max_examples=EXAMPLES, deterministic=True, database="none")
schema.config.output.sanitization.update(enabled=False)  # reproducers show the real "key", "token" … values


def _seeded() -> Seeded:
    return fuzz_app().seeded


fuzz_app()  # seeded before collection: the hooks below read its values while cases are generated


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Each path parameter: the generated value or one of the seeded objects of its kind."""
    if not path_parameters:
        return st.just(path_parameters)
    path = context.operation.path
    choices = {}
    for name, value in path_parameters.items():
        seeded = _seeded().get(path_kind(path, name))
        choices[name] = st.sampled_from([value, *seeded]) if seeded else st.just(value)
    return st.fixed_dictionaries(choices)


@schema.hook
def flatmap_body(context, body):
    """Top-level id and name fields of an object body: as generated, or a seeded object's."""
    if not isinstance(body, dict):
        return st.just(body)
    choices = {}
    for name, value in body.items():
        seeded = _seeded().get(BODY_KINDS.get(name))
        choices[name] = st.sampled_from([value, *seeded]) if seeded else st.just(value)
    return st.fixed_dictionaries(choices)


def _reference_answer_outside_its_document(case, response) -> bool:
    """Answers the reference gives (each checked against ``prefect server start`` 2.20.26) that its
    own document does not describe, kept for the wire:

    * a 422 ``{"detail": "<text>"}``: the reference's ``HTTPException(422, …)`` answers (a filter's
      limit out of range, checked before the body model; a history interval under a second; the
      task-run dashboard without ``start_time.after_``; ``/csrf-token`` while CSRF is off) — the
      document only describes the validation envelope, whose ``detail`` is a list;
    * ``POST /flow_runs/lateness`` answers ``null`` when no run matches (documented as a number).
    """
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    if response.status_code == 422:
        return isinstance(body, dict) and list(body) == ["detail"] and isinstance(body["detail"], str)
    return response.status_code == 200 and body is None and case.operation.label == "POST /flow_runs/lateness"


def matches_the_document(ctx, response, case):
    """The body validates against the document's schema for its status, where it declares one."""
    if _reference_answer_outside_its_document(case, response):
        return None
    return response_schema_conformance(ctx, response, case)


def _no_5xx_and_answers_match_the_document(case, fuzz):
    with fuzz.app.seeded_state(case.operation.label):
        response = case.call(app=fuzz.app.app, headers={"x-prefect-api-version": API_VERSION})
    fuzz.statuses[response.status_code] += 1
    case.validate_response(response, checks=[not_a_server_error, matches_the_document])


def _group(path: str) -> str:
    head = [s for s in path.strip("/").split("/") if s]
    if head and head[0] in ("v2", "ui") and len(head) > 1:
        return f"{head[0]}_{head[1]}"
    return re.sub(r"\W", "_", head[0]) if head and head[0].endswith("s") else "root"


GROUPS = sorted({_group(p) for p in DOC["paths"]})
_SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
    suppress_health_check=list(HealthCheck),
)


def _fuzz_test(group: str):
    paths = [re.escape(p) for p in DOC["paths"] if _group(p) == group]
    part = schema.include(path_regex=f"^({'|'.join(paths)})$")

    def test(case, fuzz):
        _no_5xx_and_answers_match_the_document(case, fuzz)

    test.__name__ = f"test_fuzz_{group}"
    test.__doc__ = f"No 5xx, and bodies as documented, on the {group} routes."
    return part.parametrize()(_SETTINGS(test))


for _g in GROUPS:
    globals()[f"test_fuzz_{_g}"] = _fuzz_test(_g)


REFERENCE_SHA256 = "4f30546cd0901731adf06565946058119807690c41ed9e0f57ef41eba3001400"


class TestFuzzSuite:
    def test_the_copy_is_the_reference_document(self):
        """``openapi-2.20.json`` is the reference's document byte for byte: its SHA-256 is the one of
        ``shared/reference/prefect-2.20-openapi.json``, and where shared/ is beside the checkout (a
        developer's machine) the two files are compared too."""
        assert hashlib.sha256(DOCUMENT.read_bytes()).hexdigest() == REFERENCE_SHA256
        root = DOCUMENT.parents[2]
        for shared in (root / "shared", root.parent / "shared"):
            reference = shared / "reference" / "prefect-2.20-openapi.json"
            if reference.exists():
                assert DOCUMENT.read_bytes() == reference.read_bytes()

    def test_every_served_route_is_fuzzed(self):
        """Every route of the app is in the fuzzed document: the fuzzed set is the app's route
        table matched on method and path shape, never a hand-written list."""
        fuzzed = {(m, shape(p)) for p, item in DOC["paths"].items() for m in item}
        assert fuzzed == served_operations()

    def test_every_operation_is_in_one_group(self):
        grouped = sum(len(item) for p, item in DOC["paths"].items() if _group(p) in GROUPS)
        assert grouped == len(served_operations()) and len(GROUPS) > 10

    def test_every_path_parameter_has_seeded_values(self):
        """Every id or name a served route takes in its path names a kind the seed created."""
        from handlers.routes import routes

        missing = sorted({(r.path, p) for r in routes() for p in path_params(r.path)
                          if p != "view" and not _seeded().get(path_kind(r.path, p))})
        assert missing == []
