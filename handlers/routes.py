"""The route table: every route module under ``handlers`` (a module with a ``router``).

Used by the local server (one app with every route), by the template generator and by the test
that checks the route table, ``template.yaml`` and ``events/`` agree. Static paths are ordered
before parameterised ones, as the reference registers them.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

import handlers

NON_HTTP = {"handlers.scheduler", "handlers.authorizer"}


@dataclass(frozen=True)
class Route:
    module: str
    method: str
    path: str  # relative to /api

    @property
    def function_id(self) -> str:
        parts = self.module.split(".")[1:]
        return "".join(p.title().replace("_", "") for p in parts) + "Function"

    @property
    def handler(self) -> str:
        return f"{self.module}.handler"


def route_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(handlers.__path__, "handlers."):
        leaf = info.name.rsplit(".", 1)[-1]
        if info.ispkg or leaf.startswith("_") or info.name in NON_HTTP or info.name == "handlers.routes":
            continue
        names.append(info.name)
    return sorted(names)


def _specificity(route: Route) -> tuple:
    segs = route.path.strip("/").split("/")
    return tuple((1 if s.startswith("{") else 0) for s in segs)


def routes() -> list[Route]:
    out = []
    for name in route_modules():
        mod = importlib.import_module(name)
        router = getattr(mod, "router", None)
        if router is None:
            continue
        for r in router.routes:
            for method in sorted(r.methods):
                out.append(Route(name, method, r.path))
    out.sort(key=lambda r: (_specificity(r), r.path, r.method))
    return out


def routers():
    seen, out = set(), []
    for r in routes():
        if r.module not in seen:
            seen.add(r.module)
            out.append(importlib.import_module(r.module).router)
    return out
