"""``flowplane tick``: run one scheduler tick against the local store and print what it scheduled
(and the runs the run services marked Late or failed after an expired pause).

By default it ticks the SQLite data of ``flowplane serve`` (``--data-dir DIR``, default
``$FLOWPLANE_DATA_DIR`` or ``~/.flowplane``) — also while that server runs: SQLite serialises the
two processes' writes and every scheduler write is conditional. ``--dynamodb-endpoint URL`` works on
the tables of any DynamoDB endpoint; ``--store moto`` on an embedded moto server with freshly
created — empty — tables. Table names follow ``flowplane serve`` (prefix ``flowplane-local-``
unless ``FLOWPLANE_TABLE_PREFIX`` is set).

Registered by the CLI through ``register(sub)``; also runnable as ``python -m infra.local.tick``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("tick", help="run one scheduler tick against the local store and print what it scheduled")
    add_arguments(p)
    p.set_defaults(func=run)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="the SQLite data directory of `flowplane serve` (default: $FLOWPLANE_DATA_DIR or ~/.flowplane)")
    p.add_argument("--store", choices=("sqlite", "moto"), default="sqlite",
                   help="sqlite (default: the data of `flowplane serve`) or moto (an embedded server, empty tables)")
    p.add_argument("--dynamodb-endpoint", default=None,
                   help="DynamoDB endpoint to use (e.g. the one `flowplane serve --dynamodb-endpoint` uses)")
    p.add_argument("--table-prefix", default=None, help="physical table name prefix (default: as `flowplane serve`)")
    p.add_argument("--json", action="store_true", help="print the tick's summary and outcomes as JSON")


def run(args: argparse.Namespace) -> int:
    from domain.context import Ctx
    from domain.services import run_services, scheduler
    from domain.settings import Settings
    from infra.local import store as local_store

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the embedded moto server's request log
    settings = Settings.from_env()
    if args.table_prefix:
        settings = replace(settings, table_prefix=args.table_prefix)
    elif settings.table_prefix == "flowplane-":
        settings = replace(settings, table_prefix="flowplane-local-")
    store = local_store.open_store(settings, store=args.store, data_dir=args.data_dir,
                                   dynamodb_endpoint=args.dynamodb_endpoint, lock=False)
    try:
        ctx = Ctx(stores=store.stores, settings=store.settings)
        started = time.monotonic()
        services = run_services.tick(ctx)
        result = scheduler.tick(ctx)
        ms = (time.monotonic() - started) * 1000
    finally:
        store.close()
    if args.json:
        print(json.dumps({**result.summary(), **services.summary(), "ms": round(ms, 1),
                          "outcomes": [vars(o) for o in result.outcomes]}, indent=2))
        return 1 if result.failed else 0
    print(render(result, ms, store.description, embedded=args.store == "moto" and not args.dynamodb_endpoint,
                 services=services))
    return 1 if result.failed else 0


def render(result, ms: float, endpoint: str, *, embedded: bool = False, services=None) -> str:
    lines = [f"flowplane tick on {endpoint}{' (embedded, empty tables)' if embedded else ''}",
             f"Scheduled {result.scheduled} run{'s' if result.scheduled != 1 else ''} for "
             f"{result.materialised} deployment{'s' if result.materialised != 1 else ''} "
             f"({result.deployments} due, {result.failed} failed) in {ms:.0f} ms."]
    for o in result.outcomes:
        if o.action == "not_due":
            continue
        label = f"  {o.name or '?'} ({o.id})"
        if o.action == "failed":
            lines.append(f"{label}: FAILED {o.error}")
            continue
        detail = {"scheduled": f"{len(o.scheduled)} new run(s)", "satisfied": "enough runs",
                  "cleared": "paused or no active schedule: off the due index",
                  "superseded": "changed meanwhile: stays due"}.get(o.action, o.action)
        due = f", next due {o.due_at}" if o.due_at else ""
        lines.append(f"{label}: {detail}{due}")
        lines.extend(f"      {t}" for t in o.scheduled)
        if o.stale_removed:
            lines.append(f"      ({o.stale_removed} stale run(s) removed)")
    if services is not None and (services.late or services.expired_pauses or services.failed):
        lines.append(f"Marked {services.late} run(s) Late, failed {services.expired_pauses} expired pause(s)"
                     f"{f', {services.failed} failure(s)' if services.failed else ''}.")
    if embedded and not result.deployments:
        lines.append("Nothing due. To tick the data of `flowplane serve`, leave out --store moto.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flowplane tick", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
