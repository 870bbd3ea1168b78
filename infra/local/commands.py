"""``flowplane`` sub-commands beyond ``serve``: ``invoke`` and ``api-key``.

``infra.local.cli`` calls ``register(subparsers)``; each command imports its implementation lazily,
so ``flowplane --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace


def register(sub: argparse._SubParsersAction) -> None:
    _register_invoke(sub)
    _register_api_key(sub)
    from infra.local import tick

    tick.register(sub)  # flowplane tick
    from infra.local import maintenance

    maintenance.register(sub)  # flowplane counters rebuild / tag-index backfill / reshard
    from infra.local import transfer

    transfer.register(sub)  # flowplane export / import
    from infra import ui_publish

    ui_publish.register(sub)  # flowplane ui publish --stack NAME


# --------------------------------------------------------------------------------------------
# flowplane invoke FUNCTION -e events/FILE.json [--dynamodb-endpoint URL]

def _register_invoke(sub) -> None:
    p = sub.add_parser(
        "invoke",
        help="invoke one function of template.yaml with an event, like `sam local invoke` (no Docker)",
        description="Run a template.yaml function locally: handler, environment, memory and timeout from the "
                    "template, a Lambda context, the JSON result on stdout (exit 1 with Lambda's error shape "
                    "on failure).",
    )
    p.add_argument("function", metavar="FUNCTION", help="logical id in template.yaml, e.g. FlowsReadFunction")
    p.add_argument("-e", "--event", metavar="FILE",
                   help="event JSON file ('-' for stdin); default events/FUNCTION.json, else {}")
    p.add_argument("--dynamodb-endpoint", metavar="URL", default=None,
                   help="use this DynamoDB endpoint instead of an embedded moto server")
    p.add_argument("-t", "--template", metavar="FILE", default=None, help="template (default: template.yaml)")
    p.set_defaults(func=_invoke)


def _invoke(args: argparse.Namespace) -> int:
    from infra.local import invoke

    return invoke.main(args)


# --------------------------------------------------------------------------------------------
# flowplane api-key create|revoke|list

def _register_api_key(sub) -> None:
    p = sub.add_parser(
        "api-key",
        help="create, revoke and list the bearer keys the deployed API accepts",
        description="Keys live in the stack's ApiKeys table. Target it with --stack NAME (reads the "
                    "ApiKeysTableName output), --table NAME (AWS), or --dynamodb-endpoint URL (a local "
                    "DynamoDB; table flowplane-local-ApiKeys unless --table). Locally, `flowplane serve "
                    "--api-key K` needs no table.",
    )
    ksub = p.add_subparsers(dest="api_key_command", required=True)

    def target(q: argparse.ArgumentParser) -> None:
        q.add_argument("--stack", metavar="NAME", help="CloudFormation stack deployed from template.yaml")
        q.add_argument("--table", metavar="NAME", help="the ApiKeys table's physical name")
        q.add_argument("--dynamodb-endpoint", metavar="URL", default=None)
        q.add_argument("--region", default=None, help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION)")

    c = ksub.add_parser("create", help="create a key; prints the key once (it is never stored)")
    c.add_argument("--name", default="default", help="a label shown by `list`")
    target(c)
    c.set_defaults(func=_api_key_create)

    r = ksub.add_parser("revoke", help="revoke a key by id (or by the full key)")
    r.add_argument("key_id", metavar="KEY_ID")
    target(r)
    r.set_defaults(func=_api_key_revoke)

    ls = ksub.add_parser("list", help="list keys (ids, names, created, revoked) — never the keys themselves")
    ls.add_argument("--json", action="store_true", help="JSON instead of a table")
    target(ls)
    ls.set_defaults(func=_api_key_list)


class TargetError(Exception):
    pass


def _region(args) -> str:
    import os

    return args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def stack_table(stack: str, region: str) -> str:
    import boto3

    out = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack)["Stacks"][0]
    for o in out.get("Outputs") or []:
        if o.get("OutputKey") == "ApiKeysTableName":
            return o["OutputValue"]
    raise TargetError(f"stack {stack} has no ApiKeysTableName output (deployed from an older template?)")


def api_key_ctx(args):
    """The service context for the ApiKeys table that ``args`` points at."""
    from domain.context import Ctx
    from domain.settings import Settings
    from infra.dynamo.store import dynamo_stores

    region = _region(args)
    table = args.table
    if args.stack:
        table = stack_table(args.stack, region)
    if not table and not args.dynamodb_endpoint:
        raise TargetError(
            "where are the keys? pass --stack NAME or --table NAME (AWS) or --dynamodb-endpoint URL "
            "(a local DynamoDB). A local `flowplane serve` checks one key: use `serve --api-key`."
        )
    settings = Settings(table_prefix="flowplane-local-", region=region, dynamodb_endpoint=args.dynamodb_endpoint)
    if table:
        settings = replace(settings, table_names={"ApiKeys": table})
    if args.dynamodb_endpoint and not args.table:
        import boto3

        from infra.local.store import ensure_fake_credentials
        from infra.template import create_tables

        ensure_fake_credentials()
        create_tables(boto3.client("dynamodb", endpoint_url=args.dynamodb_endpoint, region_name=region), settings)
    return Ctx(stores=dynamo_stores(settings), settings=settings)


def _run(fn) -> int:
    try:
        return fn()
    except TargetError as exc:
        print(f"flowplane api-key: {exc}", file=sys.stderr)
        return 2


def _api_key_create(args) -> int:
    from domain.services import api_keys

    def go() -> int:
        key, record = api_keys.create(api_key_ctx(args), args.name)
        print(f"created API key {record['id']} ({record['name']}); it is shown once — store it now:",
              file=sys.stderr)
        print(key)
        return 0

    return _run(go)


def _api_key_revoke(args) -> int:
    from domain.errors import NotFound
    from domain.services import api_keys

    def go() -> int:
        try:
            record = api_keys.revoke(api_key_ctx(args), args.key_id)
        except NotFound as exc:
            print(f"flowplane api-key: {exc.detail}", file=sys.stderr)
            return 1
        print(f"revoked {record['id']} ({record['name']}) at {record['revoked']}")
        return 0

    return _run(go)


def _api_key_list(args) -> int:
    from domain.services import api_keys

    def go() -> int:
        keys = api_keys.list_keys(api_key_ctx(args))
        if args.json:
            print(json.dumps(keys, indent=2))
            return 0
        print(f"{'ID':<14}{'NAME':<24}{'CREATED':<34}REVOKED")
        for k in keys:
            print(f"{k['id']:<14}{(k['name'] or '')[:22]:<24}{k['created']:<34}{k['revoked'] or '-'}")
        return 0

    return _run(go)
