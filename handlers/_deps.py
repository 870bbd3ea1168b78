"""Composition root: builds the service context (stores, settings, clock) once per cold start.

Tests and the local server install their own context with ``use_context``.
"""

from __future__ import annotations

from domain.context import Ctx

_ctx: Ctx | None = None


def context() -> Ctx:
    global _ctx
    if _ctx is None:
        from domain.settings import Settings
        from infra.dynamo.store import dynamo_stores

        settings = Settings.from_env()
        _ctx = Ctx(stores=dynamo_stores(settings), settings=settings)
    return _ctx


def use_context(ctx: Ctx | None) -> None:
    global _ctx
    _ctx = ctx
