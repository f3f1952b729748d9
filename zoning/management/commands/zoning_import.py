"""Batch import of control units: `manage.py zoning_import FILE --reason … [--dry-run] [--gcj02] [--user NAME]`."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gridgov.errors import GridGovError
from gridgov.models import User
from zoning.imports import units_import_path
from zoning.services import SystemActor

# Who imports when no account is named: recorded by this name in every version written.
SHELL_IMPORT = SystemActor("系统（命令行导入）")


class Command(BaseCommand):
    help = "Import control units from a zipped Shapefile, GeoPackage or GeoJSON (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--reason", required=True, help="调整说明")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--gcj02", action="store_true", help="coordinates copied from AMap")
        parser.add_argument("--user", default=None, help="author: a zoning planner or superuser (default: the system)")

    def handle(self, *args, file, reason, dry_run, gcj02, user, **options):
        actor = SHELL_IMPORT
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"no account {user!r}")
        try:
            result = units_import_path(path=Path(file), reason=reason, dry_run=dry_run, actor=actor, gcj02=gcj02)
        except GridGovError as exc:
            self.stderr.write(json.dumps(exc.as_body(), ensure_ascii=False, indent=1)[:20000])
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=1))
