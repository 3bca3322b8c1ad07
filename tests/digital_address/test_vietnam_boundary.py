"""``in_vietnam``: a simplified outline of Vietnam plus its islands, not a single bounding box."""

from __future__ import annotations

import math

import pytest

from digital_address import vietnam_boundary
from digital_address.vietnam_boundary import in_vietnam

INSIDE = {
    "Hà Nội": (21.0285, 105.8542),
    "Lạng Sơn city": (21.853, 106.761),
    "Thất Khê": (22.257, 106.474),
    "Đồng Văn (Hà Giang)": (23.278, 105.362),
    "Lũng Cú": (23.363, 105.316),
    "Móng Cái": (21.524, 107.966),
    "Đà Nẵng": (16.054, 108.202),
    "Huế": (16.463, 107.59),
    "Khe Sanh": (16.62, 106.73),
    "Hồ Chí Minh City": (10.776, 106.70),
    "Cà Mau": (9.177, 105.15),
    "Đất Mũi": (8.60, 104.73),
    "Phú Quốc": (10.227, 103.967),
    "Côn Đảo": (8.683, 106.609),
    "Buôn Ma Thuột": (12.667, 108.05),
    "Đà Lạt": (11.94, 108.44),
    "Điện Biên Phủ": (21.386, 103.017),
    "Mường Lay": (22.06, 103.15),
    "A Pa Chải (westernmost point)": (22.40, 102.14),
    "Châu Đốc": (10.70, 105.12),
    "Trường Sa island": (8.645, 111.92),
    "Song Tử Tây": (11.43, 114.33),
    "Bạch Long Vĩ": (20.13, 107.72),
    "Cô Tô": (20.98, 107.77),
    # Beyond the brief's list: the hand corrections and island boxes.
    "Hạ Long (Hòn Gai)": (20.95, 107.08),
    "Lý Sơn": (15.38, 109.12),
    "Phú Quý": (10.52, 108.94),
    "Thổ Chu": (9.30, 103.483),
    "Phú Lâm (Woody Island), Hoàng Sa": (16.83, 112.34),
}

OUTSIDE = {
    "Vientiane": (17.97, 102.60),
    "Luang Prabang": (19.89, 102.13),
    "Phnom Penh": (11.56, 104.92),
    "Siem Reap": (13.36, 103.86),
    "Bangkok": (13.75, 100.50),
    "Nanning": (22.82, 108.32),
    "Kunming": (25.04, 102.71),
    "Haikou (Hainan)": (20.04, 110.34),
    "South China Sea, between the coast and the archipelagos": (14.0, 111.0),
    "South China Sea, south of the Hoàng Sa box": (15.0, 112.0),
    "Gulf of Thailand": (9.0, 102.0),
    "Savannakhet": (16.55, 104.75),
    "Sanya (Hainan)": (18.25, 109.5),
    "Puerto Princesa (Palawan)": (9.74, 118.74),
    "null island": (0.0, 0.0),
    "Hà Nội with latitude and longitude swapped": (105.8542, 21.0285),
}


@pytest.mark.parametrize(("latitude", "longitude"), INSIDE.values(), ids=INSIDE.keys())
def test_inside(latitude, longitude):
    assert in_vietnam(latitude, longitude) is True


@pytest.mark.parametrize(("latitude", "longitude"), OUTSIDE.values(), ids=OUTSIDE.keys())
def test_outside(latitude, longitude):
    assert in_vietnam(latitude, longitude) is False


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_is_outside(value):
    assert in_vietnam(value, 105.85) is False
    assert in_vietnam(21.03, value) is False


def test_open_sea_points_are_outside_every_box():
    for latitude, longitude in (OUTSIDE["Gulf of Thailand"], (14.0, 111.0), (15.0, 112.0)):
        assert not any(
            south <= latitude <= north and west <= longitude <= east
            for _name, south, west, north, east in vietnam_boundary._BOXES
        )


def _reference(latitude: float, longitude: float) -> bool:
    """The same rules without the grid: ray casting over every ring, then the margin."""
    rings = (vietnam_boundary._MAINLAND, *vietnam_boundary._NE_ISLANDS)

    def crosses(ring) -> bool:
        inside = False
        for i, (lat1, lng1) in enumerate(ring):
            lat2, lng2 = ring[(i + 1) % len(ring)]
            if (lat1 > latitude) != (lat2 > latitude) and longitude < lng1 + (latitude - lat1) * (
                lng2 - lng1
            ) / (lat2 - lat1):
                inside = not inside
        return inside

    def near(ring) -> bool:
        k = math.cos(math.radians(latitude))
        for i, (lat1, lng1) in enumerate(ring):
            lat2, lng2 = ring[(i + 1) % len(ring)]
            px, py = (longitude - lng1) * k, latitude - lat1
            dx, dy = (lng2 - lng1) * k, lat2 - lat1
            t = max(0.0, min(1.0, (px * dx + py * dy) / (dx * dx + dy * dy)))
            km = math.hypot(px - t * dx, py - t * dy) * vietnam_boundary._KM_PER_DEGREE_LAT
            if km <= vietnam_boundary.TOLERANCE_KM:
                return True
        return False

    if any(crosses(ring) or near(ring) for ring in rings):
        return True
    if any(
        south <= latitude <= north and west <= longitude <= east
        for _name, south, west, north, east in vietnam_boundary._BOXES
    ):
        return True
    return crosses(vietnam_boundary._TRUONG_SA)


def test_grid_agrees_with_plain_ray_casting_near_the_outline():
    # Points 1.1-4.4 km around every vertex, where the cached grid cells fall back to edges.
    offsets = [(d * dy, d * dx) for d in (0.01, 0.02, 0.04) for dy, dx in ((1, 1), (-1, 1))]
    offsets += [(-dy, -dx) for dy, dx in offsets]
    points = [
        (lat + dy, lng + dx)
        for ring in (vietnam_boundary._MAINLAND, *vietnam_boundary._NE_ISLANDS)
        for lat, lng in ring[::3]
        for dy, dx in offsets
    ]
    disagreements = [p for p in points if in_vietnam(*p) != _reference(*p)]
    assert disagreements == []
    # Both answers occur, so the comparison is not vacuous.
    assert {in_vietnam(*p) for p in points} == {True, False}
