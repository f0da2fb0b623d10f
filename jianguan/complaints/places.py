"""Resolving the place of a ticket to a GB/T 2260 region: from a code, from the address text (city and county
names), or from a point (the vendored Jiangsu city outlines)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jianguan.core.models import Region

GEOJSON = Path(__file__).resolve().parent / "static" / "complaints" / "geo" / "jiangsu.json"
PROVINCE = "320000"


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    level: str
    parent: str | None


@lru_cache(maxsize=1)
def _regions() -> dict[str, Place]:
    return {
        code: Place(code, name, level, parent)
        for code, name, level, parent in Region.objects.filter(active=True).values_list(
            "code", "name", "level", "parent_id"
        )
    }


def clear_cache() -> None:
    _regions.cache_clear()


def known_region(code: str | None) -> str | None:
    """``code`` if it names an active region of the province, else None."""
    if code and code in _regions():
        return code
    return None


def _short(name: str) -> str:
    for suffix in ("市", "区", "县"):
        if name.endswith(suffix) and len(name) > 2:
            return name[: -len(suffix)]
    return name


def region_from_address(text: str) -> str | None:
    """The most specific region named in an address: a county inside the named city, or a county whose name is
    unique in the province, or the city."""
    if not text:
        return None
    places = _regions()
    cities = [p for p in places.values() if p.level == "city" and (p.name in text or _short(p.name) in text)]
    counties = [p for p in places.values() if p.level == "county" and p.name in text]
    if cities:
        city = max(cities, key=lambda p: len(p.name))
        inside = [c for c in counties if c.parent == city.code]
        if inside:
            return max(inside, key=lambda p: len(p.name)).code
        return city.code
    if len(counties) == 1:
        return counties[0].code
    return None


def _decode_ring(encoded: str, offset: list[int], scale: float) -> list[tuple[float, float]]:
    """ECharts' compact GeoJSON ring encoding (zig-zag, delta, quantised): back to (lon, lat) points."""
    points = []
    prev_x, prev_y = offset
    for i in range(0, len(encoded) - 1, 2):
        x = ord(encoded[i]) - 64
        y = ord(encoded[i + 1]) - 64
        x = (x >> 1) ^ (-(x & 1))
        y = (y >> 1) ^ (-(y & 1))
        x += prev_x
        y += prev_y
        prev_x, prev_y = x, y
        points.append((x / scale, y / scale))
    return points


@lru_cache(maxsize=1)
def _city_shapes() -> list[tuple[str, list[list[tuple[float, float]]]]]:
    try:
        data = json.loads(GEOJSON.read_text(encoding="utf-8"))
    except OSError:
        return []
    scale = float(data.get("UTF8Scale", 1024))
    shapes = []
    for feature in data.get("features", []):
        geometry = feature["geometry"]
        offsets = geometry.get("encodeOffsets")
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        polygon_offsets = offsets if geometry["type"] == "MultiPolygon" else [offsets]
        rings = []
        for polygon, poly_offsets in zip(polygons, polygon_offsets, strict=False):
            for ring, ring_offset in zip(polygon, poly_offsets, strict=False):
                if isinstance(ring, str):
                    rings.append(_decode_ring(ring, ring_offset, scale))
                else:
                    rings.append([(float(x), float(y)) for x, y in ring])
        shapes.append((str(feature.get("id", "")), rings))
    return shapes


def _inside(lon: float, lat: float, ring: list[tuple[float, float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / ((yj - yi) or 1e-12) + xi:
            inside = not inside
        j = i
    return inside


def city_at(lat: float, lon: float) -> str | None:
    """The city whose outline contains the point (even-odd rule over all its rings), or None."""
    for code, rings in _city_shapes():
        if sum(_inside(lon, lat, ring) for ring in rings) % 2 == 1:
            return code
    return None


def resolve(
    *, code: str | None = None, address: str = "", lat: float | None = None, lon: float | None = None,
    default: str = PROVINCE,
) -> str:
    """Best region for a ticket: an explicit code, else the address, else the point, else ``default``."""
    found = known_region(code)
    if found:
        return found
    from_text = region_from_address(address)
    if from_text:
        return from_text
    if lat is not None and lon is not None:
        city = city_at(lat, lon)
        if city and known_region(city):
            return city
    return known_region(default) or PROVINCE
