"""``Store`` on one SQLite file: the local server's durable store (stdlib ``sqlite3`` only).

Layout, derived from the ``TableSpec``s when the database is opened (never a hand-written list):

* per table ``"<Table>"(id TEXT PRIMARY KEY, doc TEXT NOT NULL, <projected attributes>)`` — ``doc`` is
  the entity as compact JSON (the DynamoDB adapter's ``doc`` attribute), the other columns are what
  ``spec.project(doc)`` returns: GSI keys as TEXT (BINARY collation: UTF-8 byte order, which is
  DynamoDB's order for string keys) and the condition attributes (``rev``, ``expires_at``,
  ``TableSpec.text_attrs`` such as FlowRuns' ``state_type``) untyped.
* per GSI a partial index ``ix_<Table>_<index>`` on ``(pk_attr, sk_attr, id)``
  ``WHERE pk_attr IS NOT NULL AND sk_attr IS NOT NULL``: an item without the projected keys is not in
  the index (sparse, like the GSI), and a query is a range scan of that index, read page by page.
* ``_flowplane_schema(tbl, signature)``: the index and attribute layout each table was last
  projected with. When a spec gains a GSI or attribute, the next open adds the columns and indexes
  and re-projects every row from ``doc`` (``spec.project``), so other tables' and indexes' changes
  need no migration script. Indexes that left the spec are dropped.

Durability: WAL with ``synchronous=NORMAL`` — what ``prefect server start`` configures for its own
SQLite database. A commit is written to the WAL file before the call returns, so an acknowledged
write survives the server being killed (``kill -9``, Ctrl-C, a crash); only an OS crash or power
loss can lose the last commits (the file is never corrupted). ``synchronous=FULL`` would add an
fsync to every commit, a cost a local development server does not need; pass it to ``SqliteDb``
when it does.

Refused as DynamoDB refuses them (so local code cannot come to rely on them): items over the
400 KB budget (``TooLarge``, a 422), an empty string as an index key, and transactions with more
than 100 operations or two operations on one item (``ValueError``).

Concurrency: one connection per thread (uvicorn runs sync routes in a thread pool, the scheduler
loop is another thread). Readers never block (WAL). Each write — a conditional put, a batch, a
transaction — is one ``BEGIN IMMEDIATE`` transaction under a process-wide lock: the condition is
checked and the write made while holding SQLite's write lock, so two writers can never both pass a
condition, in this process or another (``busy_timeout`` covers the cross-process wait; a wait that
runs out is ``ServiceUnavailable``, as a DynamoDB throttle is).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from domain.errors import ConditionFailed, ServiceUnavailable
from domain.ports import ALL_TABLES, Cond, Doc, Index, Stores, TableSpec, TxAdd, TxDelete, TxOp, shard_of
from infra.memory import added, check_deltas, check_distinct_items, check_key_condition, check_size, project

BUSY_TIMEOUT_MS = 10_000
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit, kept so local code cannot rely on more
_FIRST_PAGE = 64  # rows read by a query's first page; later pages read _PAGE (a caller may stop early)
_PAGE = 512
_MAX_VARS = 500  # ids per ``IN (...)`` of get_many / delete_many
_RESERVED = {"id", "doc"}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _dumps(doc: Doc) -> str:
    return json.dumps(doc, separators=(",", ":"))


def _successor(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix`` (code point order),
    or None when there is none: ``begins_with`` becomes the index range ``[prefix, successor)``."""
    p = prefix.rstrip("\U0010ffff")
    if not p:
        return None
    nxt = ord(p[-1]) + 1
    if 0xD800 <= nxt <= 0xDFFF:  # surrogates cannot be stored as UTF-8
        nxt = 0xE000
    return p[:-1] + chr(nxt)


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _fingerprint(functions: Iterable[Any]) -> str:
    """A digest of what the projection functions compute: their bytecode, constants and the names
    they use, the values they close over, and the module-level helpers they call (two levels deep).
    Stable across processes (no ids, no hash-seeded ordering); a Python upgrade may change it, which
    costs one re-projection."""
    h = hashlib.sha256()
    seen: set[int] = set()

    def code(c) -> Iterator[Any]:
        yield c.co_code
        yield c.co_names
        for const in c.co_consts:
            if hasattr(const, "co_code"):
                yield from code(const)
            else:
                yield const

    def names(c) -> Iterator[str]:
        yield from c.co_names
        for const in c.co_consts:
            if hasattr(const, "co_code"):
                yield from names(const)

    def feed(obj: Any, depth: int) -> None:
        if callable(obj) and hasattr(obj, "__code__"):
            if id(obj) in seen:
                h.update(b"<seen>")
                return
            seen.add(id(obj))
            for part in code(obj.__code__):
                feed(part, depth)
            for cell in obj.__closure__ or ():
                try:
                    feed(cell.cell_contents, depth + 1)
                except ValueError:  # an empty cell
                    h.update(b"<empty>")
            if depth < 2:
                for name in sorted(set(names(obj.__code__))):
                    helper = obj.__globals__.get(name)
                    if callable(helper) and hasattr(helper, "__code__"):
                        feed(helper, depth + 1)
            return
        if isinstance(obj, (frozenset, set)):
            h.update(repr(sorted(map(repr, obj))).encode())
        elif obj is None or isinstance(obj, (str, bytes, int, float, bool, tuple)):
            h.update(obj if isinstance(obj, bytes) else repr(obj).encode())
        else:
            h.update(type(obj).__qualname__.encode())

    for fn in functions:
        feed(fn, 0) if fn is not None else h.update(b"<none>")
    return h.hexdigest()[:16]


