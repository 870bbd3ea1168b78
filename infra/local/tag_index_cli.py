"""``flowplane tag-index backfill``: write the tag items (``domain/tag_index.py``) of every stored
deployment, flow run and task run, so filters by tag find objects stored before the tag index
existed (idempotent).

The local server does it by itself when it opens a data directory without the tag index's marker;
a deployed stack upgraded from an older template needs ``flowplane tag-index backfill --aws`` (tables
named as the stack's functions name them, AWS credentials from the environment), run while the
stack is quiet. By default it works on the SQLite data of ``flowplane serve`` (``--data-dir DIR``)
and refuses while a server holds that directory.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("tag-index", help="maintain the tag index behind filters by tags")
    tsub = p.add_subparsers(dest="tag_index_command", required=True)
    b = tsub.add_parser("backfill", help="write the tag items of every stored object (idempotent)")
    b.add_argument("--data-dir", metavar="DIR", default=None,
                   help="the SQLite data directory of `flowplane serve` (default: $FLOWPLANE_DATA_DIR or ~/.flowplane)")
    b.add_argument("--dynamodb-endpoint", default=None, help="the tables at this DynamoDB endpoint instead")
    b.add_argument("--aws", action="store_true",
                   help="the deployed tables (FLOWPLANE_TABLE_PREFIX / *_TABLE, AWS credentials from the environment)")
    b.add_argument("--table-prefix", default=None, help="physical table name prefix (default: as `flowplane serve`)")
    b.set_defaults(func=backfill)
    return p


def backfill(args: argparse.Namespace) -> int:
    from domain import tag_index
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
            print(f"flowplane tag-index backfill: {exc}", file=sys.stderr)
            return 3
        stores, settings, close = opened.stores, opened.settings, opened.close
    try:
        result = tag_index.backfill(Ctx(stores=stores, settings=settings))
    finally:
        close()
    print(json.dumps(result))
    return 0
