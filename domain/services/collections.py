"""The collection-registry views (orchestration spec §1.13, behaviours 138-139).

The reference fetches views from the prefect-collection-registry on GitHub and falls back to a
copy bundled with the server. flowplane serves the bundled ``aggregate-worker-metadata`` view
(``domain/data/collection_views/``, the data the 2.20.26 wheel ships) without touching the
network: ``prefect work-pool create --type docker`` checks the type against it and takes the
default base job template of types not installed locally from it. Other views -> 404.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from domain.errors import NotFound

_DATA = Path(__file__).resolve().parent.parent / "data" / "collection_views"
VIEWS = ("aggregate-worker-metadata",)


@lru_cache(maxsize=len(VIEWS))
def _load(view: str) -> dict[str, Any]:
    return json.loads((_DATA / f"{view}.json").read_text(encoding="utf-8"))


def read_view(view: str) -> dict[str, Any]:
    """GET /collections/views/{view}."""
    if view not in VIEWS:
        raise NotFound(f"View {view} not found in registry")
    return _load(view)
