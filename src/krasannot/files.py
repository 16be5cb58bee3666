"""File plumbing for every layer: checksums, plain/gzip byte reading, output folders, and
all-or-nothing writes (staged copies renamed into place), so a failed run leaves no half-written output."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from .errors import InputFormatError, UsageError


def cache_folder() -> Path:
    """krasannot's own cache: $XDG_CACHE_HOME/krasannot (default ~/.cache/krasannot). What is kept there is
    derived from the package's own files (a checked evidence copy, compiled report templates), never from inputs."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "krasannot"


def beside(path: str | os.PathLike, suffix: str) -> Path:
    """OUT.tsv (or OUT.maf) -> OUT<suffix>: the files written beside a table (OUT.summary.json, OUT.skipped.tsv,
    MATCHES.samples.tsv)."""
    path = Path(path)
    stem = path.name[:-4] if path.name.endswith((".tsv", ".maf")) else path.name
    return path.with_name(stem + suffix)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it: Linux; else all)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def file_sha256(path: str | os.PathLike) -> str:
    """Checksum of a file as it is on disk, for provenance."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_input_bytes(path: str) -> bytes:
    """The decompressed content, BOM removed; errors name what is wrong with the file."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise InputFormatError("file not found", path=path, hint="check the path") from None
    except OSError as exc:
        raise InputFormatError(f"cannot open ({exc.strerror})", path=path) from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)  # handles multi-member (bgzip) files too
        except EOFError:
            raise InputFormatError("truncated gzip file: the compressed data ends early", path=path,
                                   hint="the file is incomplete; copy it again or re-create it") from None
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise InputFormatError(f"corrupt gzip file ({exc})", path=path,
                                   hint="the file is damaged; copy it again or re-create it") from None
    return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw


def _usable_folder(folder: Path, name: str, hint: str) -> None:
    """Create `folder` if missing; UsageError naming it when it is a file, cannot be made or is not writable."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{name} is a file, not a folder", hint=hint)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{name}: cannot create the folder ({exc.strerror})", hint=hint) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{name}: the folder is not writable", hint=hint)


def prepare_outdir(outdir: str | os.PathLike, flag: str = "--outdir") -> Path:
    """The output folder, created if missing; UsageError when it is a file or cannot be written."""
    outdir = Path(outdir)
    _usable_folder(outdir, f"{flag} {outdir}", f"give {flag} a folder you can write to")
    return outdir


def check_output_file(path: Path) -> None:
    """Refuse an output file path that is a folder, or whose folder cannot be made or written."""
    if path.is_dir():
        raise UsageError(f"output {path} is a folder, not a file", hint="give a file path to write")
    _usable_folder(path.parent, f"cannot write {path}: {path.parent}", "give a path you can write to")


# staging folders are named .krasannot-<kind>.<host>-<pid>.<random>: a rerun can tell its own
# leftovers (a killed process on this host) from a staging folder another run is filling now
_STAGING = re.compile(r"^\.krasannot-(?P<kind>[a-z]+)\.(?P<host>.+)-(?P<pid>\d+)\.[^.]+$")
_LEGACY_STAGING_AGE = 24 * 3600  # seconds; unnamed leftovers of older versions


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(outdir: str | os.PathLike, kind: str) -> list[Path]:
    """Remove .krasannot-<kind>.* folders left in `outdir` by killed runs (their process is gone)."""
    import time

    removed = []
    for folder in Path(outdir).glob(f".krasannot-{kind}.*"):
        named = _STAGING.match(folder.name)
        if named and named["host"] == socket.gethostname():
            stale = not _process_alive(int(named["pid"]))
        else:  # another host's (it may be running) or an older version's: only when long abandoned
            try:
                stale = time.time() - folder.stat().st_mtime > _LEGACY_STAGING_AGE
            except OSError:
                continue
        if stale and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextmanager
def staging_folder(outdir: str | os.PathLike, kind: str) -> Iterator[Path]:
    """A hidden folder in `outdir` to write outputs into before they are renamed into place;
    removed on exit, whatever happens (SIGTERM and Ctrl-C included). Stale ones are removed first."""
    outdir = prepare_outdir(outdir)
    remove_stale_staging(outdir, kind)
    folder = Path(tempfile.mkdtemp(dir=outdir.resolve(), prefix=f".krasannot-{kind}.{socket.gethostname()}-{os.getpid()}."))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def rename_together(moves: list[tuple[Path, Path]]) -> None:
    """Rename each staged file into place, with SIGINT and SIGTERM held back until all are renamed:
    an interrupted run leaves the old set or the new one, never half of each."""
    import signal
    import threading

    held = {signal.SIGINT, signal.SIGTERM}
    on_main_thread = threading.current_thread() is threading.main_thread()
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held) if on_main_thread else None
    try:
        for staged, target in moves:
            os.chmod(staged, 0o644)
            os.replace(staged, target)
    finally:
        if before is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)


def write_together(writers: dict, kind: str) -> None:
    """Write files of one folder all or none: each writer(path) fills a staged copy in a hidden
    staging folder, and they are renamed into place together (annotate's TSV, summary and skipped rows)."""
    targets = [Path(target) for target in writers]
    for target in targets:
        check_output_file(target)
    with staging_folder(targets[0].parent, kind) as staging:
        moves = []
        for target, write in zip(targets, writers.values()):
            staged = staging / target.name
            write(staged)
            moves.append((staged, target))
        rename_together(moves)


@contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "w") -> Iterator:
    """Yield a handle on a temp file beside `path`; rename it into place only on success."""
    path = Path(path)
    check_output_file(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as handle:
            yield handle
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def line_aligned(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Re-cut a stream of byte chunks so that each piece ends on a line break (the last may not)."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        cut = pending.rfind(b"\n") + 1
        if cut:
            yield pending[:cut]
            pending = pending[cut:]
    if pending:
        yield pending


def write_json(data: dict, path: str | os.PathLike) -> None:
    with atomic_output(path) as handle:
        json.dump(data, handle, indent=2, default=str)
        handle.write("\n")
