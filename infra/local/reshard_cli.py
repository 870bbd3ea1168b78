"""``flowplane reshard``: move the items a stack stored before its constant-partition indexes were
sharded (``Index.shards``: ``all`` became ``all#<k>``) into their shards, so reads that merge the
shards find them (``domain.sharded_index.reshard``; idempotent).

A deployed stack upgraded from an older template needs ``flowplane reshard --aws`` (tables named
as the stack's functions name them, AWS credentials from the environment), run while the stack is
quiet; until then its older runs, task runs, deployments, artifacts and logs are missing from
unselective filters and counts. The local SQLite store re-projects by itself when it is opened, so
``flowplane reshard`` on a data directory finds nothing to move; ``--dynamodb-endpoint URL`` works on
DynamoDB Local or LocalStack tables.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("reshard", help="move items stored before the index sharding into their shards (idempotent)")
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="the SQLite data directory of `flowplane serve` (default: $FLOWPLANE_DATA_DIR or ~/.flowplane)")
    p.add_argument("--dynamodb-endpoint", default=None, help="the tables at this DynamoDB endpoint instead")
    p.add_argument("--aws", action="store_true",
                   help="the deployed tables (FLOWPLANE_TABLE_PREFIX / *_TABLE, AWS credentials from the environment)")
    p.add_argument("--table-prefix", default=None, help="physical table name prefix (default: as `flowplane serve`)")
    p.set_defaults(func=main)
    return p


def main(args: argparse.Namespace) -> int:
    from domain.settings import Settings
    from domain.sharded_index import reshard
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
            print(f"flowplane reshard: {exc}", file=sys.stderr)
            return 3
        stores, close = opened.stores, opened.close
    try:
        moved = reshard(vars(stores).values())
    finally:
        close()
    print(json.dumps(moved))
    return 0
