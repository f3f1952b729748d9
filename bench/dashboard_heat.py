"""Heat-map request at zoom 11 over 1,000,000 cases: p50 of the API vs the bare SQL binning.

value = p50 seconds of GET /api/dashboard/heat/ (a 1280×800 view at zoom 11 centred on the
city centre, through the full Django/DRF stack, JSON included), baseline = p50 seconds of the
bare SQL that bins the same points on the same EPSG:3857 grid. Goal: ≤ 1.5×.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import benchlib  # noqa: E402

ROUNDS = 15
ZOOM = 11
CENTRE = (120.17, 30.27)
WIDTH_PX, HEIGHT_PX = 1280, 800


def main() -> None:
    import math

    from _dashboard_data import scale_database_url

    url = scale_database_url()
    benchlib.setup_django(url)
    import psycopg
    from django.test import Client

    from dashboard import selectors
    from gridgov.models import User

    deg = 360 / (256 * 2**ZOOM)
    half_w = WIDTH_PX / 2 * deg
    half_h = HEIGHT_PX / 2 * deg * math.cos(math.radians(CENTRE[1]))
    bbox = (CENTRE[0] - half_w, CENTRE[1] - half_h, CENTRE[0] + half_w, CENTRE[1] + half_h)
    bbox_text = ",".join(f"{v:.5f}" for v in bbox)
    user, _ = User.objects.get_or_create(username="bench_dashboard", defaults={"is_superuser": True})
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    size = selectors.heat_cell_metres(ZOOM)
    raw = psycopg.connect(url)
    sql = f"""
        SELECT floor(ST_X(point) * {selectors.EARTH} / 180.0 / %(s)s) bx,
               floor(ln(tan(radians(90.0 + ST_Y(point)) / 2.0)) * 6378137.0 / %(s)s) by, count(*)
          FROM patrol_issue
         WHERE point && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)
         GROUP BY 1, 2
    """
    params = {"s": size, "x0": bbox[0], "y0": bbox[1], "x1": bbox[2], "y1": bbox[3]}

    def run_api():
        t0 = time.perf_counter()
        r = client.get(f"/api/dashboard/heat/?bbox={bbox_text}&zoom={ZOOM}")
        assert r.status_code == 200, r.content[:200]
        return time.perf_counter() - t0, r.json()

    def run_sql():
        t0 = time.perf_counter()
        with raw.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        return time.perf_counter() - t0, rows

    _, body = run_api()
    _, rows = run_sql()
    assert len(body["points"]) == len(rows), (len(body["points"]), len(rows))
    print(f"heat bench: {body['total']} cases in view, {len(rows)} bins of {size:.0f} m", file=sys.stderr)
    api_t, sql_t = [], []
    for _ in range(ROUNDS):
        api_t.append(run_api()[0])
        sql_t.append(run_sql()[0])
    value, baseline = benchlib.p50(api_t), benchlib.p50(sql_t)
    user.delete()
    benchlib.report(
        "dashboard_heat_zoom11_1M_p50", value=value, baseline=baseline, goal="<=1.5x", passed=value / baseline <= 1.5
    )


if __name__ == "__main__":
    main()
