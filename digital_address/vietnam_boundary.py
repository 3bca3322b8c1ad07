"""Is a latitude/longitude in Vietnam? A pure-Python point-in-polygon test.

Why this exists and why it is so plain: bulk imports (a 230 000-row household CSV) need to
reject coordinates that cannot be Vietnamese (swapped latitude/longitude, zeros, a point in Laos
or in the sea) row by row. A GIS stack (GEOS/GDAL, shapely, PostGIS) would be a heavy dependency
for one yes/no question at country scale, so this module carries its own simplified outline and
answers with ray casting. It is a plausibility check, not a boundary of record.

What counts as Vietnam here:

* The mainland and the larger coastal islands, from Natural Earth's 1:50m "Admin 0 - Countries"
  (ne_50m_admin_0_countries, feature ADM0_A3 = VNM). Natural Earth is public domain
  (https://www.naturalearthdata.com/about/terms-of-use/). The coordinates were transcribed from
  mledoze/countries `data/vnm.geo.json`, which carries this 1:50m geometry (its first point,
  104.06396484375 10.3908203125, is the first point of Natural Earth's VNM feature), rounded to
  four decimals (about 11 m) and swapped to (lat, lng).
* The 1:50m mainland ring (554 points, 556 after the corrections below) was thinned to 417 by
  dropping points within 0.3 km of the line through their neighbours, or within 1.5 km when the
  point sits in a notch (dropping such a point only enlarges the outline, never cuts land away).
  Natural Earth's seven coastal-island rings are kept as they are (51 points).
* Four places where the 1:50m line misses real, populated land were corrected by hand: the
  Lũng Cú flag-tower spur (Vietnam's northernmost point, 23.3925 N 105.3197 E), the tip of Cape
  Cà Mau (Đất Mũi, about 8.60 N 104.72 E), the Hòn Gai / Bãi Cháy peninsulas of Hạ Long (the
  1:50m coast runs 4-5 km further north) and the Đồ Sơn peninsula.
* Inhabited islands too small for the 1:50m outline (Bạch Long Vĩ, Cô Tô, Lý Sơn, Phú Quý, Thổ
  Chu, Nam Du, ...) as boxes a few kilometres across around each island or group.
* The Hoàng Sa (Paracel) and Trường Sa (Spratly) archipelagos, which Vietnam claims, as a box and
  a hull around the archipelago. Both include the sea between the reefs; the hull keeps away from
  Palawan, Balabac and Sabah.
* A margin of ``TOLERANCE_KM`` around the mainland and Natural Earth island outlines. The 1:50m
  line is 1-2 km off in places (Móng Cái and A Pa Chải, the westernmost point, fall about 1 km
  outside it), so coastal and border towns need it. The price is symmetric: a point within that
  margin on the Lao, Chinese or Cambodian side of a land border also counts as Vietnam.

Speed (``in_vietnam`` is called once per imported row): an overall bounding box rejects most
foreign points at once. Inside it, a grid of 0.05° cells (about 5.5 km), built once at import,
says for most cells "all Vietnam" or "no Vietnam" outright; only cells within the margin of the
outline keep the outline edges near them and run the full test: ray casting over just the edges
that span the cell's row of latitude, then the distance to the few edges near the cell.
"""

from __future__ import annotations

import math
from bisect import bisect_left

__all__ = ["TOLERANCE_KM", "in_vietnam"]

# Margin around the mainland / Natural Earth island outlines (see the module docstring).
TOLERANCE_KM = 2.0

_KM_PER_DEGREE_LAT = 111.195  # mean Earth radius 6371.0 km × π / 180
_CELL_DEG = 0.05

