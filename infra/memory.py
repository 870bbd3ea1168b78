"""An in-memory ``Store`` with DynamoDB's semantics for keys, GSIs, conditions and item size.

Used by unit tests (no moto, no network) and as a reference for the DynamoDB adapter's behaviour.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence

from domain.errors import ConditionFailed, TooLarge
from domain.ports import Cond, Doc, TableSpec, TxAdd, TxDelete, TxOp, tx_key

MAX_ITEM_BYTES = 400 * 1024


def _dumps(doc: Doc) -> str:
    """The stored body, compact as the DynamoDB adapter writes it: sizes are checked on this text."""
    return json.dumps(doc, separators=(",", ":"))


def check_size(table: str, body: str) -> None:
    if len(body.encode()) > MAX_ITEM_BYTES - 8 * 1024:  # leave room for the projected attributes
        raise TooLarge(f"The {table[:-1] if table.endswith('s') else table} is too large to store "
                       f"(DynamoDB items are limited to 400 KB).")


def project(spec: TableSpec, doc: Doc) -> dict:
    """``spec.project(doc)``, refusing what DynamoDB refuses: an empty string as an index key."""
    attrs = spec.project(doc)
    keys = spec.attribute_names()
    for name, value in attrs.items():
        if value == "" and name in keys:
            raise ValueError(f"DynamoDB refuses an empty string as a secondary index key ({spec.name}.{name})")
    return attrs


def check_key_condition(sk_lte, sk_gte, sk_begins) -> None:
    """A DynamoDB Query has one sort-key condition: a range (``sk_gte``/``sk_lte``) or ``begins_with``."""
    if sk_begins is not None and (sk_lte is not None or sk_gte is not None):
        raise ValueError("a query takes sk_begins or a range (sk_gte/sk_lte), not both")
    if "" in (sk_lte, sk_gte, sk_begins):
        raise ValueError("DynamoDB refuses an empty string as a key condition's operand")


def check_distinct_items(ops: Sequence[TxOp]) -> None:
    """DynamoDB refuses a transaction with two operations on one item (ValidationException)."""
    seen = set()
    for op in ops:
        key = (op.store.spec.name, tx_key(op))
        if key in seen:
            raise ValueError(f"a transaction cannot include two operations on one item ({key[0]} {key[1]})")
        seen.add(key)


def check_deltas(deltas: Mapping[str, int]) -> dict[str, int]:
    """``deltas`` as a plain dict, refusing what an atomic add cannot take."""
    out = dict(deltas)
    for name, n in out.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"a counter name is a non-empty string, not {name!r}")
        if not isinstance(n, int) or isinstance(n, bool):
            raise ValueError(f"a counter delta is an int, not {n!r}")
    return out


def added(current: Mapping[str, int] | None, deltas: Mapping[str, int]) -> dict[str, int]:
    """``current`` counters plus ``deltas`` (a counter that was absent starts at 0; zeros are kept,
    as DynamoDB's ADD keeps them)."""
    out = dict(current or {})
    for name, n in deltas.items():
        out[name] = out.get(name, 0) + n
    return out


class MemoryStore:
    def __init__(self, spec: TableSpec):
        self.spec = spec
        self._items: dict[str, tuple[dict, str]] = {}
        self._lock = threading.RLock()
        self.calls: list[str] = []

    # -- helpers -------------------------------------------------------------------------------
    def _check(self, id: str, cond: Cond | None) -> None:
        if cond is None:
            return
        cur = self._items.get(id)
        if cond.kind == "absent" and cur is not None:
            raise ConditionFailed(id)
        if cond.kind == "exists" and cur is None:
            raise ConditionFailed(id)
        if cond.kind == "eq" and (cur is None or cur[0].get(cond.attr) != cond.value):
            raise ConditionFailed(id)

    # -- Store ---------------------------------------------------------------------------------
    def get(self, id: str) -> Doc | None:
        self.calls.append("GetItem")
        with self._lock:
            cur = self._items.get(id)
            return json.loads(cur[1]) if cur else None

    def get_many(self, ids: Iterable[str]) -> list[Doc]:
        self.calls.append("BatchGetItem")
        with self._lock:
            return [json.loads(self._items[i][1]) for i in dict.fromkeys(ids) if i in self._items]

    def put(self, doc: Doc, *, cond: Cond | None = None) -> None:
        self.calls.append("PutItem")
        body = _dumps(doc)
        check_size(self.spec.name, body)
        with self._lock:
            self._check(doc["id"], cond)
            self._items[doc["id"]] = (project(self.spec, doc), body)

    def put_many(self, docs: Iterable[Doc]) -> None:
        self.calls.append("BatchWriteItem")
        for d in docs:
            body = _dumps(d)
            check_size(self.spec.name, body)
            with self._lock:
                self._items[d["id"]] = (project(self.spec, d), body)

    def delete(self, id: str, *, cond: Cond | None = None) -> bool:
        self.calls.append("DeleteItem")
        with self._lock:
            self._check(id, cond)
            return self._items.pop(id, None) is not None

    def delete_many(self, ids: Iterable[str]) -> None:
        self.calls.append("BatchWriteItem")
        with self._lock:
            for i in ids:
                self._items.pop(i, None)

    def add(self, id: str, deltas: Mapping[str, int]) -> None:
        self.calls.append("UpdateItem")
        deltas = check_deltas(deltas)
        if not deltas:
            return
        with self._lock:
            self._add(id, deltas)

    def counts(self, ids: Iterable[str]) -> dict[str, dict[str, int]]:
        self.calls.append("BatchGetItem")
        with self._lock:
            return {i: json.loads(self._items[i][1]) for i in dict.fromkeys(ids) if i in self._items}

    def _add(self, id: str, deltas: Mapping[str, int]) -> None:
        """A counter item is stored as its counters' JSON (no projected attributes), so it is
        billed and copied like any other item."""
        cur = self._items.get(id)
        self._items[id] = ({}, _dumps(added(json.loads(cur[1]) if cur else None, deltas)))

    @staticmethod
    def transact(ops: Sequence[TxOp]) -> None:
        if len(ops) > 100:
            raise ValueError("a transaction holds at most 100 items")
        check_distinct_items(ops)
        stores = {id(op.store): op.store for op in ops}
        locks = [stores[k]._lock for k in sorted(stores)]
        for lock in locks:
            lock.acquire()
        try:
            writes = []
            for op in ops:
                op.store.calls.append("TransactWriteItems")
                key = tx_key(op)
                if isinstance(op, TxAdd):
                    if deltas := check_deltas(op.deltas):
                        writes.append((op.store, key, deltas))
                    continue
                op.store._check(key, op.cond)
                if isinstance(op, TxDelete):
                    writes.append((op.store, key, None))
                else:
                    body = _dumps(op.doc)
                    check_size(op.store.spec.name, body)
                    writes.append((op.store, key, (project(op.store.spec, op.doc), body)))
            for store, key, item in writes:
                if isinstance(item, dict):
                    store._add(key, item)
                elif item is None:
                    store._items.pop(key, None)
                else:
                    store._items[key] = item
        finally:
            for lock in reversed(locks):
                lock.release()

    def query(self, index, pk, *, sk_lte=None, sk_gte=None, sk_begins=None, descending=False, limit=None) -> Iterator[Doc]:
        self.calls.append("Query")
        check_key_condition(sk_lte, sk_gte, sk_begins)
        if pk == "":
            raise ValueError(f"DynamoDB refuses an empty string as a partition key ({self.spec.name}.{index})")
        ix = self.spec.index(index)
        with self._lock:
            rows = []
            for attrs, body in self._items.values():
                if attrs.get(ix.pk_attr) != pk:
                    continue
                sk = attrs.get(ix.sk_attr) if ix.sk_attr else None
                if ix.sk_attr and sk is None:
                    continue
                if sk_lte is not None and not sk <= sk_lte:
                    continue
                if sk_gte is not None and not sk >= sk_gte:
                    continue
                if sk_begins is not None and not str(sk).startswith(sk_begins):
                    continue
                rows.append((sk or "", body))
        rows.sort(key=lambda r: r[0], reverse=descending)
        if limit is not None:
            rows = rows[:limit]
        for _, body in rows:
            yield json.loads(body)

    def scan(self) -> Iterator[Doc]:
        with self._lock:
            bodies = [b for _, b in self._items.values()]
        for body in bodies:
            yield json.loads(body)

    def dump(self) -> list[Doc]:
        """Test helper (not a port method): every document."""
        with self._lock:
            return [copy.deepcopy(json.loads(b)) for _, b in self._items.values()]
