"""R4 fixtures: committed cases, photos, imagery candidates and jobs, built through the services.

`prepare()` runs in a Django process pointed at the server's database (`configure_django`) and
builds everything the permission matrix (reliability/matrix.py) asks about: cases inside the
demo officer's township and outside 西湖区, one fresh case per transition cell in a source state
of the action, an imagery job with a change candidate and a per-cell summary inside and outside,
and one fresh candidate or queued job per write cell that uses one up.
"""

from __future__ import annotations

import io
import os
import random
import uuid
from dataclasses import dataclass, field

from .access import ANONYMOUS, ROLES, TRANSITION_PREREQUISITES, Case, Who

PERSONAL_PHONE = "13912345678"
PERSONAL_NAME = "张三"  # a name in the published case's text: redacted on every public page
OTHER_UNIT_USER = "rel_other_unit"


def configure_django(database_url: str, media_root: str) -> None:
    """Point this process's Django at the server's database (the harness only; tests have theirs)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["MEDIA_ROOT"] = media_root
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgov.settings")
    import django

    django.setup()


def random_jpeg() -> bytes:
    from PIL import Image

    rng = random.Random()
    img = Image.frombytes("RGB", (32, 32), rng.randbytes(32 * 32 * 3))
    out = io.BytesIO()
    img.save(out, format="JPEG")
    return out.getvalue()


@dataclass
class Fixtures:
    who: dict[str, Who]
    inside: Case  # in 330106001, reported by the demo officer, unit = the demo unit
    outside: Case  # another district, reported by the city supervisor, another unit
    published: Case
    neighbour: Case  # in 330106001, dispatched to another unit of 西湖区 than the demo unit
    photo_private: str  # photo of `inside` only
    photo_outside: str  # photo of `outside` only
    photo_public: str
    cell_inside: str
    cell_outside: str
    transition_cases: dict[tuple[str, str, str], Case] = field(default_factory=dict)  # (action, role, where)
    dup_original: dict[str, int] = field(default_factory=dict)
    unit_ids: dict[str, int] = field(default_factory=dict)
    area_names: dict[str, tuple[str, str]] = field(default_factory=dict)  # where -> (district, township)
    zoning_unit: str = ""  # a demo control unit (edited then reverted by the planner's cells)
    job: int = 0  # an imagery job of the matrix (cancelled: never runs)
    scenes: tuple[int, int] = (0, 0)  # before, after: a registered pair for the job-create cells
    candidates: dict[str, int] = field(default_factory=dict)  # where -> a candidate in that cell
    candidate_cases: dict[str, Case] = field(default_factory=dict)  # where -> its area, as a Case
    fresh: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (route, role, where) -> object id


def _case(issue) -> Case:
    from django.utils import timezone

    issue.refresh_from_db()
    return Case(
        id=issue.pk,
        district_code=issue.district.code if issue.district_id else "",
        township_code=issue.township.code if issue.township_id else "",
        reporter_id=issue.reporter_id,
        responsible_unit_id=issue.responsible_unit_id,
        grid_cell_id=issue.grid_cell_id,
        public=issue.is_public or issue.source == "citizen",
        reported_at=timezone.localtime(issue.reported_at).isoformat(),
        point=(issue.point.x, issue.point.y),
    )


def _who(user) -> Who:
    from gridgov.models import AdminArea, GridAssignment

    codes = list(user.scope.values_list("code", "level"))
    districts = {c for c, lvl in codes if lvl == "district"}
    townships = {c for c, lvl in codes if lvl == "township"}
    townships |= set(AdminArea.objects.filter(parent__code__in=districts).values_list("code", flat=True))
    return Who(
        username=user.username,
        user_id=user.pk,
        role=user.role,
        is_staff=user.is_staff,
        everything=user.is_superuser or any(lvl == "city" for _, lvl in codes),
        district_codes=frozenset(districts),
        township_codes=frozenset(townships),
        organization_id=user.organization_id,
        cell_ids=frozenset(GridAssignment.objects.filter(user=user).values_list("cell_id", flat=True)),
        superuser=user.is_superuser,
    )


def prepare() -> Fixtures:
    """Build committed fixtures through the services (call with database access allowed)."""
    from django.contrib.gis.geos import Point

    from gridgov.models import GridAssignment, GridCell, Organization, Role, User
    from patrol.actions.photos import photo_store
    from patrol.actions.reporting import issue_report
    from patrol.actions.transitions import issue_transition
    from patrol.transitions import TRANSITIONS, USER_ACTIONS

    users = {u.username: u for u in User.objects.filter(username__in=ROLES[1:])}
    city, officer, unit_user = users["city_supervisor"], users["officer"], users["responsible_unit"]
    in_cell = GridCell.objects.filter(assignments__user=officer).order_by("code").first()
    out_cell = GridCell.objects.exclude(township__parent__code="330106").order_by("code").first()
    out_unit = Organization.objects.filter(area__in=[out_cell.township_id, out_cell.township.parent_id]).first()
    other, _ = User.objects.get_or_create(
        username=OTHER_UNIT_USER, defaults={"role": Role.RESPONSIBLE_UNIT, "organization": out_unit}
    )
    where = {
        "in": dict(cell=in_cell, reporter=officer, unit=unit_user.organization, unit_user=unit_user),
        "out": dict(cell=out_cell, reporter=city, unit=out_unit, unit_user=other),
    }
    # Evidence photos are attached by those who uploaded them (patrol.actions.photos).
    evidence = {w: photo_store(data=random_jpeg(), uploaded_by=where[w]["unit_user"])[0].sha256 for w in where}

    def report(w: str, *, description: str = "权限矩阵测试（合成）", photos=()):
        cell = where[w]["cell"]
        pt = cell.geom.point_on_surface
        issue, _ = issue_report(
            reporter=where[w]["reporter"],
            point=Point(pt.x, pt.y, srid=4326),
            category="other",
            description=description,
            client_uuid=uuid.uuid4(),
            photo_hashes=list(photos),
        )
        return issue

    def walk(issue, w: str, state: str, original_id: int | None = None):
        steps = {
            "reported": [],
            "verified": ["verify"],
            "dispatched": ["verify", "dispatch"],
            "rectifying": ["verify", "dispatch", "start_rectification"],
            "submitted": ["verify", "dispatch", "start_rectification", "submit_rectification"],
            "accepted": ["verify", "dispatch", "start_rectification", "submit_rectification", "accept"],
        }[state]
        for action in steps:
            actor = where[w]["unit_user"] if action in ("start_rectification", "submit_rectification") else city
            params = {"unit_id": where[w]["unit"].pk, "photo_hashes": [evidence[w]]}
            issue_transition(issue_id=issue.pk, action=action, actor=actor, **params)
        return issue

    inside_photo, _ = photo_store(data=random_jpeg(), uploaded_by=officer)
    outside_photo, _ = photo_store(data=random_jpeg(), uploaded_by=city)
    public_photo, _ = photo_store(data=random_jpeg(), uploaded_by=officer)
    inside = walk(report("in", photos=[inside_photo.sha256]), "in", "dispatched")
    outside = walk(report("out", photos=[outside_photo.sha256]), "out", "dispatched")
    published = walk(
        report("in", description=f"联系人{PERSONAL_NAME} 电话 {PERSONAL_PHONE}（合成）", photos=[public_photo.sha256]),
        "in",
        "verified",
    )
    issue_transition(issue_id=published.pk, action="publish", actor=city)
    neighbour_unit = (
        Organization.objects.filter(area=in_cell.township.parent)
        .exclude(pk=unit_user.organization_id)
        .order_by("pk")
        .first()
    )
    neighbour = walk(report("in"), "in", "verified")
    issue_transition(issue_id=neighbour.pk, action="dispatch", actor=city, unit_id=neighbour_unit.pk)

    fx = Fixtures(
        who={u: _who(users[u]) for u in ROLES[1:]} | {ANONYMOUS: Who(username=ANONYMOUS)},
        inside=_case(inside),
        outside=_case(outside),
        published=_case(published),
        neighbour=_case(neighbour),
        photo_private=inside_photo.sha256,
        photo_outside=outside_photo.sha256,
        photo_public=public_photo.sha256,
        cell_inside=in_cell.code,
        cell_outside=out_cell.code,
        unit_ids={w: where[w]["unit"].pk for w in where},
    )
    for w in where:
        fx.dup_original[w] = report(w).pk
    for action in USER_ACTIONS:
        source = TRANSITIONS[action].sources[0]
        for role in ROLES:
            for w in where:
                case = walk(report(w), w, source)
                if action in TRANSITION_PREREQUISITES:
                    issue_transition(issue_id=case.pk, action=TRANSITION_PREREQUISITES[action], actor=city)
                fx.transition_cases[(action, role, w)] = _case(case)
    for w in where:
        cell = where[w]["cell"]
        fx.area_names[w] = (cell.township.parent.name, cell.township.name)
    _prepare_zoning(fx)
    _prepare_imagery(fx, where={w: where[w]["cell"] for w in where}, city=city)
    assert GridAssignment.objects.filter(user=officer).exists()
    return fx


def _prepare_zoning(fx: Fixtures) -> None:
    from zoning.models import ControlUnit

    unit = ControlUnit.objects.filter(code__startswith="ZH330106").order_by("-code").first()
    fx.zoning_unit = unit.code


def _prepare_imagery(fx: Fixtures, *, where: dict, city) -> None:
    """A matrix job on the demo scene pair (cancelled at once: the cells read it, nothing runs),
    a candidate and a per-cell summary in each cell, fresh candidates for the review cells and
    a queued job per role for the cancel cells. Candidates come from detection in the app; here
    they are rows like the ones `job_run` writes, placed in the cells the matrix needs."""
    from geodata import services as imagery
    from geodata.models import ChangeCandidate, DetectionJob, GridCellSummary, JobStatus

    demo = DetectionJob.objects.filter(status=JobStatus.DONE).select_related("before", "after").order_by("pk").first()
    if demo is None:
        raise RuntimeError("no finished imagery job: load the demo (manage.py load_demo) first")
    before, after = demo.before, demo.after
    fx.scenes = (before.pk, after.pk)
    job = imagery.job_create(before=before, after=after, user=city, params={}, defer=False)
    imagery.job_cancel(job=job, user=city)
    fx.job = job.pk

    def candidate(w: str) -> int:
        from django.contrib.gis.geos import MultiPolygon, Polygon

        cell = where[w]
        pt = cell.geom.point_on_surface
        d = 0.0003
        geom = MultiPolygon(Polygon.from_bbox((pt.x - d, pt.y - d, pt.x + d, pt.y + d)), srid=4326)
        c = ChangeCandidate.objects.create(
            job=job,
            geom=geom,
            change_type="construction",
            area_m2=3700.0,
            confidence=0.9,
            mean_index_change=0.2,
            index="NDBI",
            grid_cell=cell,
            district=cell.township.parent,
            township=cell.township,
            violation_reason="权限矩阵（合成）",
        )
        return c.pk

    for w, cell in where.items():
        fx.candidates[w] = candidate(w)
        fx.candidate_cases[w] = Case(
            id=fx.candidates[w],
            district_code=cell.township.parent.code,
            township_code=cell.township.code,
            reporter_id=None,
            responsible_unit_id=None,
            grid_cell_id=cell.pk,
        )
        GridCellSummary.objects.create(job=job, cell=cell, construction_m2=3700.0, candidate_count=1)
    for route in ("geodata-candidate-confirm", "geodata-candidate-dismiss"):
        for role in ROLES:
            for w in where:
                fx.fresh[(route, role, w)] = candidate(w)
    for role in ROLES:
        queued = imagery.job_create(before=before, after=after, user=city, params={}, defer=False)
        fx.fresh[("geodata-job-cancel", role, "-")] = queued.pk
