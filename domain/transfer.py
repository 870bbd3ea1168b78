"""Moving a store's data to another store: every document table out (export) and in (import),
through the ``Store`` port, so local SQLite data can go to a deployed stack's DynamoDB tables and
back, or be kept as a backup.

An export is one JSON-lines stream per table (``TABLES``) and a manifest naming the format, its
version and how many documents each stream holds. The derived tables are left out: ``Counters``
and ``TagIndex`` are rebuilt from the imported objects (``run_counters.rebuild``,
``tag_index.backfill``) so they match what the target now holds.

An import never overwrites and never leaves half a dataset behind by surprise:

1. ``check_stream`` — every line of every stream is read before anything is written: a JSON object
   with a string ``id``, unique in its table, no larger than an item may be, and as many lines as
   the manifest says (a truncated file is refused).
2. ``read_target`` — the target may only hold documents of this very export (an empty store, or an
   import that stopped part way and is run again): anything else is refused, so two datasets are
   never merged into one with clashing names (names are unique through ``Guards`` items, which a
   merge would break).
3. the documents the target lacks are written, then the counters and tag items rebuilt.

Run it on a quiet target (a stopped ``flowplane serve``, a stack nobody is calling).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from domain.context import Ctx
from domain.errors import Unprocessable
from domain.ports import ALL_TABLES, COUNTERS, TAG_INDEX, Doc, Store, Stores

FORMAT = "flowplane-export"
VERSION = 1
DERIVED = (COUNTERS.name, TAG_INDEX.name)  # rebuilt after an import, never exported
TABLES: tuple[str, ...] = tuple(s.name for s in ALL_TABLES if s.name not in DERIVED)
MAX_DOC_BYTES = 392 * 1024  # what an item's document may take (400 KB less room for its keys)
WRITE_CHUNK = 25  # documents per batch write (DynamoDB's BatchWriteItem size)


class ImportRefused(Unprocessable):
    """The export cannot be imported as it is, or not into this target; nothing was written."""


def stores_by_table(stores: Stores) -> dict[str, Store]:
    return {store.spec.name: store for store in vars(stores).values()}


def canonical(doc: Doc) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(doc: Doc) -> bytes:
    return hashlib.blake2b(canonical(doc).encode(), digest_size=16).digest()


# ---------------------------------------------------------------------------------------- export

def export(stores: Stores) -> Iterator[tuple[str, Iterator[Doc]]]:
    """(table name, its documents) for every exported table, in ``TABLES`` order."""
    by_name = stores_by_table(stores)
    for name in TABLES:
        yield name, by_name[name].scan()


def manifest(counts: dict[str, int], *, exported_at: str, source: str, version: str) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "flowplane": version, "exported_at": exported_at,
            "source": source, "tables": {name: counts.get(name, 0) for name in TABLES}}


# ---------------------------------------------------------------------------------------- import

def check_manifest(m: Any) -> dict[str, int]:
    """The manifest's document count per table, or ``ImportRefused`` saying what is wrong."""
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise ImportRefused(f"Not a flowplane export (the manifest's format is not {FORMAT!r}).")
    if m.get("version") != VERSION:
        raise ImportRefused(f"Export format version {m.get('version')!r} is not supported (this flowplane "
                            f"reads version {VERSION}).")
    tables = m.get("tables")
    if not isinstance(tables, dict):
        raise ImportRefused("The manifest lists no tables.")
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        raise ImportRefused(f"The export holds tables this flowplane does not know: {', '.join(unknown)}.")
    bad = [n for n, c in tables.items() if not isinstance(c, int) or isinstance(c, bool) or c < 0]
    if bad:
        raise ImportRefused(f"The manifest's count for {', '.join(sorted(bad))} is not a whole number.")
    return dict(tables)


@dataclass
class Checked:
    """What pass 1 learnt about one table's stream: each id's content digest."""

    table: str
    digests: dict[str, bytes] = field(default_factory=dict)


