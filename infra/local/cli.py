"""The ``flowplane`` command: serve, invoke, tick, api-key."""

from __future__ import annotations

import argparse
import os
import sys


def _serve(args: argparse.Namespace) -> int:
    from infra.local.server import serve
    from infra.local.store import DataDirInUse

    try:
        serve(args.host, args.port, dynamodb_endpoint=args.dynamodb_endpoint, api_key=args.api_key,
              scheduler_interval=args.scheduler_interval, log_level=args.log_level, ui=not args.no_ui,
              store=args.store, data_dir=args.data_dir)
    except DataDirInUse as exc:
        print(f"flowplane serve: {exc}", file=sys.stderr, flush=True)
        return 3
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flowplane", description="flowplane local runtime")
    sub = parser.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="serve every route locally (data in SQLite under ~/.flowplane)")
    s.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    s.add_argument("--port", type=int, default=int(os.environ.get("PORT", "4200")))
    s.add_argument("--data-dir", metavar="DIR", default=None,
                   help="where the SQLite database lives (default: $FLOWPLANE_DATA_DIR or ~/.flowplane); "
                        "one server per directory")
    s.add_argument("--store", choices=("sqlite", "moto"), default="sqlite",
                   help="sqlite (default: durable, in --data-dir) or moto (an embedded in-memory DynamoDB, "
                        "lost on exit)")
    s.add_argument("--dynamodb-endpoint", default=None,
                   help="use the tables at this DynamoDB endpoint (DynamoDB Local, LocalStack, AWS) instead")
    s.add_argument("--api-key", default=None, help="require Authorization: Bearer <key>")
    s.add_argument("--scheduler-interval", type=float, default=5.0, help="seconds between scheduler ticks")
    s.add_argument("--log-level", default="warning")
    s.add_argument("--no-ui", action="store_true", help="serve the API only, without the Prefect UI at /")
    s.set_defaults(func=_serve)

    try:
        from infra.local import commands
    except ImportError:
        commands = None
    if commands is not None:
        commands.register(sub)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
