"""Zip archives, opened defensively: the archive's number of members and their total
uncompressed size are limited (:class:`~landreg.ingest.limits.ReadLimits`), member paths that
are absolute or climb out with ``..`` are refused, as are links and archives inside the
archive, and members are extracted with a byte counter, so a header that lies about its size
cannot fill the disk either.
"""

from __future__ import annotations

import io
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from landreg.ingest.limits import FileTooLarge, MiB, ReadLimits, UnreadableFile, UnsafeArchive
from landreg.ingest.messages import keyed

#: Members of a zip archive that are archives themselves (refused: they hide their contents).
ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".7z", ".rar", ".kmz")


@contextmanager
def unzipped(path: Path, limits: ReadLimits) -> Iterator[Path]:
    """Extract a zip archive safely into a temporary folder that is removed afterwards."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFile(f"{path.name} could not be read: it is not a valid zip archive "
                             f"({exc}).", field="file", value=str(path)) from None
    with archive, tempfile.TemporaryDirectory(prefix="landreg-zip-") as tmp:
        members = [m for m in archive.infolist() if not m.is_dir()]
        _check_members(path, members, limits)
        root = Path(tmp)
        budget = limits.max_unzipped_bytes
        for member in members:
            target = root.joinpath(*PurePosixPath(member.filename.replace("\\", "/")).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(member) as src, open(target, "wb") as dst:
                    budget = _copy_limited(src, dst, budget, path, limits)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
                raise UnreadableFile(f"{path.name}: member {member.filename} could not be "
                                     f"extracted ({exc}).", field="file",
                                     value=str(path)) from None
        yield root


def _check_members(path: Path, members: list[zipfile.ZipInfo], limits: ReadLimits) -> None:
    if len(members) > limits.max_members:
        raise keyed(FileTooLarge(
            f"{path.name} holds {len(members)} files; at most {limits.max_members} are accepted "
            "(a Shapefile needs 3–8).",
            field="file", value=str(path), details={"members": len(members)},
        ), "imp_e_too_many_members", count=len(members), limit=limits.max_members)
    declared = sum(m.file_size for m in members)
    if declared > limits.max_unzipped_bytes:
        raise keyed(FileTooLarge(
            f"{path.name} would unpack to {declared / MiB:,.0f} MiB; the limit is "
            f"{limits.max_unzipped_bytes / MiB:,.0f} MiB. Refused (this is how zip bombs look).",
            field="file", value=str(path), details={"uncompressed_bytes": declared},
        ), "imp_e_zip_bomb", size=declared / MiB, limit=limits.max_unzipped_bytes / MiB)
    for m in members:
        name = m.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        is_link = stat.S_ISLNK(m.external_attr >> 16)
        if PurePosixPath(name).suffix.lower() in ARCHIVE_SUFFIXES:
            raise keyed(UnsafeArchive(
                f"{path.name} contains another archive ({m.filename!r}). Put the Shapefile's "
                "own files (.shp, .dbf, .shx, .prj) directly into one zip.",
                field="file", value=str(path),
            ), "imp_e_nested_archive", member=m.filename)
        if (name.startswith("/") or ".." in parts or (parts and ":" in parts[0])
                or is_link or not parts):
            raise keyed(UnsafeArchive(
                f"{path.name} contains the member {m.filename!r}, which points outside the "
                "archive's folder (an absolute path, '..' or a link). The archive was refused.",
                field="file", value=str(path),
            ), "imp_e_escaping_member", member=m.filename)


def _copy_limited(src: io.BufferedIOBase, dst: io.BufferedIOBase, budget: int, path: Path,
                  limits: ReadLimits) -> int:
    while chunk := src.read(MiB):
        budget -= len(chunk)
        if budget < 0:
            raise keyed(FileTooLarge(
                f"{path.name} unpacks to more than {limits.max_unzipped_bytes / MiB:,.0f} MiB "
                "(more than its headers declare). Refused.",
                field="file", value=str(path),
            ), "imp_e_unpacks_more", limit=limits.max_unzipped_bytes / MiB)
        dst.write(chunk)
    return budget
