"""``flowplane export DIR`` and ``flowplane import DIR``: a store's documents as JSON lines, one
file per table (``<Table>.jsonl``) and a ``manifest.json``, through the ``Store`` port
(``domain/transfer.py`` says what is exported and how an import stays safe).

Both take the store arguments of the maintenance commands: the SQLite data of ``flowplane serve``
(default; ``--data-dir DIR``, refused while a server holds it), ``--dynamodb-endpoint URL`` or
``--aws`` (a deployed stack's tables). An export is written into a temporary directory beside
``DIR`` and renamed into place when complete, so ``DIR`` is either a whole export or absent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

MANIFEST = "manifest.json"


def register(sub) -> None:
    from infra.local.maintenance import store_arguments

    e = sub.add_parser("export", help="write every table's documents as JSON lines into a new directory "
                                      "(a backup, or data to import elsewhere)")
    e.add_argument("dir", metavar="DIR", help="the directory to create (must not exist, or be empty)")
    store_arguments(e)
    e.set_defaults(func=_export)
    i = sub.add_parser("import", help="write an export's documents into an empty store (or finish an "
                                      "interrupted import of the same export)")
    i.add_argument("dir", metavar="DIR", help="a directory written by `flowplane export`")
    store_arguments(i)
    i.set_defaults(func=_import)


def _fail(command: str, message: str, code: int = 2) -> int:
    print(f"flowplane {command}: {message}", file=sys.stderr)
    return code


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flowplane")
    except PackageNotFoundError:
        return "unknown"


def _export(args: argparse.Namespace) -> int:
    from domain import transfer
    from infra.local import store as local_store
    from infra.local.maintenance import open_ctx

    target = Path(args.dir).expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        return _fail("export", f"{target} exists and is not an empty directory.")
    try:
        ctx, close, where = open_ctx(args)
    except local_store.DataDirInUse as exc:
        return _fail("export", str(exc), 3)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        counts: dict[str, int] = {}
        for table, docs in transfer.export(ctx.stores):
            counts[table] = 0
            with open(work / f"{table}.jsonl", "w", encoding="utf-8") as out:
                for doc in docs:
                    out.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
                    counts[table] += 1
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        manifest = transfer.manifest(counts, exported_at=now, source=where, version=_version())
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if target.exists():
            target.rmdir()  # empty (checked above)
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        close()
    print(json.dumps({"exported": str(target), "tables": counts}))
    return 0


def _lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8", errors="strict") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                yield line


def _import(args: argparse.Namespace) -> int:
    from domain import transfer
    from infra.local import store as local_store
    from infra.local.maintenance import open_ctx

    source = Path(args.dir).expanduser()
    try:
        counts = transfer.check_manifest(json.loads((source / MANIFEST).read_text(encoding="utf-8")))
        missing = [t for t in counts if not (source / f"{t}.jsonl").is_file()]
        if missing:
            raise transfer.ImportRefused(f"The export lacks {', '.join(f'{t}.jsonl' for t in missing)}.")
    except (OSError, ValueError) as exc:
        return _fail("import", f"cannot read {source / MANIFEST}: {exc}")
    except transfer.ImportRefused as exc:
        return _fail("import", str(exc))
    try:
        ctx, close, _ = open_ctx(args)
    except local_store.DataDirInUse as exc:
        return _fail("import", str(exc), 3)
    try:
        result = transfer.import_all(ctx, counts, lambda table: _lines(source / f"{table}.jsonl"))
    except transfer.ImportRefused as exc:
        return _fail("import", f"{exc} Nothing was written.")
    except UnicodeDecodeError as exc:
        return _fail("import", f"the export is not UTF-8 ({exc.reason}). Nothing was written.")
    finally:
        close()
    print(json.dumps(result))
    return 0
