"""Start (or connect to) a DynamoDB-compatible endpoint and create the template's tables."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, replace

from domain.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_fake_credentials() -> None:
    """Local endpoints need *some* credentials; never overrides real ones."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "flowplane-local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "flowplane-local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@dataclass
class LocalStore:
    endpoint: str
    settings: Settings
    _server: object | None = None

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()  # type: ignore[attr-defined]
            self._server = None


def start(settings: Settings, endpoint: str | None = None) -> LocalStore:
    """An embedded moto server on a free loopback port unless ``endpoint`` is given; tables created."""
    import boto3

    ensure_fake_credentials()
    server = None
    if not endpoint:
        import logging

        from moto.server import ThreadedMotoServer

        # the embedded store's per-request access log is noise for people running `make serve`
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

        port = _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        endpoint = f"http://127.0.0.1:{port}"
    settings = replace(settings, dynamodb_endpoint=endpoint)
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=settings.region)
    from infra.template import create_tables

    create_tables(client, settings)
    return LocalStore(endpoint=endpoint, settings=settings, _server=server)
