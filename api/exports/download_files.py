"""The files behind the big downloads: each built once per version of its data, then served from disk.

A download has a family (`export-ftm`, `statements.ndjson`...) and a version (a digest of the data it
holds); its file is `<directory>/<family>.<version>`. It is written under a temporary name in the
same directory, then linked to its final name, so that name only ever shows a complete file: a
request either finds it and opens it, or builds it. A write changes the version, so the next
download builds a new file; the family's older files are then removed (an open one stays readable).

Builders of one family take turns (an exclusive lock file), so two workers never build the same file
twice over; a builder that dies leaves only a temporary file, which the next builder removes.
"""

import contextlib
import fcntl
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from api.model.errors import Busy

log = logging.getLogger(__name__)

# Files kept per family: the current version and a few before it, for downloads still resuming.
KEEP_PER_FAMILY = 3
FAMILY = re.compile(r"[a-z0-9][a-z0-9._-]*")
VERSION = re.compile(r"[0-9a-f]{8,64}")


def downloads_directory(config) -> Path:
    """DOWNLOADS_DIR when set, else `<database>.downloads` beside the database file."""
    return Path(config["DOWNLOADS_DIR"] or f"{config['DATABASE']}.downloads")


def open_download(
    directory: Path, family: str, version: str, write: Callable[[Path], str]
) -> tuple[IO[bytes], str]:
    """The open file of this family and version, and its version, building it first when it is missing.

    write(path) writes the file at path (which does not exist yet) and returns the version of what it
    wrote: normally `version`, another when the data changed since it was taken (a snapshot).
    """
    assert FAMILY.fullmatch(family) and VERSION.fullmatch(version), (family, version)
    try:
        with contextlib.suppress(FileNotFoundError):
            return file_path(directory, family, version).open("rb"), version
        return build(directory, family, version, write)
    except OSError as error:
        log.warning("Cannot build the download %s in %s: %s", family, directory, error)
        detail = "The download could not be prepared on the server's disk; try again later."
        raise Busy(detail, retry_after=60) from None


def build(directory: Path, family: str, version: str, write: Callable[[Path], str]) -> tuple[IO[bytes], str]:
    """open_download when the file is missing: under the family's lock, write, publish, tidy up."""
    directory.mkdir(parents=True, exist_ok=True)
    with build_lock(directory, family):
        with contextlib.suppress(FileNotFoundError):  # another worker built it while we waited
            return file_path(directory, family, version).open("rb"), version
        remove_temporary_files(directory, family)  # only a builder holds the lock: these are orphans
        temporary = directory / f".{family}.{uuid.uuid4().hex}.tmp"
        try:
            started = time.perf_counter()
            built = write(temporary)
            assert VERSION.fullmatch(built), built
            written_at = time.perf_counter()
            with temporary.open("rb") as written:
                os.fsync(written.fileno())  # on disk before its name says it is complete
                size = os.fstat(written.fileno()).st_size
            final = file_path(directory, family, built)
            publish(temporary, final)
            log_build(family, size, started, written_at)
        finally:
            temporary.unlink(missing_ok=True)
        remove_older_versions(directory, family)  # never the newest: the one just published
        return final.open("rb"), built


def log_build(family: str, size: int, started: float, written_at: float) -> None:
    """One line per file built: how long writing it took, and then syncing it to disk and naming it."""
    now = time.perf_counter()
    fields = {
        "download": family,
        "bytes": size,
        "write_s": round(written_at - started, 3),
        "sync_s": round(now - written_at, 3),
    }
    log.info("Built the download %s", family, extra={"fields": fields})


def file_path(directory: Path, family: str, version: str) -> Path:
    return directory / f"{family}.{version}"


@contextlib.contextmanager
def build_lock(directory: Path, family: str) -> Iterator[None]:
    """Held by one builder of the family at a time, across threads and processes (flock)."""
    descriptor = os.open(directory / f".{family}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def publish(temporary: Path, final: Path) -> None:
    """Give the complete temporary file its final name, unless a complete file already has it."""
    try:
        # A link never replaces: a file a client is resuming keeps its bytes under its name.
        os.link(temporary, final)
    except FileExistsError:
        pass
    except OSError:  # a filesystem without hard links; the lock keeps builders apart
        os.replace(temporary, final)


def family_files(directory: Path, family: str) -> list[Path]:
    prefix = f"{family}."
    return [
        path
        for path in directory.iterdir()
        if path.name.startswith(prefix) and VERSION.fullmatch(path.name.removeprefix(prefix))
    ]


def remove_older_versions(directory: Path, family: str) -> None:
    """Keep the family's KEEP_PER_FAMILY newest files; a client still reading an older one keeps it open."""
    by_age = sorted(family_files(directory, family), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in by_age[KEEP_PER_FAMILY:]:
        path.unlink(missing_ok=True)


def remove_temporary_files(directory: Path, family: str) -> None:
    for path in directory.glob(f".{family}.*.tmp*"):  # *: SQLite's -journal beside a snapshot too
        path.unlink(missing_ok=True)
