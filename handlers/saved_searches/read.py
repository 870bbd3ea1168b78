"""GET /saved_searches/{id} — 404 ``Saved search not found``; a non-UUID id is a 422."""

from fastapi import APIRouter

from domain.services import saved_searches
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("SavedSearches",)
READ_ONLY = True
router = APIRouter()


@router.get("/saved_searches/{id}")
def read_saved_search(id: str):
    return json_response(saved_searches.read(context(), id))


handler = lambda_handler(router)
