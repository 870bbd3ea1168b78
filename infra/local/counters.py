"""``flowplane counters rebuild``: recompute the run counters (``domain/run_counters.py``) from the
stored runs, through the ``Store`` port, and add the difference to what is stored (idempotent).

Needed once for data written before counters existed: the local server does it by itself when it
opens a data directory whose counters were never built; a deployed stack upgraded from an older
template needs ``flowplane counters rebuild --aws`` (tables named as the stack's functions name them:
``FLOWPLANE_TABLE_PREFIX`` / ``<TABLE>_TABLE``, AWS credentials from the environment) run while the
stack is quiet. By default it works on the SQLite data of ``flowplane serve`` (``--data-dir DIR``)
and refuses while a server holds that directory.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("counters", help="maintain the run counters behind /flow_runs/count and /task_runs/count")
    csub = p.add_subparsers(dest="counters_command", required=True)
    r = csub.add_parser("rebuild", help="recompute every run counter from the stored runs (idempotent)")
    r.add_argument("--data-dir", metavar="DIR", default=None,
                   help="the SQLite data directory of `flowplane serve` (default: $FLOWPLANE_DATA_DIR or ~/.flowplane)")
    r.add_argument("--dynamodb-endpoint", default=None, help="the tables at this DynamoDB endpoint instead")
    r.add_argument("--aws", action="store_true",
                   help="the deployed tables (FLOWPLANE_TABLE_PREFIX / *_TABLE, AWS credentials from the environment)")
    r.add_argument("--table-prefix", default=None, help="physical table name prefix (default: as `flowplane serve`)")
    r.set_defaults(func=rebuild)
    return p


def rebuild(args: argparse.Namespace) -> int:
    from domain import run_counters
    from domain.context import Ctx
    from domain.settings import Settings
    from infra.local import store as local_store

    settings = Settings.from_env()
    if args.table_prefix:
        settings = replace(settings, table_prefix=args.table_prefix)
    if args.aws:
        from infra.dynamo.store import dynamo_stores

        stores, close = dynamo_stores(settings), (lambda: None)
    else:
        if not args.table_prefix and settings.table_prefix == "flowplane-":
            settings = replace(settings, table_prefix="flowplane-local-")
        try:
            opened = local_store.open_store(settings, data_dir=args.data_dir, dynamodb_endpoint=args.dynamodb_endpoint)
        except local_store.DataDirInUse as exc:
            print(f"flowplane counters rebuild: {exc}", file=sys.stderr)
            return 3
        stores, settings, close = opened.stores, opened.settings, opened.close
    try:
        result = run_counters.rebuild(Ctx(stores=stores, settings=settings))
    finally:
        close()
    print(json.dumps(result))
    return 0
