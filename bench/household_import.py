"""Benchmark: the CSV import of households (manage.py import_households) against a raw COPY of the
same rows, and resolving the imported codes through the API against raw SQL. PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/household_import.py
    DATABASE_URL=... .venv/bin/python bench/household_import.py --households 50000 --lookups 500

The run never touches a database it did not create: it creates ``congdanso_bench_<pid>`` next to
the database named in DATABASE_URL (through the server's ``postgres`` database), migrates it,
loads Lạng Sơn's 65 commune-level units (province 20) and drops it at the end, also on error or
Ctrl-C. Files go to a temporary directory.

1. A CSV of ``--households`` rows (230 000: Lạng Sơn's households) spread over the 65 wards in
   random order (``--order ward`` sorts them by ward, as per-commune files would be): Tày, Nùng
   and Kinh names, hamlets (thôn, bản) in the communes and streets in the 4 phường; about 70%
   with a location near a point of their ward inside Lạng Sơn (checked with ``in_vietnam``), 85%
   with a date of birth (both accepted formats), 10% with a national code; 0.2% of rows are
   invalid (no name, a point outside Vietnam, a birth date in the future). A file of the first
   quarter of the rows is written too.
2. The floor: the valid rows, turned in memory (before timing) into exactly the rows the import
   writes (codes, plus codes, ids), written with one COPY per table (households, members, events,
   external codes) and the ward counters, in one transaction. Then TRUNCATE … RESTART IDENTITY.
3. The import: ``manage.py import_households`` on the quarter file, then (after a TRUNCATE) on
   the full file, each in a child process: its time is measured around ``call_command`` in the
   child, its peak RSS read from ``os.wait4``'s rusage. The full import must leave the same rows
   as the floor, or the run is invalid.
4. Resolving: ``--lookups`` random codes through ``GET /api/v1/addresses/<code>/``
   (django.test.Client, throttle rates raised) and, interleaved, the floor: one raw SQL SELECT
   of the household joined to its ward and province by code. p50 and p99 of each.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from otp_request import (  # noqa: E402  (after the path set-up)
    POSTGRES_SCHEMES,
    configure_environment,
    create_postgres_database,
    drop_postgres_database,
)

PROVINCE = 20  # Lạng Sơn
HEADER = [
    "ward_code",
    "import_ref",
    "house_number",
    "street",
    "hamlet",
    "latitude",
    "longitude",
    "head_full_name",
    "head_date_of_birth",
    "external_scheme",
    "external_code",
]
# Lạng Sơn, without the strip along the Chinese border (the points are checked anyway).
LAT_RANGE = (21.6, 22.4)
LNG_RANGE = (106.1, 107.0)
LOCATED = 0.70
WITH_BIRTH_DATE = 0.85
WITH_EXTERNAL_CODE = 0.10
INVALID = 0.002
WARM_UP = 20  # untimed lookups of each kind first
QUERY_SAMPLES = 20  # lookups under CaptureQueriesContext

FAMILY = (
    "Hoàng", "Nông", "Lương", "Vi", "Hà", "Lý", "Nguyễn", "Triệu", "Lăng", "Mã", "Lộc", "Chu",
    "Đinh", "Hứa", "Dương", "Trần", "Phạm", "Lê", "Vy", "Tô", "Bế", "Hoàng", "Nông", "Nguyễn",
)  # fmt: skip
MIDDLE_MALE = ("Văn", "Đức", "Văn", "Minh", "Quang", "Thanh", "Văn", "Hữu", "Công")
MIDDLE_FEMALE = ("Thị", "Thị", "Thu", "Thanh", "Ngọc", "Thị", "Kim", "Hồng")
GIVEN_MALE = (
    "An", "Bình", "Cường", "Dũng", "Giang", "Hải", "Hùng", "Khánh", "Long", "Lục", "Nam",
    "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Thành", "Tuấn", "Việt", "Vinh", "Chiến", "Pảo",
)  # fmt: skip
GIVEN_FEMALE = (
    "Anh", "Chi", "Dung", "Hà", "Hoa", "Hương", "Lan", "Liên", "Mai", "Nga", "Nhung", "Phương",
    "Quyên", "Thảo", "Thúy", "Vân", "Xuân", "Yến", "Slao", "Mỷ",
)  # fmt: skip
HAMLET_NAMES = (
    "Nà Pàn", "Pò Cại", "Khòn Pầu", "Bản Chu", "Nà Lầm", "Pác Khuông", "Còn Quyền", "Nà Tâm",
    "Khuổi Mạ", "Pò Mã", "Cốc Lùng", "Nà Slảng", "Tồng Khoang", "Bó Củng", "Phai Khắt", "Bản Piềng",
    "Nà Danh", "Khau Khảo", "Nà Sla", "Pác Cáp", "Bản Thẩu", "Nà Phái", "Lũng Vài", "Bản Vạc",
)  # fmt: skip
STREETS = (
    "Đường Trần Đăng Ninh", "Đường Bà Triệu", "Đường Lê Lợi", "Đường Phai Vệ", "Đường Bắc Sơn",
    "Đường Tam Thanh", "Đường Hùng Vương", "Đường Lý Thái Tổ", "Đường Ngô Quyền", "Ngõ Văn Vỉ",
)  # fmt: skip


# --- The file ---------------------------------------------------------------------------------


@dataclass
class Generated:
    rows: int
    valid: list[list[str]]  # the valid rows, in file order (the floor is built from them)
    invalid: int
    located: int
    external: int
    size_bytes: int
    quarter_rows: int


def ward_points(wards: list[tuple[int, str]], rng: random.Random) -> dict[int, tuple[float, float]]:
    """A made-up centre per ward: a point of the Lạng Sơn box that is in Vietnam, with room."""
    from digital_address.vietnam_boundary import in_vietnam

    points = {}
    for code, _name in wards:
        while True:
            lat, lng = rng.uniform(*LAT_RANGE), rng.uniform(*LNG_RANGE)
            corners = [(lat + dl, lng + dg) for dl in (-0.03, 0.03) for dg in (-0.03, 0.03)]
            if in_vietnam(lat, lng) and all(in_vietnam(a, b) for a, b in corners):
                points[code] = (lat, lng)
                break
    return points


def person(rng: random.Random) -> str:
    if rng.random() < 0.7:  # heads of household are mostly men in the paper registers
        return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_MALE)} {rng.choice(GIVEN_MALE)}"
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_FEMALE)} {rng.choice(GIVEN_FEMALE)}"


def generate(path: Path, quarter_path: Path, n: int, order: str, rng: random.Random) -> Generated:
    from digital_address.models import DivisionType, Ward
    from digital_address.vietnam_boundary import in_vietnam

    wards = list(
        Ward.objects.filter(province_id=PROVINCE)
        .order_by("code")
        .values_list("code", "division_type")
    )
    if len(wards) != 65:
        raise SystemExit(f"expected Lạng Sơn's 65 wards, found {len(wards)}")
    centres = ward_points(wards, rng)
    urban = {code for code, kind in wards if kind == DivisionType.WARD}
    weights = [rng.uniform(0.4, 1.6) * (2.5 if code in urban else 1.0) for code, _k in wards]
    sequence = rng.choices([code for code, _k in wards], weights=weights, k=n)
    if order == "ward":
        sequence.sort()
    quarter = n // 4
    valid: list[list[str]] = []
    invalid = located = external = 0
    tomorrow = date.fromordinal(date.today().toordinal() + 1).isoformat()
    with (
        path.open("w", encoding="utf-8-sig", newline="") as f,
        quarter_path.open("w", encoding="utf-8-sig", newline="") as q,
    ):
        out, out_quarter = csv.writer(f), csv.writer(q)
        out.writerow(HEADER)
        out_quarter.writerow(HEADER)
        for i, ward in enumerate(sequence, start=1):
            if ward in urban:
                house, street = str(rng.randint(1, 250)), rng.choice(STREETS)
                hamlet = f"Khối {rng.randint(1, 12)}" if rng.random() < 0.5 else ""
            else:
                house = str(rng.randint(1, 120)) if rng.random() < 0.4 else ""
                street, hamlet = "", f"Thôn {rng.choice(HAMLET_NAMES)}"
            lat = lng = ""
            if rng.random() < LOCATED:
                clat, clng = centres[ward]
                for _try in range(5):
                    a, b = rng.gauss(clat, 0.012), rng.gauss(clng, 0.012)
                    if in_vietnam(a, b):
                        lat, lng = f"{a:.6f}", f"{b:.6f}"
                        break
            born = ""
            if rng.random() < WITH_BIRTH_DATE:
                d = date(rng.randint(1935, 2005), rng.randint(1, 12), rng.randint(1, 28))
                born = d.isoformat() if rng.random() < 0.5 else d.strftime("%d/%m/%Y")
            scheme = code = ""
            if rng.random() < WITH_EXTERNAL_CODE:
                scheme, code = "national", f"VN{ward:05d}{i:07d}"
            row = [
                str(ward), f"SH-{i:06d}", house, street, hamlet, lat, lng, person(rng), born,
                scheme, code,
            ]  # fmt: skip
            if rng.random() < INVALID:
                kind = rng.randrange(3)
                if kind == 0:
                    row[7] = ""
                elif kind == 1:
                    row[5], row[6] = "48.856600", "2.352200"  # Paris
                else:
                    row[8] = tomorrow
                invalid += 1
            else:
                valid.append(row)
                located += bool(lat)
                external += bool(code)
            out.writerow(row)
            if i <= quarter:
                out_quarter.writerow(row)
    return Generated(
        rows=n,
        valid=valid,
        invalid=invalid,
        located=located,
        external=external,
        size_bytes=path.stat().st_size,
        quarter_rows=quarter,
    )


# --- The floor: COPY of the rows the import writes ---------------------------------------------


def parse_date(text: str) -> date | None:
    if not text:
        return None
    if "/" in text:
        day, month, year = (int(p) for p in text.split("/"))
        return date(year, month, day)
    return date.fromisoformat(text)


@dataclass
class FloorRows:
    households: list[tuple]
    members: list[tuple]
    events: list[tuple]
    external_codes: list[tuple]
    counters: list[tuple]
    codes: list[str]


def floor_rows(valid: list[list[str]]) -> FloorRows:
    """Exactly what the import writes, computed in memory (not timed)."""
    from django.utils import timezone
    from psycopg.types.json import Jsonb

    from digital_address.address_codes import compose
    from digital_address.locations import plus_code_for, quantize

    now = timezone.now()
    last: dict[int, int] = {}
    result = FloorRows([], [], [], [], [], [])
    for pk, row in enumerate(valid, start=1):
        ward = int(row[0])
        last[ward] = last.get(ward, 0) + 1
        code = compose(ward, last[ward])
        lat = quantize(Decimal(row[5])) if row[5] else None
        lng = quantize(Decimal(row[6])) if row[6] else None
        result.households.append(
            (pk, ward, row[2], row[3], row[4], lat, lng, plus_code_for(lat, lng), code,
             "pending", "", "import", row[1], None, now, now)
        )  # fmt: skip
        result.members.append((pk, row[7], parse_date(row[8]), "head", now))
        result.events.append((pk, None, "imported", Jsonb({"import_ref": row[1]}), now))
        if row[10]:
            result.external_codes.append((pk, row[9], row[10], None, now))
        result.codes.append(code)
    result.counters = sorted(last.items())
    return result


FLOOR_COPIES = (
    (
        "households",
        "digital_address_household",
        "id, ward_id, house_number, street, hamlet, latitude, longitude, plus_code, code, status,"
        " rejection_reason, source, import_ref, created_by_id, created_at, updated_at",
    ),
    (
        "members",
        "digital_address_householdmember",
        "household_id, full_name, date_of_birth, relationship, joined_at",
    ),
    ("events", "digital_address_householdevent", "household_id, actor_id, kind, data, created_at"),
    (
        "external_codes",
        "digital_address_externaladdresscode",
        "household_id, scheme, code, attached_by_id, created_at",
    ),
    ("counters", "digital_address_wardaddresssequence", "ward_id, last_value"),
)


def floor_copy(rows: FloorRows) -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        for attribute, table, columns in FLOOR_COPIES:
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in getattr(rows, attribute):
                    copy.write_row(row)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('digital_address_household', 'id'), %s)",
            [len(rows.households)],
        )
    return time.perf_counter() - started


def truncate() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE digital_address_household, digital_address_wardaddresssequence"
            " RESTART IDENTITY CASCADE"
        )
        cursor.execute("VACUUM ANALYZE digital_address_household")
        cursor.execute("CHECKPOINT")  # no checkpoint of the previous run's writes in the next


def table_counts() -> tuple[int, int, int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT COUNT(*) FROM digital_address_household),"
            " (SELECT COUNT(*) FROM digital_address_householdmember),"
            " (SELECT COUNT(*) FROM digital_address_householdevent),"
            " (SELECT COUNT(*) FROM digital_address_externaladdresscode)"
        )
        return cursor.fetchone()


# --- The import, in a child process -----------------------------------------------------------


@dataclass
class ChildRun:
    seconds: float
    peak_rss_mb: float
    setup_rss_mb: float
    output: str


def run_child(file: Path, report: Path, chunk_size: int) -> ChildRun:
    """``manage.py import_households`` in a child process (the environment is this run's)."""
    command = [sys.executable, __file__, "--child", str(file), str(report), str(chunk_size)]
    with tempfile.TemporaryFile("w+") as out:
        completed = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        out.seek(0)
        text = out.read()
    if completed.returncode != 0:
        raise SystemExit(f"the import failed ({completed.returncode}):\n{text}")
    result = json.loads(text.strip().splitlines()[-1])
    return ChildRun(
        seconds=result["seconds"],
        peak_rss_mb=result["peak_kb"] / 1024,
        setup_rss_mb=result["setup_kb"] / 1024,
        output=result["output"],
    )


def done_line(run: ChildRun) -> str:
    lines = [line for line in run.output.splitlines() if line.startswith("Done")]
    return lines[0] if lines else run.output.strip()


def high_water_kb() -> int:
    """The process's peak resident set (VmHWM). Not getrusage's ru_maxrss: a child starts with the
    RSS its parent had at the fork (kept across exec), and this parent holds the whole file's
    rows in memory for the floor."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status: the memory figure needs Linux")


def child(file: str, report: str, chunk_size: int) -> None:
    import io

    import django

    django.setup()
    from django.core.management import call_command

    setup_kb = high_water_kb()
    out = io.StringIO()
    started = time.perf_counter()
    call_command("import_households", file, errors=report, chunk_size=chunk_size, stdout=out)
    seconds = time.perf_counter() - started
    result = {"seconds": seconds, "setup_kb": setup_kb, "peak_kb": high_water_kb()}
    print(json.dumps({**result, "output": out.getvalue()}))


# --- Resolving --------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


RESOLVE_FLOOR = (
    "SELECT h.code, h.plus_code, h.house_number, h.street, h.hamlet, h.latitude, h.longitude,"
    " h.status, w.code, w.name, p.name"
    " FROM digital_address_household h"
    " JOIN digital_address_ward w ON w.code = h.ward_id"
    " JOIN digital_address_province p ON p.code = w.province_id"
    " WHERE h.code = %s AND h.status <> 'rejected'"
)


def queries_per_lookup(codes: list[str]) -> float:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from digital_address.address_codes import format_code

    client = Client()
    with CaptureQueriesContext(connection) as captured:
        for code in codes:
            client.get(f"/api/v1/addresses/{format_code(code)}/")
    return len(captured.captured_queries) / len(codes)


def resolve(codes: list[str]) -> tuple[list[float], list[float]]:
    from django.db import connection
    from django.test import Client

    from digital_address.address_codes import format_code

    client = Client()

    def http(code: str) -> None:
        response = client.get(f"/api/v1/addresses/{format_code(code)}/")
        if response.status_code != 200 or response.json()["code"] != format_code(code):
            raise SystemExit(f"GET /api/v1/addresses/{code}/ answered {response.status_code}")

    def sql(code: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(RESOLVE_FLOOR, [code])
            if cursor.fetchone() is None:
                raise SystemExit(f"no household has the code {code}")

    for code in codes[:WARM_UP]:
        http(code)
        sql(code)
    http_ms, sql_ms = [], []
    for i, code in enumerate(codes):
        # Alternate which goes first, so neither always meets the other's warm cache.
        for call, times in ((http, http_ms), (sql, sql_ms))[:: 1 if i % 2 else -1]:
            started = time.perf_counter()
            call(code)
            times.append(1000 * (time.perf_counter() - started))
    return http_ms, sql_ms


# --- The run ----------------------------------------------------------------------------------


def benchmark(args: argparse.Namespace, tmp: Path) -> None:
    import logging

    import django

    django.setup()
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    from django.core.management import call_command
    from django.db import connection

    from digital_address.actions.units import admin_units_load

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    admin_units_load(province_code=PROVINCE)
    prepared = time.perf_counter() - started

    rng = random.Random(args.seed)
    full, quarter = tmp / "households.csv", tmp / "households-quarter.csv"
    started = time.perf_counter()
    generated = generate(full, quarter, args.households, args.order, rng)
    floor = floor_rows(generated.valid)
    generated_in = time.perf_counter() - started
    expected = (
        len(floor.households),
        len(floor.members),
        len(floor.events),
        len(floor.external_codes),
    )

    floor_runs = []
    for _run in range(args.floor_runs):
        truncate()
        floor_runs.append(floor_copy(floor))
        if table_counts() != expected:
            raise SystemExit(f"invalid run: the floor wrote {table_counts()}, expected {expected}")
    floor_seconds = min(floor_runs)
    truncate()

    small = run_child(quarter, tmp / "quarter.errors.csv", args.chunk_size)
    truncate()
    big = run_child(full, tmp / "households.errors.csv", args.chunk_size)
    counts = table_counts()
    with (tmp / "households.errors.csv").open(encoding="utf-8-sig") as f:
        reported = {row[0] for row in list(csv.reader(f))[1:]}
    if counts != expected or len(reported) != generated.invalid:
        raise SystemExit(
            f"invalid run: the import wrote {counts} and reported {len(reported)} rows; "
            f"expected {expected} and {generated.invalid}"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT code FROM digital_address_household ORDER BY id")
        written_codes = [row[0] for row in cursor.fetchall()]
    if written_codes != floor.codes:
        raise SystemExit("invalid run: the import gave other codes than the floor")

    lookups = rng.sample(floor.codes, min(args.lookups, len(floor.codes)))
    http_ms, sql_ms = resolve(lookups)
    resolve_queries = queries_per_lookup(lookups[:QUERY_SAMPLES])

    again = run_child(full, tmp / "again.errors.csv", args.chunk_size)
    if table_counts() != expected:
        raise SystemExit(f"invalid run: importing again wrote rows: {table_counts()}")

    from django.conf import settings

    v = connection.pg_version
    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(
        f"Household import benchmark: PostgreSQL {v // 10000}.{v % 10000} "
        f"({connection.settings_dict['NAME']}), cache {cache_backend}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"migrate + 65 wards {prepared:.1f} s"
    )
    print(
        f"file: {generated.rows} rows ({generated.rows - generated.invalid} valid, "
        f"{generated.located} located, {generated.external} with an external code, "
        f"{generated.invalid} invalid) across 65 wards, {args.order} order, "
        f"{generated.size_bytes / 1e6:.1f} MB; generated and prepared in {generated_in:.1f} s"
    )
    floor_rate = generated.rows / floor_seconds
    runs = ", ".join(f"{seconds:.2f}" for seconds in floor_runs)
    print(
        f"SQL floor: {floor_seconds:.2f} s ({floor_rate:.0f} rows/s; best of {runs} s): COPY of "
        f"the {expected[0]} households, members, events, {expected[3]} external codes and the "
        "ward counters, one transaction"
    )
    print(
        f"import_households (chunk {args.chunk_size}): {big.seconds:.2f} s "
        f"({generated.rows / big.seconds:.0f} rows/s) = {big.seconds / floor_seconds:.2f} × "
        f"SQL floor ({floor_seconds:.2f} s)"
    )
    print(
        f"peak RSS of the import process: {big.peak_rss_mb:.0f} MB for {generated.rows} rows, "
        f"{small.peak_rss_mb:.0f} MB for {generated.quarter_rows} rows "
        f"({small.seconds:.2f} s); after django.setup() {big.setup_rss_mb:.0f} MB"
    )
    print(f"command's summary: {done_line(big)}")
    print(
        f"importing the same file again: {again.seconds:.2f} s = "
        f"{again.seconds / floor_seconds:.2f} × SQL floor; {done_line(again)}"
    )
    http50, http99 = percentile(http_ms, 50), percentile(http_ms, 99)
    sql50, sql99 = percentile(sql_ms, 50), percentile(sql_ms, 99)
    print(
        f"GET /api/v1/addresses/<code>/ (n={len(http_ms)}): p50 {http50:.2f} ms = "
        f"{http50 / sql50:.1f} × SQL floor ({sql50:.2f} ms); p99 {http99:.2f} ms = "
        f"{http99 / sql99:.1f} × SQL floor ({sql99:.2f} ms); {resolve_queries:g} queries per "
        "request vs 1"
    )


def positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 10_000_000:
        raise argparse.ArgumentTypeError("between 1 and 10000000")
    return value


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=positive, default=230_000, help="rows (230000)")
    parser.add_argument("--lookups", type=positive, default=2000, help="codes resolved (2000)")
    parser.add_argument("--chunk-size", type=positive, default=2000, help="import chunk (2000)")
    parser.add_argument(
        "--order", choices=("random", "ward"), default="random", help="row order (random)"
    )
    parser.add_argument("--seed", type=int, default=20, help="random seed (20)")
    parser.add_argument(
        "--floor-runs", type=positive, default=2, help="floor runs, the best counts (2)"
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "").strip()
    if urlsplit(url).scheme not in POSTGRES_SCHEMES:
        raise SystemExit("DATABASE_URL must name a PostgreSQL server: the import uses COPY there")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="congdanso-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        created: str | None = None
        try:
            bench_url, created = create_postgres_database(url)
            configure_environment(tmp, bench_url)
            benchmark(args, tmp)
        finally:
            if "django" in sys.modules:
                from django.db import connections

                connections.close_all()
            if created:
                drop_postgres_database(url, created)


if __name__ == "__main__":
    main()