# fmt: off
_MAINLAND = (
    (21.5080, 107.9727), (21.4989, 107.9258), (21.4971, 107.8091), (21.4059, 107.7072),
    (21.3681, 107.6367), (21.2848, 107.4100), (21.0552, 107.3543), (20.9487, 107.1647),
    (20.9350, 106.9900), (20.9741, 106.9364), (20.9500, 106.8862), (20.9575, 106.8206),
    (20.9911, 106.7603), (21.0003, 106.6834), (20.9605, 106.6755), (20.8062, 106.7373),
    (20.7351, 106.7534), (20.6800, 106.8000), (20.5266, 106.5508), (20.3922, 106.5729),
    (20.2889, 106.5180), (20.2059, 106.3955), (19.9920, 106.1657), (19.9874, 106.0622),
    (19.9391, 105.9841), (19.5875, 105.8140), (19.4670, 105.8121), (19.3789, 105.7854),
    (19.2942, 105.7911), (19.1278, 105.7164), (19.0572, 105.6391), (18.9663, 105.6218),
    (18.5025, 105.8883), (18.3164, 106.0656), (18.2207, 106.2396), (18.0532, 106.4119),
    (17.9464, 106.4990), (17.8737, 106.4594), (17.7196, 106.4789), (17.7650, 106.3559),
    (17.6628, 106.5168), (17.3672, 106.7357), (17.2214, 106.9262), (17.0555, 107.1199),
    (16.8979, 107.1804), (16.7937, 107.3551), (16.6426, 107.5493), (16.6086, 107.5408),
    (16.4878, 107.7241), (16.4031, 107.8031), (16.3225, 107.8338), (16.3096, 107.8820),
    (16.3294, 107.9363), (16.3371, 107.9907), (16.3311, 108.0294), (16.1637, 108.1697),
    (16.0911, 108.2090), (16.1008, 108.2408), (16.0898, 108.2674), (15.9891, 108.2860),
    (15.8725, 108.3953), (15.7627, 108.4475), (15.5847, 108.5778), (15.4266, 108.7428),
    (15.3779, 108.8213), (15.1805, 108.8982), (15.0015, 108.9399), (14.8028, 109.0225),
    (14.7162, 109.0849), (14.5526, 109.0870), (14.2705, 109.1914), (13.8564, 109.3033),
    (13.7650, 109.2881), (13.8547, 109.2471), (13.5905, 109.2521), (13.4508, 109.2881),
    (13.2793, 109.2719), (13.2192, 109.3096), (13.0255, 109.3768), (12.9560, 109.4239),
    (12.7190, 109.4200), (12.5996, 109.4449), (12.6708, 109.3814), (12.7519, 109.3355),
    (12.6458, 109.2189), (12.3912, 109.3047), (12.4154, 109.2068), (12.0729, 109.2157),
    (11.9929, 109.2562), (11.9545, 109.2592), (11.9087, 109.2473), (11.9588, 109.2202),
    (12.0104, 109.2146), (11.8371, 109.1575), (11.7734, 109.1927), (11.7249, 109.1986),
    (11.6647, 109.1732), (11.6011, 109.1325), (11.5927, 109.0396), (11.4684, 109.0185),
    (11.3364, 108.9867), (11.3154, 108.8208), (11.1993, 108.7003), (11.1560, 108.5513),
    (11.0407, 108.4186), (10.9343, 108.2717), (10.8973, 108.0949), (10.7204, 108.0014),
    (10.7001, 107.8451), (10.5555, 107.5645), (10.4858, 107.4703), (10.3984, 107.2615),
    (10.4199, 107.2351), (10.4716, 107.1941), (10.4983, 107.0878), (10.5563, 107.0357),
    (10.6605, 107.0066), (10.6183, 106.9837), (10.4407, 106.9661), (10.4003, 106.9475),
    (10.3828, 106.9021), (10.4333, 106.8127), (10.5356, 106.7273), (10.4649, 106.6059),
    (10.4621, 106.6984), (10.4444, 106.7412), (10.3761, 106.7775), (10.3390, 106.7763),
    (10.2958, 106.7574), (10.2889, 106.6436), (10.2983, 106.4641), (10.1933, 106.7290),
    (10.1512, 106.7853), (10.1165, 106.7853), (9.9914, 106.6592), (9.9011, 106.6568),
    (9.8599, 106.5956), (9.8681, 106.5573), (9.9396, 106.4491), (10.2217, 106.1364),
    (10.1421, 106.1836), (9.8212, 106.5074), (9.7156, 106.5644), (9.6411, 106.5725),
    (9.6036, 106.5392), (9.5594, 106.4841), (9.5561, 106.3780), (9.6754, 106.2040),
    (9.9617, 105.9257), (10.0007, 105.8310), (9.6736, 106.1125), (9.5023, 106.2062),
    (9.4478, 106.1926), (9.3967, 106.1684), (9.0932, 105.5010), (8.9624, 105.4014),
    (8.8011, 105.3223), (8.7113, 105.1912), (8.6292, 105.1144), (8.5833, 104.8919),
    (8.5950, 104.7150), (8.8019, 104.8186), (9.1855, 104.8146), (9.6062, 104.8452),
    (9.8163, 104.9032), (9.8687, 104.9871), (9.9010, 105.0926), (9.9957, 105.0845),
    (10.0674, 105.0278), (10.1006, 104.9658), (10.1148, 104.8732), (10.2027, 104.8020),
    (10.1699, 104.6635), (10.2077, 104.6127), (10.2669, 104.5940), (10.4112, 104.4264),
    (10.4224, 104.4670), (10.5160, 104.5643), (10.5345, 104.8506), (10.5902, 104.9013),
    (10.7338, 105.0611), (10.8094, 105.0361), (10.8869, 105.0223), (10.9114, 105.0457),
    (10.8976, 105.1595), (10.8615, 105.2843), (10.8452, 105.3146), (10.9401, 105.3865),
    (10.9516, 105.4058), (10.9940, 105.6978), (10.9900, 105.7551), (10.9261, 105.8107),
    (10.8636, 105.8533), (10.8852, 105.9382), (10.7973, 106.0988), (10.7949, 106.1640),
    (10.9220, 106.1315), (11.0371, 106.1609), (11.0787, 106.0995), (11.2448, 105.8916),
    (11.2943, 105.8561), (11.5591, 105.8354), (11.6013, 105.8385), (11.6350, 105.8515),
    (11.6484, 105.8898), (11.6529, 105.9266), (11.7580, 106.0061), (11.7513, 106.1029),
    (11.6818, 106.3398), (11.6978, 106.4125), (11.9484, 106.4139), (11.9655, 106.4996),
    (11.9793, 106.7001), (12.0523, 106.7646), (12.0775, 106.9307), (12.2771, 107.1590),
    (12.3040, 107.2121), (12.3216, 107.2797), (12.3190, 107.3301), (12.2605, 107.3934),
    (12.3646, 107.5064), (12.5400, 107.5555), (12.7059, 107.5436), (12.9331, 107.4815),
    (13.0304, 107.4754), (13.4378, 107.6055), (13.5217, 107.5939), (13.6542, 107.5286),
    (13.9930, 107.3895), (14.0195, 107.3621), (14.0689, 107.3426), (14.1266, 107.3314),
    (14.3687, 107.3645), (14.4512, 107.4484), (14.6500, 107.5353), (14.7051, 107.5194),
    (14.8174, 107.5138), (14.8718, 107.5245), (14.9799, 107.4804), (15.0214, 107.4963),
    (15.0570, 107.5553), (15.2552, 107.6531), (15.3916, 107.5643), (15.4658, 107.4596),
    (15.5605, 107.3388), (15.6187, 107.2794), (15.6781, 107.2326), (15.7473, 107.1896),
    (15.8025, 107.1659), (15.8386, 107.1889), (15.9217, 107.3606), (15.9979, 107.4102),
    (16.0430, 107.3964), (16.0840, 107.2965), (16.1363, 107.2174), (16.2798, 107.0697),
    (16.3118, 107.0020), (16.3531, 106.9307), (16.3965, 106.8928), (16.5263, 106.8324),
    (16.4903, 106.7916), (16.4525, 106.7396), (16.4590, 106.6961), (16.4926, 106.6564),
    (16.6507, 106.5462), (16.9541, 106.5022), (17.0025, 106.4260), (17.2168, 106.2695),
    (17.4153, 106.0062), (17.7378, 105.6914), (17.8344, 105.6272), (17.9183, 105.5977),
    (17.9837, 105.5885), (18.1543, 105.4582), (18.1896, 105.3335), (18.2354, 105.2732),
    (18.3387, 105.1633), (18.4501, 105.0858), (18.4962, 105.0870), (18.5730, 105.1135),
    (18.6510, 105.1465), (18.7283, 104.9932), (18.8034, 104.7165), (18.8606, 104.6133),
    (19.1956, 104.1086), (19.2309, 104.0063), (19.2685, 103.9184), (19.3050, 103.8916),
    (19.3400, 103.8964), (19.3661, 103.9320), (19.4205, 104.0275), (19.4826, 104.0629),
    (19.6465, 104.0135), (19.6751, 104.0320), (19.6855, 104.2599), (19.6105, 104.5463),
    (19.6187, 104.5879), (19.7547, 104.7432), (19.8361, 104.8018), (19.9040, 104.8151),
    (19.9472, 104.8458), (20.0181, 104.9279), (20.0828, 104.9292), (20.1691, 104.8887),
    (20.2168, 104.8127), (20.2053, 104.6987), (20.2247, 104.6770), (20.3285, 104.6564),
    (20.3745, 104.6188), (20.4248, 104.3922), (20.4414, 104.3678), (20.4857, 104.4078),
    (20.6002, 104.5752), (20.6467, 104.5832), (20.9140, 104.1953), (20.9412, 104.0521),
    (20.8095, 103.7905), (20.7169, 103.7145), (20.6971, 103.6351), (20.7798, 103.4636),
    (20.8406, 103.2107), (20.8917, 103.1045), (21.2026, 102.8838), (21.2659, 102.8512),
    (21.4399, 102.8875), (21.5063, 102.9096), (21.5698, 102.9486), (21.6813, 102.9496),
    (21.7348, 102.8452), (21.8074, 102.8159), (21.7097, 102.7711), (21.6779, 102.7386),
    (21.6621, 102.6953), (21.6760, 102.6620), (21.7114, 102.6408), (21.9043, 102.5825),
    (21.9578, 102.4875), (22.0271, 102.4427), (22.2840, 102.1830), (22.3792, 102.1274),
    (22.4660, 102.2370), (22.7080, 102.4064), (22.7328, 102.4279), (22.7509, 102.4709),
    (22.7410, 102.5172), (22.6485, 102.7210), (22.5872, 102.8301), (22.4662, 102.9352),
    (22.4482, 102.9819), (22.5422, 103.1363), (22.5930, 103.1376), (22.7644, 103.3006),
    (22.7698, 103.3267), (22.7547, 103.3561), (22.5880, 103.4930), (22.6116, 103.5254),
    (22.7344, 103.5707), (22.7820, 103.6202), (22.5382, 103.9150), (22.5505, 103.9714),
    (22.6664, 104.0127), (22.7523, 104.0539), (22.8001, 104.1431), (22.8094, 104.2125),
    (22.7120, 104.2983), (22.7041, 104.3718), (22.8041, 104.5269), (22.8200, 104.5775),
    (22.8222, 104.6873), (22.9111, 104.7957), (23.1002, 104.8266), (23.1364, 104.8647),
    (23.1605, 104.9102), (23.2811, 105.1891), (23.3925, 105.3197), (23.3077, 105.3505),
    (23.2354, 105.4401), (23.1809, 105.4945), (23.1220, 105.5309), (23.0727, 105.5481),
    (23.0299, 105.6912), (22.9693, 105.7823), (22.9228, 105.8430), (22.9375, 105.9623),
    (22.9748, 106.0010), (22.9755, 106.0685), (22.9701, 106.1484), (22.9551, 106.1840),
    (22.8575, 106.2790), (22.8939, 106.4509), (22.9083, 106.5418), (22.8743, 106.6240),
    (22.7789, 106.7803), (22.6377, 106.7016), (22.5860, 106.6331), (22.5732, 106.5824),
    (22.3954, 106.5363), (22.3417, 106.5536), (22.3245, 106.5932), (22.2886, 106.6365),
    (22.2415, 106.6542), (21.9789, 106.6636), (22.0003, 106.7295), (21.9820, 106.7941),
    (21.9513, 106.8745), (21.9201, 106.9252), (21.9239, 106.9710), (21.8934, 107.0064),
    (21.8349, 107.0198), (21.7171, 107.1785), (21.7106, 107.2721), (21.6089, 107.3512),
    (21.6423, 107.4335), (21.5983, 107.4714), (21.6139, 107.6410), (21.6550, 107.7593),
    (21.6452, 107.8021),
)

