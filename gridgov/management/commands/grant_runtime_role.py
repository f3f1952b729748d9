"""(Re)apply the runtime database role's privileges and the append-only guards (gridgov.db.roles).

`migrate` does this on its own; run it after restoring a backup into a fresh database, or with
`--role NAME` for a runtime role other than the one of DATABASE_URL / var/database_url.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from gridgov.db.roles import apply_runtime_privileges


class Command(BaseCommand):
    help = "Grant the runtime role its privileges; append-only tables get INSERT/SELECT only and no TRUNCATE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", default=settings.GRIDGOV_DB_RUNTIME_ROLE, help="the runtime role")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, role: str, database: str, **options) -> None:
        tables = apply_runtime_privileges(connections[database], runtime_role=role)
        self.stdout.write(f"runtime role {role or '(none)'}: append-only {', '.join(tables)}")
