"""``flowplane ui publish --stack NAME``: put the Prefect 2.20 UI into a deployed stack's UI bucket.

The stack must have been deployed with ``UiEnabled=true`` (``infra/sam_ui.py``). The files are the
same ones ``flowplane serve`` uses (``infra.local.ui.ensure_ui``: the prefect wheel, fetched once,
placeholder base replaced); ``ui-settings`` is written as a JSON object — the UI reads it before
anything else, with ``api_url`` ``/api`` (same origin through CloudFront). ``index.html`` and
``ui-settings`` are sent with ``no-cache`` (hashed assets are immutable), then the distribution is
invalidated so viewers get the new files at once.
"""

from __future__ import annotations

import json
import mimetypes
import time
from pathlib import Path
from typing import Any

from infra.local.ui import MARKER, ensure_ui, ui_settings

NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
_TYPES = {".js": "application/javascript", ".mjs": "application/javascript", ".css": "text/css",
          ".html": "text/html; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml",
          ".map": "application/json", ".txt": "text/plain; charset=utf-8", ".woff2": "font/woff2"}


class PublishError(RuntimeError):
    pass


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    found = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs") or []}


def content_type(path: Path) -> str:
    return _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _cache_control(key: str) -> str:
    return NO_CACHE if key in ("index.html", "ui-settings") or not key.startswith("assets/") else IMMUTABLE


def publish(stack: str, *, cloudformation: Any, s3: Any, cloudfront: Any, build: Path | None = None,
            api_url: str = "/api") -> dict[str, Any]:
    outputs = stack_outputs(cloudformation, stack)
    missing = [k for k in ("UiBucketName", "UiDistributionId", "UiUrl") if k not in outputs]
    if missing:
        raise PublishError(f"stack {stack} has no {', '.join(missing)} output: deploy it with UiEnabled=true")
    bucket, distribution = outputs["UiBucketName"], outputs["UiDistributionId"]
    build = build or ensure_ui()
    count = 0
    for path in sorted(p for p in build.rglob("*") if p.is_file() and p.name != MARKER):
        key = path.relative_to(build).as_posix()
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type(path),
                      CacheControl=_cache_control(key))
        count += 1
    s3.put_object(Bucket=bucket, Key="ui-settings", Body=json.dumps(ui_settings(api_url)).encode(),
                  ContentType="application/json", CacheControl=NO_CACHE)
    invalidation = cloudfront.create_invalidation(DistributionId=distribution, InvalidationBatch={
        "Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"flowplane-ui-{time.time_ns()}"})
    return {"url": outputs["UiUrl"], "bucket": bucket, "files": count + 1,
            "invalidation": invalidation["Invalidation"]["Id"]}


# ------------------------------------------------------------------------------------------- CLI


def register(sub) -> None:
    ui = sub.add_parser("ui", help="the Prefect UI on AWS")
    ui_sub = ui.add_subparsers(dest="ui_command", required=True)
    p = ui_sub.add_parser("publish", help="upload the Prefect 2.20 UI to a stack deployed with UiEnabled=true")
    p.add_argument("--stack", required=True, help="the CloudFormation stack name")
    p.add_argument("--region", default=None, help="default: AWS_REGION / AWS_DEFAULT_REGION / us-east-1")
    p.set_defaults(func=_publish)


def _publish(args) -> int:
    import os
    import sys

    import boto3

    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    try:
        result = publish(args.stack, cloudformation=boto3.client("cloudformation", region_name=region),
                         s3=boto3.client("s3", region_name=region), cloudfront=boto3.client("cloudfront"))
    except PublishError as exc:
        print(f"flowplane ui publish: {exc}", file=sys.stderr)
        return 1
    print(f"published {result['files']} files to s3://{result['bucket']} (invalidation {result['invalidation']})")
    print(f"UI: {result['url']}")
    return 0
