"""PUT /saved_searches/ — create (201) or replace the filters of (200) the search with that name."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import saved_searches
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("SavedSearches",)
router = APIRouter()


@router.put("/saved_searches/")
def create_saved_search(body: Body):
    doc, created = saved_searches.upsert(context(), parse_model(saved_searches.SavedSearchCreate, body))
    return json_response(doc, 201 if created else 200)


handler = lambda_handler(router)