_NE_ISLANDS = (
    # Phú Quốc
    (
        (10.3908, 104.0640), (10.3411, 104.0830), (10.2249, 104.0758), (10.1107, 104.0368),
        (10.0610, 104.0483), (10.0292, 104.0185), (10.2429, 103.9521), (10.3354, 103.8680),
        (10.3711, 103.8495), (10.3685, 103.8984), (10.4270, 103.9858), (10.4284, 104.0277),
    ),
    # Côn Sơn (Côn Đảo)
    (
        (8.6828, 106.6175), (8.6805, 106.5893), (8.7009, 106.5680), (8.7664, 106.6586),
        (8.7230, 106.6495), (8.7011, 106.6525),
    ),
    # Vũng Tàu (drawn as an island: the Cỏ May river cuts it off)
    (
        (10.3972, 107.1677), (10.3366, 107.0838), (10.3875, 107.0779), (10.4203, 107.1509),
        (10.4462, 107.1766), (10.4457, 107.1949),
    ),
    # Cát Hải and Đình Vũ, east of Hải Phòng
    (
        (20.8157, 106.8656), (20.7964, 106.8541), (20.8438, 106.8031), (20.8642, 106.7694),
        (20.9279, 106.7953), (20.8583, 106.8551),
    ),
    # Cái Bầu (Vân Đồn)
    (
        (21.2168, 107.6027), (21.0917, 107.4587), (21.0937, 107.4035), (21.2353, 107.4525),
        (21.2689, 107.4763), (21.2204, 107.5627),
    ),
    # Bái Tử Long islands (Vân Đồn)
    (
        (20.9266, 107.5213), (20.9005, 107.4655), (20.9035, 107.3992), (20.9523, 107.4786),
        (21.0128, 107.5189), (21.0340, 107.5513), (20.9812, 107.5511),
    ),
    # Cát Bà
    (
        (20.7470, 107.0313), (20.7431, 106.9900), (20.8242, 106.9106), (20.8670, 106.9534),
        (20.8368, 107.0438), (20.8173, 107.0645), (20.7998, 107.0640), (20.7610, 107.0423),
    ),
)
# fmt: on