def parse_line(table: str, number: int, line: str) -> Doc:
    where = f"{table}, line {number}"
    if len(line.encode()) > MAX_DOC_BYTES:
        raise ImportRefused(f"{where}: the document is larger than an item may be (400 KB).")
    try:
        doc = json.loads(line)
    except ValueError as exc:
        raise ImportRefused(f"{where}: not JSON ({exc.msg}).") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or not doc["id"]:
        raise ImportRefused(f"{where}: not a document (a JSON object with a string id).")
    return doc


def check_stream(table: str, lines: Iterable[str], expected: int) -> Checked:
    """Pass 1 over one table's lines (see the module docstring); nothing is written."""
    checked = Checked(table)
    n = 0
    for n, line in enumerate(lines, 1):
        doc = parse_line(table, n, line)
        if doc["id"] in checked.digests:
            raise ImportRefused(f"{table}, line {n}: id {doc['id']} appears twice.")
        checked.digests[doc["id"]] = _digest(doc)
    if n != expected:
        raise ImportRefused(f"{table}: {n} documents where the manifest says {expected} (a truncated or "
                            f"edited export).")
    return checked


def read_target(stores: Stores, checked: dict[str, Checked], *, show: int = 3) -> tuple[list[str], dict[str, set[str]]]:
    """One scan of the target: its documents that are not this export's (by id and content, a few
    per table), and the ids of this export's documents it already holds (not written again)."""
    by_name = stores_by_table(stores)
    foreign: list[str] = []
    present: dict[str, set[str]] = {}
    for name in TABLES:
        digests = checked[name].digests if name in checked else {}
        present[name] = set()
        seen = 0
        for doc in by_name[name].scan():
            if digests.get(doc.get("id")) == _digest(doc):
                present[name].add(doc["id"])
                continue
            seen += 1
            if seen <= show:
                foreign.append(f"{name} {doc.get('id')}")
        if seen > show:
            foreign.append(f"{name}: {seen - show} more")
    return foreign, present


def write_missing(stores: Stores, table: str, docs: Iterable[Doc], present: set[str]) -> tuple[int, int]:
    """Write the documents of ``table`` the target lacks (``present``: the ids it holds), in batch
    writes of ``WRITE_CHUNK``; (written, already there)."""
    store = stores_by_table(stores)[table]
    written = there = 0
    chunk: list[Doc] = []
    for doc in docs:
        if doc["id"] in present:
            there += 1
            continue
        chunk.append(doc)
        if len(chunk) == WRITE_CHUNK:
            store.put_many(chunk)
            written, chunk = written + len(chunk), []
    store.put_many(chunk)
    return written + len(chunk), there


def rebuild_derived(ctx: Ctx) -> dict[str, Any]:
    """Counters and tag items recomputed from what the target now holds."""
    from domain import run_counters, tag_index

    return {"counters": run_counters.rebuild(ctx), "tag_index": tag_index.backfill(ctx)}


def import_all(ctx: Ctx, counts: dict[str, int], open_lines: Callable[[str], Iterable[str]]) -> dict[str, Any]:
    """Import the tables of a checked manifest (``check_manifest``); ``open_lines(table)`` gives the
    table's lines afresh each time it is called (it is read twice: checked, then written)."""
    checked = {name: check_stream(name, open_lines(name), counts[name]) for name in counts}
    foreign, present = read_target(ctx.stores, checked)
    if foreign:
        raise ImportRefused("The target already holds data that is not this export's (import into an empty "
                            "store, or run the same import again to finish it): " + "; ".join(foreign) + ".")
    written: dict[str, int] = {}
    there: dict[str, int] = {}
    for name in TABLES:
        if name not in counts:
            continue
        docs = (parse_line(name, n, line) for n, line in enumerate(open_lines(name), 1))
        written[name], there[name] = write_missing(ctx.stores, name, docs, present[name])
    return {"written": {n: c for n, c in written.items() if c},
            "already_there": {n: c for n, c in there.items() if c}, **rebuild_derived(ctx)}