class _Layout:
    """The SQL shape of one table's spec: columns, indexes, and a signature to detect changes."""

    def __init__(self, spec: TableSpec):
        self.spec = spec
        self.table = _q(spec.name)
        key_cols: list[str] = []
        for ix in spec.indexes:
            for attr in (ix.pk_attr, ix.sk_attr):
                if attr and attr not in key_cols:
                    key_cols.append(attr)
        self.key_cols = key_cols
        self.value_cols = [a for a, _ in spec.attrs + spec.text_attrs if a not in key_cols]
        self.columns = key_cols + self.value_cols
        clash = _RESERVED & set(self.columns)
        if clash:
            raise ValueError(f"{spec.name}: projected attribute names {sorted(clash)} are reserved")
        self.ttl_col = spec.ttl_attr if spec.ttl_attr in self.columns else None
        self.signature = json.dumps({
            # a sharded index names its shard count (and the hash, in "code"): changing either
            # moves items between partitions, so the next open re-projects them (``all`` -> ``all#k``)
            "indexes": [[ix.name, ix.pk_attr, ix.sk_attr] + ([ix.shards] if ix.shards != 1 else [])
                        for ix in spec.indexes],
            "attrs": [a for a, _ in spec.attrs + spec.text_attrs],
            # a projection that changes behind the same names (e.g. a sharded partition key) re-projects too
            "code": _fingerprint([f for ix in spec.indexes for f in (ix.pk, ix.sk)]
                                 + [f for _, f in spec.attrs + spec.text_attrs]
                                 + ([shard_of] if any(ix.shards != 1 for ix in spec.indexes) else [])),
        })
        cols = ", ".join(_q(c) for c in self.columns)
        marks = ", ".join("?" for _ in self.columns)
        self.upsert_sql = (f"INSERT OR REPLACE INTO {self.table} (id, doc{', ' + cols if cols else ''}) "
                           f"VALUES (?, ?{', ' + marks if marks else ''})")
        self.reproject_sql = (f"UPDATE {self.table} SET {', '.join(f'{_q(c)} = ?' for c in self.columns)} "
                              f"WHERE id = ?") if self.columns else None

    def index_name(self, ix: Index) -> str:
        return f"ix_{self.spec.name}_{ix.name}"

    def index_sql(self, ix: Index) -> str:
        keys = [ix.pk_attr] + ([ix.sk_attr] if ix.sk_attr else [])
        where = " AND ".join(f"{_q(k)} IS NOT NULL" for k in keys)
        cols = ", ".join(_q(k) for k in keys)
        return (f"CREATE INDEX IF NOT EXISTS {_q(self.index_name(ix))} ON {self.table} ({cols}, id) "
                f"WHERE {where}")

    def row(self, doc: Doc) -> tuple[Any, ...]:
        """``(id, doc, *columns)`` for ``doc``; refuses items past DynamoDB's size limit."""
        body = _dumps(doc)
        check_size(self.spec.name, body)
        proj = project(self.spec, doc)
        return (doc["id"], body, *(proj.get(c) for c in self.columns))