# Inhabited islands and island groups missing from (or too coarse in) the 1:50m outline, as
# (name, south, west, north, east) boxes with a margin of a kilometre or more around the land.
# The Hoàng Sa box spans the archipelago (15°45'-17°15' N, 111°-113° E, Vietnam's description).
_BOXES: tuple[tuple[str, float, float, float, float], ...] = (
    ("Bạch Long Vĩ", 20.10, 107.69, 20.16, 107.75),
    ("Cô Tô", 20.92, 107.66, 21.06, 107.84),
    ("Vân Đồn (Bái Tử Long islands)", 20.80, 107.33, 21.28, 107.66),
    ("Cát Bà archipelago", 20.68, 106.88, 20.88, 107.13),
    ("Cồn Cỏ", 17.12, 107.31, 17.19, 107.37),
    ("Cù Lao Chàm", 15.90, 108.47, 15.98, 108.56),
    ("Lý Sơn", 15.35, 109.06, 15.44, 109.17),
    ("Cù Lao Xanh", 13.57, 109.31, 13.64, 109.39),
    ("Hòn Tre (Nha Trang)", 12.16, 109.21, 12.25, 109.31),
    ("Bình Ba (Cam Ranh)", 11.81, 109.21, 11.86, 109.27),
    ("Phú Quý", 10.46, 108.90, 10.57, 108.99),
    ("Côn Đảo", 8.56, 106.50, 8.81, 106.76),
    ("Hòn Khoai", 8.40, 104.80, 8.46, 104.87),
    ("An Thới islands (Phú Quốc)", 9.88, 103.93, 10.05, 104.08),
    ("Thổ Chu", 9.24, 103.42, 9.35, 103.53),
    ("Nam Du", 9.62, 104.30, 9.74, 104.42),
    ("Hòn Sơn", 9.77, 104.59, 9.85, 104.67),
    ("Hòn Tre (Kiên Hải)", 9.94, 104.81, 10.00, 104.88),
    ("Hải Tặc", 10.27, 104.28, 10.36, 104.38),
    ("Hoàng Sa (Paracel Islands)", 15.65, 110.95, 17.30, 113.00),
)

