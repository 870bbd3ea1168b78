"""``Store`` on DynamoDB through PynamoDB.

Each table's PynamoDB model is built from its ``TableSpec`` (domain/ports.py) so the projected
attributes and GSIs cannot drift from what services plan on; ``tests`` check both against
``template.yaml``, which is what creates the tables (on AWS and locally).

An item: ``id`` (hash key), ``doc`` (the entity as JSON text), ``rev`` (optimistic-lock
revision where the entity has one) and the string attributes projected for the GSIs and for
conditions (``TableSpec.text_attrs``, e.g. FlowRuns' ``state_type``).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from domain.errors import ConditionFailed, ServiceUnavailable
from domain.ports import Cond, Doc, Stores, TableSpec, TxAdd, TxDelete, TxOp
from domain.settings import Settings
from infra.memory import check_deltas, check_distinct_items, check_size

_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}


def _model_for(spec: TableSpec, settings: Settings) -> type[Model]:
    meta = type("Meta", (), {
        "table_name": settings.table(spec.name),
        "region": settings.region,
        "host": settings.dynamodb_endpoint,
        "billing_mode": "PAY_PER_REQUEST",
        "max_retry_attempts": 3,
    })
    ns: dict = {"Meta": meta, "id": UnicodeAttribute(hash_key=True), "doc": UnicodeAttribute()}
    for name, _ in spec.attrs:
        ns[name] = NumberAttribute(null=True)
    for name, _ in spec.text_attrs:
        ns[name] = UnicodeAttribute(null=True)
    for name in spec.attribute_names() - {"id"}:
        ns[name] = UnicodeAttribute(null=True)
    for ix in spec.indexes:
        ins: dict = {
            "Meta": type("Meta", (), {"index_name": ix.name, "projection": AllProjection()}),
            ix.pk_attr: UnicodeAttribute(hash_key=True),
        }
        if ix.sk_attr:
            ins[ix.sk_attr] = UnicodeAttribute(range_key=True)
        ns[f"ix_{ix.name}"] = type(f"{spec.name}_{ix.name}", (GlobalSecondaryIndex,), ins)()
    return type(f"{spec.name}Item", (Model,), ns)


# A counter is a top-level Number attribute named COUNTER_PREFIX + its name (so no counter name can
# be ``id``), added to with ``ADD`` and read with BatchGetItem.
COUNTER_PREFIX = "c:"


def _client_code(exc: Exception) -> str | None:
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")


# A transaction cancelled only because another transaction was writing one of its items (e.g. two
# runs' state changes adding to one counter shard at once) wrote nothing and is retried, so a
# caller's conditional create is not mistaken for "already exists"; a failed condition never is.
CONFLICT_ATTEMPTS = 5
CONFLICT_BACKOFF_S = 0.01


def _only_conflicts(exc: PynamoDBException) -> bool:
    codes = {r.code for r in (getattr(exc, "cancellation_reasons", None) or []) if r is not None}
    return "TransactionConflict" in codes and codes <= {"TransactionConflict", "None"}


def _code(exc: PynamoDBException) -> str | None:
    return getattr(exc, "cause_response_code", None)


def _raise(exc: PynamoDBException, key: str):
    code = _code(exc)
    if code == "ConditionalCheckFailedException":
        raise ConditionFailed(key) from exc
    if code in _THROTTLED or (code is None and "max_retry_attempts exceeded" in str(exc)):
        # (a batch write whose unprocessed items outlived PynamoDB's retries carries no code)
        raise ServiceUnavailable("Service Unavailable") from exc
    raise exc


class DynamoStore:
    def __init__(self, spec: TableSpec, settings: Settings):
        self.spec = spec
        self.model = _model_for(spec, settings)
        self._attr_names = ([a for a in spec.attribute_names() if a != "id"]
                            + [a for a, _ in spec.attrs + spec.text_attrs])

    def _item(self, doc: Doc) -> Model:
        body = json.dumps(doc, separators=(",", ":"))
        check_size(self.spec.name, body)
        return self.model(doc["id"], doc=body, **self.spec.project(doc))

    def _condition(self, cond: Cond | None):
        if cond is None:
            return None
        if cond.kind == "absent":
            return self.model.id.does_not_exist()
        if cond.kind == "exists":
            return self.model.id.exists()
        return getattr(self.model, cond.attr) == cond.value

    @property
    def _table(self) -> str:
        return self.model.Meta.table_name

    def _client(self):
        return self.model._get_connection().connection.client

    def _update_kwargs(self, id: str, deltas: dict[str, int]) -> dict:
        """An ``UpdateItem`` (or a transaction's ``Update``) adding ``deltas`` with ``ADD``."""
        names, values, parts = {}, {}, []
        for n, (name, delta) in enumerate(sorted(deltas.items())):
            names[f"#c{n}"] = COUNTER_PREFIX + name
            values[f":c{n}"] = {"N": str(delta)}
            parts.append(f"#c{n} :c{n}")
        return {"TableName": self._table, "Key": {"id": {"S": id}}, "UpdateExpression": "ADD " + ", ".join(parts),
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}

    def add(self, id: str, deltas: Mapping[str, int]) -> None:
        from botocore.exceptions import ClientError

        deltas = check_deltas(deltas)
        if not deltas:
            return
        try:
            self._client().update_item(**self._update_kwargs(id, deltas))
        except ClientError as exc:
            if _client_code(exc) in _THROTTLED:
                raise ServiceUnavailable("Service Unavailable") from exc
            raise

    def counts(self, ids: Iterable[str]) -> dict[str, dict[str, int]]:
        """BatchGetItem of the counter items (100 keys a request, unprocessed keys retried)."""
        from botocore.exceptions import ClientError

        keys = list(dict.fromkeys(ids))
        out: dict[str, dict[str, int]] = {}
        client = self._client()
        for start in range(0, len(keys), 100):
            request = {self._table: {"Keys": [{"id": {"S": k}} for k in keys[start:start + 100]],
                                     "ConsistentRead": True}}
            while request:
                try:
                    answer = client.batch_get_item(RequestItems=request)
                except ClientError as exc:
                    if _client_code(exc) in _THROTTLED:
                        raise ServiceUnavailable("Service Unavailable") from exc
                    raise
                for item in answer.get("Responses", {}).get(self._table, []):
                    out[item["id"]["S"]] = {name[len(COUNTER_PREFIX):]: int(v["N"]) for name, v in item.items()
                                            if name.startswith(COUNTER_PREFIX)}
                request = answer.get("UnprocessedKeys") or None
        return out

    def get(self, id: str) -> Doc | None:
        try:
            item = self.model.get(id, consistent_read=True)
        except self.model.DoesNotExist:
            return None
        except PynamoDBException as exc:
            _raise(exc, id)
        return json.loads(item.doc)

    def get_many(self, ids: Iterable[str]) -> list[Doc]:
        keys = list(dict.fromkeys(ids))
        if not keys:
            return []
        try:
            return [json.loads(i.doc) for i in self.model.batch_get(keys, consistent_read=True)]
        except PynamoDBException as exc:
            _raise(exc, ",".join(keys[:3]))

    def put(self, doc: Doc, *, cond: Cond | None = None) -> None:
        try:
            self._item(doc).save(condition=self._condition(cond))
        except PynamoDBException as exc:
            _raise(exc, doc["id"])

    def put_many(self, docs: Iterable[Doc]) -> None:
        try:
            with self.model.batch_write() as batch:
                for d in docs:
                    batch.save(self._item(d))
        except PynamoDBException as exc:
            _raise(exc, "batch")

    def delete(self, id: str, *, cond: Cond | None = None) -> bool:
        # ReturnValues=ALL_OLD tells us whether something was deleted, in the same request.
        try:
            out = self.model._get_connection().delete_item(
                id, condition=self._condition(cond), return_values="ALL_OLD")
        except PynamoDBException as exc:
            _raise(exc, id)
        return bool(out and out.get("Attributes"))

    def delete_many(self, ids: Iterable[str]) -> None:
        keys = list(dict.fromkeys(ids))
        if not keys:
            return
        try:
            with self.model.batch_write() as batch:
                for i in keys:
                    batch.delete(self.model(i))
        except PynamoDBException as exc:
            _raise(exc, "batch")

    @staticmethod
    def transact(ops: Sequence[TxOp]) -> None:
        """One TransactWriteItems request; a failed condition or a conflict is ``ConditionFailed``.
        Shapes DynamoDB refuses (over 100 items, two operations on one item) are a ``ValueError``
        before anything is sent, as the other adapters answer them."""
        from pynamodb.exceptions import TransactWriteError

        if len(ops) > 100:
            raise ValueError("a transaction holds at most 100 items")
        check_distinct_items(ops)
        conn = ops[0].store.model._get_connection().connection
        puts, deletes, updates = [], [], []
        for op in ops:
            store = op.store
            if isinstance(op, TxAdd):
                if deltas := check_deltas(op.deltas):
                    updates.append(store._update_kwargs(op.id, deltas))
            elif isinstance(op, TxDelete):
                deletes.append(store.model(op.id).get_delete_kwargs_from_instance(
                    condition=store._condition(op.cond)))
            else:
                puts.append(store._item(op.doc).get_save_kwargs_from_instance(condition=store._condition(op.cond)))
        if not (puts or deletes or updates):
            return
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                # pynamodb's TransactWrite builds the same Put/Delete requests; counter updates
                # (dynamic attribute names) are built here, so the request is assembled from both
                conn.transact_write_items(condition_check_items=[], delete_items=deletes, put_items=puts,
                                          update_items=updates)
                return
            except TransactWriteError as exc:
                code = _code(exc)
                if code != "TransactionCanceledException":
                    _raise(exc, "transaction")
                if _only_conflicts(exc) and attempt < CONFLICT_ATTEMPTS - 1:
                    time.sleep(random.uniform(0.5, 1.5) * CONFLICT_BACKOFF_S * 2 ** attempt)
                    continue
                raise ConditionFailed("transaction") from exc

    def scan(self) -> Iterator[Doc]:
        try:
            for item in self.model.scan(consistent_read=True):
                yield json.loads(item.doc)
        except PynamoDBException as exc:
            _raise(exc, f"scan:{self.spec.name}")

    def query(self, index, pk, *, sk_lte=None, sk_gte=None, sk_begins=None, descending=False, limit=None) -> Iterator[Doc]:
        ix = self.spec.index(index)
        gsi = getattr(self.model, f"ix_{index}")
        cond = None
        if ix.sk_attr:
            attr = getattr(self.model, ix.sk_attr)
            if sk_lte is not None and sk_gte is not None:
                cond = attr.between(sk_gte, sk_lte)
            elif sk_lte is not None:
                cond = attr <= sk_lte
            elif sk_gte is not None:
                cond = attr >= sk_gte
            elif sk_begins is not None:
                cond = attr.startswith(sk_begins)
        try:
            for item in gsi.query(pk, range_key_condition=cond, scan_index_forward=not descending, limit=limit):
                yield json.loads(item.doc)
        except PynamoDBException as exc:
            _raise(exc, f"{index}:{pk}")


def dynamo_stores(settings: Settings) -> Stores:
    stores = Stores.build(lambda spec: DynamoStore(spec, settings))
    _share_one_client(stores)
    return stores


def _share_one_client(stores: Stores) -> None:
    """Give every table's PynamoDB connection the same botocore client.

    PynamoDB creates a botocore session and client per model on first use, and each new session
    reloads the DynamoDB service model and endpoint rules from disk: ~60-100 ms of CPU per table a
    cold Lambda touches. The models share region, endpoint and client settings, so one client (made
    by PynamoDB itself, with its config) serves them all. PynamoDB still replaces a client whose
    credentials are missing, per connection, as before.
    """
    connections = [getattr(stores, name).model._get_connection().connection for name in vars(stores)]
    client = connections[0].client
    for conn in connections[1:]:
        conn._client = client