class SqliteDb:
    """One database file, its per-thread connections, and the schema of every table spec."""

    def __init__(self, path: str | Path, specs: Iterable[TableSpec] = ALL_TABLES, *,
                 synchronous: str = "NORMAL"):
        if str(path) == ":memory:" or str(path).startswith("file:"):
            raise ValueError("SqliteDb needs a file path (each thread opens its own connection)")
        if synchronous.upper() not in {"NORMAL", "FULL", "EXTRA"}:
            raise ValueError("synchronous must be NORMAL, FULL or EXTRA (OFF could lose acknowledged writes)")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.synchronous = synchronous.upper()
        self.write_lock = threading.Lock()
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._layouts: dict[str, _Layout] = {}
        self._closed = False
        conn = self.conn()
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise RuntimeError(f"{self.path}: SQLite refused WAL mode (got {mode!r})")
        with self.write() as c:
            c.execute("CREATE TABLE IF NOT EXISTS _flowplane_schema (tbl TEXT PRIMARY KEY, signature TEXT NOT NULL)")
        for spec in specs:
            self.ensure(spec)

    # -- connections and write transactions -----------------------------------------------------
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise RuntimeError(f"{self.path} is closed")
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    def write(self) -> _WriteTx:
        """``with db.write() as conn:`` — one BEGIN IMMEDIATE transaction, committed on success."""
        return _WriteTx(self)

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        try:
            return self.conn().execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise ServiceUnavailable("Service Unavailable") from exc
            raise

    def close(self) -> None:
        self._closed = True
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    # -- schema -------------------------------------------------------------------------------
    def layout(self, spec: TableSpec) -> _Layout:
        layout = self._layouts.get(spec.name)
        if layout is None or layout.spec is not spec:
            layout = self.ensure(spec)
        return layout

    def ensure(self, spec: TableSpec) -> _Layout:
        """Create or bring up to date ``spec``'s table, columns and indexes (idempotent)."""
        layout = _Layout(spec)
        with self.write() as conn:
            col_defs = "".join(f", {_q(c)} TEXT" for c in layout.key_cols)
            col_defs += "".join(f", {_q(c)}" for c in layout.value_cols)
            conn.execute(f"CREATE TABLE IF NOT EXISTS {layout.table} (id TEXT PRIMARY KEY, doc TEXT NOT NULL{col_defs})")
            existing = {row[1] for row in conn.execute(f"PRAGMA table_info({layout.table})")}
            for col in layout.columns:
                if col not in existing:
                    kind = " TEXT" if col in layout.key_cols else ""
                    conn.execute(f"ALTER TABLE {layout.table} ADD COLUMN {_q(col)}{kind}")
            wanted = {layout.index_name(ix) for ix in spec.indexes}
            if layout.ttl_col:
                ttl_ix = f"ix_{spec.name}__ttl"
                wanted.add(ttl_ix)
                conn.execute(f"CREATE INDEX IF NOT EXISTS {_q(ttl_ix)} ON {layout.table} ({_q(layout.ttl_col)}) "
                             f"WHERE {_q(layout.ttl_col)} IS NOT NULL")
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                        "AND name LIKE 'ix\\_%' ESCAPE '\\'", (spec.name,)).fetchall():
                if name not in wanted:
                    conn.execute(f"DROP INDEX {_q(name)}")
            for ix in spec.indexes:
                conn.execute(layout.index_sql(ix))
            old = conn.execute("SELECT signature FROM _flowplane_schema WHERE tbl = ?", (spec.name,)).fetchone()
            if old is not None and old[0] != layout.signature:
                self._reproject(conn, layout)
            conn.execute("INSERT OR REPLACE INTO _flowplane_schema (tbl, signature) VALUES (?, ?)",
                         (spec.name, layout.signature))
            if layout.ttl_col:  # DynamoDB TTL's job, done when the server starts
                conn.execute(f"DELETE FROM {layout.table} WHERE {_q(layout.ttl_col)} IS NOT NULL "
                             f"AND {_q(layout.ttl_col)} < ?", (time.time(),))
        self._layouts[spec.name] = layout
        return layout

    @staticmethod
    def _reproject(conn: sqlite3.Connection, layout: _Layout) -> None:
        """Recompute every row's projected columns from its ``doc`` (a GSI or attribute was added)."""
        if layout.reproject_sql is None:
            return
        last = -1
        while True:
            rows = conn.execute(f"SELECT rowid, id, doc FROM {layout.table} WHERE rowid > ? ORDER BY rowid LIMIT 1000",
                                (last,)).fetchall()
            if not rows:
                return
            updates = []
            for rowid, id_, body in rows:
                proj = layout.spec.project(json.loads(body))
                updates.append((*(proj.get(c) for c in layout.columns), id_))
                last = rowid
            conn.executemany(layout.reproject_sql, updates)


