"""DELETE /saved_searches/{id} — 204; 404 ``Saved search not found``."""

from fastapi import APIRouter

from domain.services import saved_searches
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("SavedSearches",)
router = APIRouter()


@router.delete("/saved_searches/{id}")
def delete_saved_search(id: str):
    saved_searches.delete(context(), id)
    return no_content()


handler = lambda_handler(router)
