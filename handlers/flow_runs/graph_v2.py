"""GET /flow_runs/{id}/graph-v2 — the run's task and subflow nodes, edges, states and artifacts
(``?since=`` keeps nodes that end at or after it). A non-UUID id is a 404 (``{id:uuid}`` route)."""

from fastapi import APIRouter

from domain.errors import NotFound
from domain.ids import canonical
from domain.parsing import query_datetime
from domain.services import run_graph
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRuns", "TaskRuns", "Flows", "FlowRunStates", "Artifacts", "ArtifactCollections")
READ_ONLY = True
router = APIRouter()


@router.get("/flow_runs/{id}/graph-v2")
def read_flow_run_graph_v2(id: str, since: str | None = None):
    run_id = canonical(id)
    if run_id is None:
        raise NotFound("Not Found")
    when = query_datetime(since, "since") if since is not None else None
    return json_response(run_graph.flow_run_graph(context(), run_id, when))


handler = lambda_handler(router)