class _WriteTx:
    def __init__(self, db: SqliteDb):
        self.db = db
        self.conn: sqlite3.Connection | None = None

    def __enter__(self) -> sqlite3.Connection:
        self.db.write_lock.acquire()
        try:
            conn = self.db.conn()
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            self.db.write_lock.release()
            if _busy(exc):
                raise ServiceUnavailable("Service Unavailable") from exc
            raise
        except BaseException:
            self.db.write_lock.release()
            raise
        self.conn = conn
        return conn

    def __exit__(self, exc_type, exc, tb) -> None:
        conn = self.conn
        try:
            if exc_type is None:
                conn.execute("COMMIT")
            elif conn.in_transaction:
                conn.execute("ROLLBACK")
        finally:
            self.db.write_lock.release()


def _check(conn: sqlite3.Connection, layout: _Layout, id: str, cond: Cond | None) -> None:
    """Raise ``ConditionFailed`` unless ``cond`` holds for item ``id`` (inside a write transaction)."""
    if cond is None:
        return
    if cond.kind in ("absent", "exists"):
        found = conn.execute(f"SELECT 1 FROM {layout.table} WHERE id = ?", (id,)).fetchone() is not None
        if found != (cond.kind == "exists"):
            raise ConditionFailed(id)
        return
    if cond.kind != "eq":
        raise ValueError(f"unknown condition {cond.kind!r}")
    if cond.attr == "id":
        ok = cond.value == id and conn.execute(f"SELECT 1 FROM {layout.table} WHERE id = ?", (id,)).fetchone()
    elif cond.attr in layout.columns:
        row = conn.execute(f"SELECT {_q(cond.attr)} FROM {layout.table} WHERE id = ?", (id,)).fetchone()
        # compared in Python (values keep their type: condition columns have no affinity); a missing
        # attribute equals only None, as in the memory fake and moto
        ok = row is not None and row[0] == cond.value
    else:  # not a projected attribute: missing on every item
        ok = cond.value is None and conn.execute(
            f"SELECT 1 FROM {layout.table} WHERE id = ?", (id,)).fetchone() is not None
    if not ok:
        raise ConditionFailed(id)


