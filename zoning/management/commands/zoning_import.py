"""Batch import of control units: `manage.py zoning_import FILE --reason … [--dry-run] [--gcj02]`."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gridgov.errors import GridGovError
from gridgov.models import User
from zoning import exchange


class Command(BaseCommand):
    help = "Import control units from a zipped Shapefile, GeoPackage or GeoJSON (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--reason", required=True, help="调整说明")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--gcj02", action="store_true", help="coordinates copied from AMap")
        parser.add_argument("--user", default=None, help="author (a zoning planner or superuser)")

    def handle(self, *args, file, reason, dry_run, gcj02, user, **options):
        actor = User.objects.filter(username=user).first() if user else User.objects.filter(is_superuser=True).first()
        if actor is None:
            raise CommandError("no author: pass --user <planner> or create a superuser")
        path = Path(file)
        workdir = Path(tempfile.mkdtemp(prefix="zoning-import-"))
        try:
            if path.suffix.lower() == ".zip":
                path = exchange.extract_zip(path, workdir / "unzipped")
            result = exchange.units_import_path(path=path, reason=reason, dry_run=dry_run, actor=actor, gcj02=gcj02)
        except GridGovError as exc:
            self.stderr.write(json.dumps(exc.as_body(), ensure_ascii=False, indent=1)[:20000])
            raise CommandError(exc.message) from exc
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=1))
