"""The one raster grid every criterion layer is built on (EPSG:25833)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from affine import Affine
from rasterio.windows import Window

CRS = "EPSG:25833"


@dataclass(frozen=True)
class Grid:
    """A north-up grid: origin at (``x0``, ``y1``), ``width`` × ``height`` cells of ``res`` m."""

    x0: float
    y1: float
    width: int
    height: int
    res: float

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], res: float) -> Grid:
        """The smallest grid with cell edges on multiples of ``res`` that covers ``bounds``."""
        minx, miny, maxx, maxy = bounds
        x0 = math.floor(minx / res) * res
        y0 = math.floor(miny / res) * res
        x1 = math.ceil(maxx / res) * res
        y1 = math.ceil(maxy / res) * res
        return cls(x0, y1, int(round((x1 - x0) / res)), int(round((y1 - y0) / res)), res)

    @property
    def transform(self) -> Affine:
        """The affine transform (pixel → EPSG:25833)."""
        return Affine(self.res, 0.0, self.x0, 0.0, -self.res, self.y1)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return self.height, self.width

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy)."""
        return self.x0, self.y1 - self.height * self.res, self.x0 + self.width * self.res, self.y1

    def key(self) -> str:
        """A stable text key of the grid (part of the layer cache key)."""
        return f"{self.x0:.0f}_{self.y1:.0f}_{self.width}x{self.height}@{self.res:g}"

    def window(self, bounds: tuple[float, float, float, float]) -> Window:
        """The whole-cell window covering ``bounds``, clipped to the grid."""
        return cell_window(self.transform, self.width, self.height, bounds)


def cell_window(transform: Affine, width: int, height: int,
                bounds: tuple[float, float, float, float]) -> Window:
    """The whole-cell window of a north-up raster covering ``bounds``, clipped to it."""
    minx, miny, maxx, maxy = bounds
    col0 = max(int(math.floor((minx - transform.c) / transform.a)), 0)
    col1 = min(int(math.ceil((maxx - transform.c) / transform.a)), width)
    row0 = max(int(math.floor((transform.f - maxy) / -transform.e)), 0)
    row1 = min(int(math.ceil((transform.f - miny) / -transform.e)), height)
    return Window(col0, row0, max(col1 - col0, 1), max(row1 - row0, 1))
