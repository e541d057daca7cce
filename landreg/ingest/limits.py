"""What a file may be: the limits it is read within, and the errors reading it raises."""

from __future__ import annotations

from dataclasses import dataclass

from landreg.errors import InvalidCRS, InvalidInput, TooLarge

MiB = 2**20


class UnreadableFile(InvalidInput):
    """Raised when a file is corrupt, of an unknown format or cannot be opened."""

    code = "unreadable_file"


class NotSpatial(InvalidInput):
    """Raised when a file (or the chosen layer) holds no geometries to import."""

    code = "not_spatial"


class FileTooLarge(TooLarge):
    """Raised when a file, or an archive's contents, exceed the configured limits."""

    code = "file_too_large"


class UnsafeArchive(InvalidInput):
    """Raised when a zip archive has absolute, ``..`` or link members."""

    code = "unsafe_archive"


class MissingCRS(InvalidCRS):
    """Raised when neither the file nor the caller says which CRS the coordinates are in."""

    code = "missing_crs"


@dataclass(frozen=True)
class ReadLimits:
    """How much a file may hold before it is refused.

    Attributes
    ----------
    max_bytes:
        Size of the file as given (bytes). Default 512 MiB: a 100,000-plot GeoPackage is ~30 MiB.
    max_unzipped_bytes:
        Total uncompressed size of a zip archive's members (bytes), checked from the headers
        before extracting and again while extracting. Default 2 GiB.
    max_members:
        Number of members in a zip archive. Default 64 (a Shapefile has 3–8 files).
    """

    max_bytes: int = 512 * MiB
    max_unzipped_bytes: int = 2048 * MiB
    max_members: int = 64


DEFAULT_LIMITS = ReadLimits()
