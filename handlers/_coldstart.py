"""Two cold-start savings inside FastAPI that change no behaviour (installed by ``handlers/__init__``).

Every HTTP function imports FastAPI; measured on this machine, two things it does at import and
route-definition time cost ~75 ms of a ~0.55 s cold start and serve flowplane nothing:

1. ``fastapi.openapi.models`` builds ~50 pydantic models (the OpenAPI document schema) eagerly:
   ~50 ms. flowplane serves no OpenAPI document (``openapi_url=None``). The models are created with
   pydantic's own ``defer_build`` so each is built on first use instead — same models, same
   validation, later. Only classes created while that module executes are affected.
2. For every route parameter FastAPI asks "is this a pydantic.v1 model?", and answering imports
   ``pydantic.v1``: ~25 ms. While ``pydantic.v1`` has never been imported, no v1 model can exist,
   so the answer is "no" without importing it; once anything imports ``pydantic.v1``, FastAPI's own
   check runs as before.

Both act through an import hook on exactly those two FastAPI modules, so nothing is imported here
and the authorizer and scheduler (which never import FastAPI) pay nothing. If a FastAPI or pydantic
upgrade moves these internals the hook does nothing (and ``tests/handlers/test_cold_start.py``
says so); remove the import in ``handlers/__init__.py`` to switch both off.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

_OPENAPI_MODELS = "fastapi.openapi.models"
_COMPAT_SHARED = "fastapi._compat.shared"


def _exec_openapi_models(original):
    def exec_module(module) -> None:
        from pydantic import BaseModel

        saved = BaseModel.__dict__.get("model_config")
        if not isinstance(saved, dict):  # pydantic changed: leave it alone
            original(module)
            return
        BaseModel.model_config = {**saved, "defer_build": True}
        try:
            original(module)
        finally:
            BaseModel.model_config = saved

    return exec_module


def _exec_compat_shared(original):
    def exec_module(module) -> None:
        original(module)
        check = getattr(module, "is_pydantic_v1_model_class", None)
        if check is None:
            return

        def is_pydantic_v1_model_class(cls) -> bool:
            return "pydantic.v1" in sys.modules and check(cls)

        is_pydantic_v1_model_class.__wrapped__ = check  # type: ignore[attr-defined]
        module.is_pydantic_v1_model_class = is_pydantic_v1_model_class

    return exec_module


_WRAPPERS = {_OPENAPI_MODELS: _exec_openapi_models, _COMPAT_SHARED: _exec_compat_shared}


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        wrap = _WRAPPERS.get(fullname)
        if wrap is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader.exec_module = wrap(spec.loader.exec_module)  # this module's own loader instance
        return spec


def install() -> None:
    if any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    if _OPENAPI_MODELS in sys.modules or _COMPAT_SHARED in sys.modules:
        return  # FastAPI is already imported: too late to help, never wrong to skip
    sys.meta_path.insert(0, _Finder())