# Trường Sa (Spratly Islands): a hull (lat, lng) around the archipelago from Ladd Reef and
# Trường Sa island in the west to Song Tử Tây in the north and the Commodore / Half Moon reefs
# in the east and south-east, kept clear of Palawan, Balabac and Sabah.
_TRUONG_SA = (
    (7.3, 111.3),
    (9.4, 111.3),
    (11.8, 113.8),
    (11.8, 116.6),
    (8.5, 116.6),
    (7.3, 115.5),
)


def _segment_meets_box(
    x1: float, y1: float, x2: float, y2: float, xmin: float, ymin: float, xmax: float, ymax: float
) -> bool:
    """Whether the segment (x1, y1)-(x2, y2) touches the box (Liang-Barsky clipping)."""
    t0, t1 = 0.0, 1.0
    dx, dy = x2 - x1, y2 - y1
    for p, q in ((-dx, x1 - xmin), (dx, xmax - x1), (-dy, y1 - ymin), (dy, ymax - y1)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            if t > t1:
                return False
            t0 = max(t0, t)
        else:
            if t < t0:
                return False
            t1 = min(t1, t)
    return True


def _build_grid(
    rings: tuple[tuple[tuple[float, float], ...], ...], tolerance_deg: float, cell: float
):
    """Precompute the cell grid over the outlines (all coordinates in degrees, lat first).

    Returns (south, west, north, east, cols, bands, cells): ``bands[row]`` holds the
    non-horizontal edges spanning that row of latitude as (lat1, lat2, lng1, dlng/dlat) for ray
    casting; ``cells[row * cols + col]`` is True (wholly inside, margin included), False (wholly
    outside) or a tuple of the edges within the margin of the cell as (lat1, lng1, dlat, dlng).
    """
    edges = []
    for ring in rings:
        for i, (lat1, lng1) in enumerate(ring):
            lat2, lng2 = ring[(i + 1) % len(ring)]
            if (lat1, lng1) != (lat2, lng2):
                edges.append((lat1, lng1, lat2, lng2))
    lats = [lat for ring in rings for lat, _ in ring]
    lngs = [lng for ring in rings for _, lng in ring]
    # The margin in longitude grows with latitude; take it at the highest latitude (safe side).
    tolerance_lng = tolerance_deg / math.cos(math.radians(max(abs(min(lats)), abs(max(lats)))))
    south, north = min(lats) - tolerance_deg, max(lats) + tolerance_deg
    west, east = min(lngs) - tolerance_lng, max(lngs) + tolerance_lng
    rows = int((north - south) / cell) + 1
    cols = int((east - west) / cell) + 1

    bands: list[list[tuple[float, float, float, float]]] = [[] for _ in range(rows)]
    near: dict[int, list[tuple[float, float, float, float]]] = {}
    for lat1, lng1, lat2, lng2 in edges:
        if lat1 != lat2:
            slope = (lng2 - lng1) / (lat2 - lat1)
            first = int((min(lat1, lat2) - south) / cell)
            for row in range(first, int((max(lat1, lat2) - south) / cell) + 1):
                bands[row].append((lat1, lat2, lng1, slope))
        row_lo = max(int((min(lat1, lat2) - tolerance_deg - south) / cell), 0)
        row_hi = min(int((max(lat1, lat2) + tolerance_deg - south) / cell), rows - 1)
        col_lo = max(int((min(lng1, lng2) - tolerance_lng - west) / cell), 0)
        col_hi = min(int((max(lng1, lng2) + tolerance_lng - west) / cell), cols - 1)
        for row in range(row_lo, row_hi + 1):
            box_s = south + row * cell - tolerance_deg
            box_n = south + (row + 1) * cell + tolerance_deg
            for col in range(col_lo, col_hi + 1):
                box_w = west + col * cell - tolerance_lng
                box_e = west + (col + 1) * cell + tolerance_lng
                if _segment_meets_box(lng1, lat1, lng2, lat2, box_w, box_s, box_e, box_n):
                    near.setdefault(row * cols + col, []).append(
                        (lat1, lng1, lat2 - lat1, lng2 - lng1)
                    )

    cells: list[bool | tuple[tuple[float, float, float, float], ...]] = []
    for row in range(rows):
        # A cell with no edge within the margin is all inside or all outside: test its centre.
        lat = south + (row + 0.5) * cell
        crossings = sorted(
            lng1 + (lat - lat1) * slope
            for lat1, lat2, lng1, slope in bands[row]
            if (lat1 > lat) != (lat2 > lat)
        )
        for col in range(cols):
            index = row * cols + col
            if index in near:
                cells.append(tuple(near[index]))
            else:
                cells.append(bisect_left(crossings, west + (col + 0.5) * cell) % 2 == 1)
    return south, west, north, east, cols, tuple(map(tuple, bands)), tuple(cells)


_TOLERANCE_DEG = TOLERANCE_KM / _KM_PER_DEGREE_LAT
_TOLERANCE_DEG_SQ = _TOLERANCE_DEG * _TOLERANCE_DEG
_SOUTH, _WEST, _NORTH, _EAST, _COLS, _BANDS, _CELLS = _build_grid(
    (_MAINLAND, *_NE_ISLANDS), _TOLERANCE_DEG, _CELL_DEG
)
_TS_SOUTH = min(lat for lat, _ in _TRUONG_SA)
_TS_NORTH = max(lat for lat, _ in _TRUONG_SA)
_TS_WEST = min(lng for _, lng in _TRUONG_SA)
_TS_EAST = max(lng for _, lng in _TRUONG_SA)
# Overall bounding box of everything above: the cheap first rejection.
_ALL_SOUTH = min(_SOUTH, _TS_SOUTH, *(box[1] for box in _BOXES))
_ALL_WEST = min(_WEST, _TS_WEST, *(box[2] for box in _BOXES))
_ALL_NORTH = max(_NORTH, _TS_NORTH, *(box[3] for box in _BOXES))
_ALL_EAST = max(_EAST, _TS_EAST, *(box[4] for box in _BOXES))


def _near_outline(lat: float, lng: float, row: int, edges) -> bool:
    """Full test in a cell that the outline passes near: inside it, or within the margin."""
    inside = False
    for lat1, lat2, lng1, slope in _BANDS[row]:
        if (lat1 > lat) != (lat2 > lat) and lng < lng1 + (lat - lat1) * slope:
            inside = not inside
    if inside:
        return True
    # Distance to the nearby edges on a local equirectangular projection (longitude scaled by
    # cos(latitude)): good to well under 1 % over a few kilometres.
    k = math.cos(math.radians(lat))
    for lat1, lng1, dlat, dlng in edges:
        px, py = (lng - lng1) * k, lat - lat1
        dx = dlng * k
        t = (px * dx + py * dlat) / (dx * dx + dlat * dlat)
        if t < 0.0:
            t = 0.0
        elif t > 1.0:
            t = 1.0
        ex, ey = px - t * dx, py - t * dlat
        if ex * ex + ey * ey <= _TOLERANCE_DEG_SQ:
            return True
    return False


def _in_truong_sa(lat: float, lng: float) -> bool:
    inside = False
    lat2, lng2 = _TRUONG_SA[-1]
    for lat1, lng1 in _TRUONG_SA:
        if (lat1 > lat) != (lat2 > lat) and lng < lng1 + (lat - lat1) * (lng2 - lng1) / (
            lat2 - lat1
        ):
            inside = not inside
        lat2, lng2 = lat1, lng1
    return inside


def in_vietnam(latitude: float, longitude: float) -> bool:
    """Whether the point (WGS84 degrees) lies in Vietnam, its islands or the claimed archipelagos.

    Land plus a margin of about ``TOLERANCE_KM`` (see the module docstring for what is
    approximated). NaN or infinite coordinates give False.
    """
    lat = float(latitude)
    lng = float(longitude)
    if not (_ALL_SOUTH <= lat <= _ALL_NORTH and _ALL_WEST <= lng <= _ALL_EAST):
        return False
    if _SOUTH <= lat <= _NORTH and _WEST <= lng <= _EAST:
        row = int((lat - _SOUTH) / _CELL_DEG)
        cell = _CELLS[row * _COLS + int((lng - _WEST) / _CELL_DEG)]
        if cell is True:
            return True
        if cell is not False and _near_outline(lat, lng, row, cell):
            return True
    for _name, south, west, north, east in _BOXES:
        if south <= lat <= north and west <= lng <= east:
            return True
    return _TS_SOUTH <= lat <= _TS_NORTH and _TS_WEST <= lng <= _TS_EAST and _in_truong_sa(lat, lng)
