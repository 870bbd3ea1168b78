"""Maintenance commands that bring stored data up to what a newer flowplane keeps beside it, through
the ``Store`` port, idempotently:

- ``flowplane counters rebuild``: recompute the run counters (``domain/run_counters.py``) from the
  stored runs and add the difference to what is stored — for data written before counters existed.
- ``flowplane tag-index backfill``: write the tag items (``domain/tag_index.py``) of every stored
  deployment, flow run and task run, so filters by tag find objects stored before the tag index.
- ``flowplane reshard``: move the items a stack stored before its constant-partition indexes were
  sharded (``Index.shards``: ``all`` became ``all#<k>``) into their shards, so the merged reads find
  them (``domain.sharded_index.reshard``); until then older runs, task runs, deployments, artifacts
  and logs are missing from unselective filters and counts. It also writes again the runs stored
  before FlowRuns' ``by_state_type_sharded`` existed (DynamoDB builds a new GSI only from items that
  carry its key attribute), which filters by state type alone read.

The local server does the first two by itself when it opens a data directory without their markers,
and re-projects its SQLite rows (the third) when its schema signature changed. A deployed stack
upgraded from an older template needs each with ``--aws`` (tables named as the stack's functions name
them: ``FLOWPLANE_TABLE_PREFIX`` / ``<TABLE>_TABLE``, AWS credentials from the environment), run while
the stack is quiet; ``--dynamodb-endpoint URL`` works on DynamoDB Local or LocalStack tables. By
default a command works on the SQLite data of ``flowplane serve`` (``--data-dir DIR``) and refuses
while a server holds that directory.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any


def _rebuild_counters(ctx) -> Any:
    from domain import run_counters

    return run_counters.rebuild(ctx)


def _backfill_tags(ctx) -> Any:
    from domain import tag_index

    return tag_index.backfill(ctx)


def _reshard(ctx) -> Any:
    from domain.sharded_index import reshard

    return reshard(vars(ctx.stores).values())


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # ("counters", "rebuild") or ("reshard",)
    group_help: str
    help: str
    run: Callable[[Any], Any]  # Ctx -> a JSON-ready result


COMMANDS = (
    Command(("counters", "rebuild"), "maintain the run counters behind /flow_runs/count and /task_runs/count",
            "recompute every run counter from the stored runs (idempotent)", _rebuild_counters),
    Command(("tag-index", "backfill"), "maintain the tag index behind filters by tags",
            "write the tag items of every stored object (idempotent)", _backfill_tags),
    Command(("reshard",), "", "move items stored before the index sharding into their shards, and runs into the "
                              "sharded state-type index (idempotent)", _reshard),
)


def register(sub) -> None:
    for command in COMMANDS:
        if len(command.words) == 1:
            p = sub.add_parser(command.words[0], help=command.help)
        else:
            group = sub.add_parser(command.words[0], help=command.group_help)
            p = group.add_subparsers(dest=f"{command.words[0]}_command", required=True).add_parser(
                command.words[1], help=command.help)
        store_arguments(p)
        p.set_defaults(func=lambda args, c=command: run(c, args))


def store_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="the SQLite data directory of `flowplane serve` (default: $FLOWPLANE_DATA_DIR or ~/.flowplane)")
    p.add_argument("--dynamodb-endpoint", default=None, help="the tables at this DynamoDB endpoint instead")
    p.add_argument("--aws", action="store_true",
                   help="the deployed tables (FLOWPLANE_TABLE_PREFIX / *_TABLE, AWS credentials from the environment)")
    p.add_argument("--table-prefix", default=None, help="physical table name prefix (default: as `flowplane serve`)")


def open_ctx(args: argparse.Namespace) -> tuple[Any, Callable[[], None], str]:
    """(Ctx, close, where the data is) for the store the arguments of ``store_arguments`` name;
    raises ``infra.local.store.DataDirInUse`` while a server holds the SQLite data directory."""
    from domain.context import Ctx
    from domain.settings import Settings
    from infra.local import store as local_store

    settings = Settings.from_env()
    if args.table_prefix:
        settings = replace(settings, table_prefix=args.table_prefix)
    if args.aws:
        from infra.dynamo.store import dynamo_stores

        return (Ctx(stores=dynamo_stores(settings), settings=settings), (lambda: None),
                f"the deployed DynamoDB tables ({settings.table('Flows')}, ...)")
    if not args.table_prefix and settings.table_prefix == "flowplane-":
        settings = replace(settings, table_prefix="flowplane-local-")
    opened = local_store.open_store(settings, data_dir=args.data_dir, dynamodb_endpoint=args.dynamodb_endpoint)
    return Ctx(stores=opened.stores, settings=opened.settings), opened.close, opened.description


def run(command: Command, args: argparse.Namespace) -> int:
    from infra.local import store as local_store

    try:
        ctx, close, _ = open_ctx(args)
    except local_store.DataDirInUse as exc:
        print(f"flowplane {' '.join(command.words)}: {exc}", file=sys.stderr)
        return 3
    try:
        result = command.run(ctx)
    finally:
        close()
    print(json.dumps(result))
    return 0