def _add(conn: sqlite3.Connection, layout: _Layout, id: str, deltas: dict[str, int]) -> None:
    """Add ``deltas`` to item ``id``'s counters (inside a write transaction): a counter item's ``doc``
    is its counters as a JSON object."""
    row = conn.execute(f"SELECT doc FROM {layout.table} WHERE id = ?", (id,)).fetchone()
    body = _dumps(added(json.loads(row[0]) if row else None, deltas))
    conn.execute(f"INSERT OR REPLACE INTO {layout.table} (id, doc) VALUES (?, ?)", (id, body))


class SqliteStore:
    """One table of a ``SqliteDb``."""

    def __init__(self, spec: TableSpec, db: SqliteDb):
        self.spec = spec
        self.db = db
        self._layout = db.layout(spec)

    # -- reads --------------------------------------------------------------------------------
    def get(self, id: str) -> Doc | None:
        rows = self.db.read(f"SELECT doc FROM {self._layout.table} WHERE id = ?", (id,))
        return json.loads(rows[0][0]) if rows else None

    def get_many(self, ids: Iterable[str]) -> list[Doc]:
        keys = list(dict.fromkeys(ids))
        found: dict[str, str] = {}
        for start in range(0, len(keys), _MAX_VARS):
            chunk = keys[start:start + _MAX_VARS]
            marks = ", ".join("?" for _ in chunk)
            found.update(self.db.read(f"SELECT id, doc FROM {self._layout.table} WHERE id IN ({marks})", chunk))
        return [json.loads(found[k]) for k in keys if k in found]

    def counts(self, ids: Iterable[str]) -> dict[str, dict[str, int]]:
        return {id_: {n: int(v) for n, v in doc.items()} for id_, doc in self._rows(ids)}

    def _rows(self, ids: Iterable[str]) -> Iterator[tuple[str, Doc]]:
        keys = list(dict.fromkeys(ids))
        for start in range(0, len(keys), _MAX_VARS):
            chunk = keys[start:start + _MAX_VARS]
            marks = ", ".join("?" for _ in chunk)
            for id_, body in self.db.read(f"SELECT id, doc FROM {self._layout.table} WHERE id IN ({marks})", chunk):
                yield id_, json.loads(body)

    def scan(self) -> Iterator[Doc]:
        """In id order, a page at a time (each page one read, so a long export holds no lock)."""
        last = None
        while True:
            rows = self.db.read(f"SELECT id, doc FROM {self._layout.table}"
                                + (" WHERE id > ?" if last is not None else "")
                                + f" ORDER BY id LIMIT {_PAGE}", () if last is None else (last,))
            for _, body in rows:
                yield json.loads(body)
            if len(rows) < _PAGE:
                return
            last = rows[-1][0]

    def query(self, index, pk, *, sk_lte=None, sk_gte=None, sk_begins=None, descending=False,
              limit=None) -> Iterator[Doc]:
        ix = self.spec.index(index)
        check_key_condition(sk_lte, sk_gte, sk_begins)
        pkc = _q(ix.pk_attr)
        skc = _q(ix.sk_attr) if ix.sk_attr else None
        where = [f"{pkc} = ?"]
        args: list[Any] = [pk]
        if skc:
            where.append(f"{skc} IS NOT NULL")
            if sk_gte is not None:
                where.append(f"{skc} >= ?")
                args.append(sk_gte)
            if sk_lte is not None:
                where.append(f"{skc} <= ?")
                args.append(sk_lte)
            if sk_begins is not None:
                where.append(f"{skc} >= ?")
                args.append(sk_begins)
                upper = _successor(sk_begins)
                if upper is not None:
                    where.append(f"{skc} < ?")
                    args.append(upper)
        direction = "DESC" if descending else "ASC"
        order_cols = f"{skc}, id" if skc else "id"
        order = f"{skc} {direction}, id {direction}" if skc else f"id {direction}"
        base = f"SELECT {order_cols + ', ' if skc else 'id, '}doc FROM {self._layout.table} WHERE " + " AND ".join(where)
        after = (f" AND ({order_cols}) {'<' if descending else '>'} ({'?, ?' if skc else '?'})")
        remaining = limit
        page = _FIRST_PAGE
        last: tuple | None = None
        while remaining is None or remaining > 0:
            size = page if remaining is None else min(page, remaining)
            sql = base + (after if last is not None else "") + f" ORDER BY {order} LIMIT {int(size)}"
            rows = self.db.read(sql, [*args, *(last or ())])
            for row in rows:
                yield json.loads(row[-1])
            if len(rows) < size:
                return
            if remaining is not None:
                remaining -= len(rows)
            last = tuple(rows[-1][:-1])
            page = _PAGE

    # -- writes -------------------------------------------------------------------------------
    def put(self, doc: Doc, *, cond: Cond | None = None) -> None:
        row = self._layout.row(doc)
        with self.db.write() as conn:
            _check(conn, self._layout, doc["id"], cond)
            conn.execute(self._layout.upsert_sql, row)

    def put_many(self, docs: Iterable[Doc]) -> None:
        rows = [self._layout.row(d) for d in docs]
        if not rows:
            return
        with self.db.write() as conn:
            conn.executemany(self._layout.upsert_sql, rows)

    def add(self, id: str, deltas: Mapping[str, int]) -> None:
        deltas = check_deltas(deltas)
        if not deltas:
            return
        with self.db.write() as conn:
            _add(conn, self._layout, id, deltas)

    def delete(self, id: str, *, cond: Cond | None = None) -> bool:
        with self.db.write() as conn:
            _check(conn, self._layout, id, cond)
            return conn.execute(f"DELETE FROM {self._layout.table} WHERE id = ?", (id,)).rowcount > 0

    def delete_many(self, ids: Iterable[str]) -> None:
        keys = list(dict.fromkeys(ids))
        if not keys:
            return
        with self.db.write() as conn:
            for start in range(0, len(keys), _MAX_VARS):
                chunk = keys[start:start + _MAX_VARS]
                conn.execute(f"DELETE FROM {self._layout.table} WHERE id IN ({', '.join('?' for _ in chunk)})", chunk)

    @staticmethod
    def transact(ops: Sequence[TxOp]) -> None:
        """All of ``ops`` in one SQLite transaction, or none of them (``ConditionFailed``)."""
        ops = list(ops)
        if not ops:
            return
        if len(ops) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"a transaction holds at most {MAX_TRANSACTION_ITEMS} items")
        check_distinct_items(ops)
        db = ops[0].store.db
        if any(getattr(op.store, "db", None) is not db for op in ops):
            raise ValueError("a transaction's tables must be in one SQLite database")
        prepared = []
        for op in ops:
            layout = op.store._layout
            if isinstance(op, TxAdd):
                if deltas := check_deltas(op.deltas):
                    prepared.append((layout, op.id, None, deltas))
            elif isinstance(op, TxDelete):
                prepared.append((layout, op.id, op.cond, None))
            else:
                prepared.append((layout, op.doc["id"], op.cond, layout.row(op.doc)))
        with db.write() as conn:
            for layout, key, cond, _ in prepared:
                _check(conn, layout, key, cond)
            for layout, key, _, row in prepared:
                if isinstance(row, dict):
                    _add(conn, layout, key, row)
                elif row is None:
                    conn.execute(f"DELETE FROM {layout.table} WHERE id = ?", (key,))
                else:
                    conn.execute(layout.upsert_sql, row)


def sqlite_stores(db: SqliteDb | str | Path) -> Stores:
    """Every table of ``domain.ports.ALL_TABLES`` in one SQLite database (a ``SqliteDb`` or a path)."""
    if not isinstance(db, SqliteDb):
        db = SqliteDb(db)
    return Stores.build(lambda spec: SqliteStore(spec, db))
