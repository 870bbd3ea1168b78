"""POST /saved_searches/filter — saved searches by name, offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import saved_searches
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("SavedSearches",)
READ_ONLY = True
router = APIRouter()


@router.post("/saved_searches/filter")
def read_saved_searches(body: Body):
    q = parse_model(saved_searches.SavedSearchQuery, body)
    return json_response(saved_searches.filter_searches(context(), q))


handler = lambda_handler(router)
