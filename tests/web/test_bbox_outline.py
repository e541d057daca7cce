"""The search polygon of a bbox (registry/search.py ``_bbox_wkb``) is exactly the densified,
transformed outline shapely computes: the same bytes, so the exact CRS84 filter is unchanged
by building it with numpy."""

from __future__ import annotations

import random

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from landreg.errors import InvalidInput
from landreg.ingest.crs import store_transform
from landreg.registry.search import _bbox_25833, _bbox_wkb


def _reference(bbox: tuple[float, float, float, float], crs: object) -> bytes:
    """The outline as it was computed before: shapely's segmentize, then the transform."""
    minx, miny, maxx, maxy = bbox
    epsg, geographic, tr = store_transform(crs)
    if epsg == 25833:
        return shapely.to_wkb(box(minx, miny, maxx, maxy))
    if geographic:
        minx, maxx = max(minx, -180.0), min(maxx, 180.0)
        miny, maxy = max(miny, -90.0), min(maxy, 90.0)
    ring = shapely.segmentize(box(minx, miny, maxx, maxy), max(maxx - minx, maxy - miny) / 32)
    return shapely.to_wkb(shapely.transform(
        ring, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))))


def _boxes(n: int) -> list[tuple[float, float, float, float]]:
    rnd = random.Random(14)
    out = [(11.5, 60.0, 12.04, 60.27), (12.0, 60.0, 12.0000001, 60.5), (-200, -95, 200, 95),
           (30.0, 89.0, 31.0, 91.0)]
    while len(out) < n:
        x0, y0 = round(rnd.uniform(4, 31), rnd.choice([3, 5, 9])), round(rnd.uniform(57, 71), 5)
        w = rnd.choice([rnd.uniform(1e-6, 0.01), rnd.uniform(0.01, 2), rnd.uniform(2, 19)])
        h = rnd.choice([rnd.uniform(1e-6, 0.01), rnd.uniform(0.01, 2), w])
        out.append((x0, y0, x0 + w, y0 + h))
    return out


@pytest.mark.parametrize("crs", [4326, "http://www.opengis.net/def/crs/OGC/1.3/CRS84"])
def test_lonlat_outline_is_shapelys_to_the_bit(crs):
    for bbox in _boxes(3000):
        assert _bbox_wkb(bbox, crs) == _reference(bbox, crs), bbox


def test_projected_boxes():
    utm = (330000.0, 6670000.0, 345000.0, 6690000.0)
    assert _bbox_wkb(utm, 25833) == _reference(utm, 25833)  # the storage CRS: the box itself
    assert _bbox_wkb((600000.0, 6640000.0, 700000.0, 6740000.0), 25832) == _reference(
        (600000.0, 6640000.0, 700000.0, 6740000.0), 25832)
    poly = _bbox_25833((11.5, 60.0, 12.04, 60.27), 4326)  # the municipalities' filter
    assert poly.is_valid and len(poly.exterior.coords) == 2 * (32 + 17) + 1


def test_metres_as_lonlat_are_refused():
    with pytest.raises(InvalidInput):
        _bbox_wkb((330000, 6670000, 345000, 6690000), 4326)
