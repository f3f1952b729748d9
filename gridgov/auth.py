"""Authentication and permissions: expiring API tokens read as a prepared statement, tokens
revoked on a password change, and the admin models each role works with."""

from __future__ import annotations

import functools
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection
from django.utils import timezone
from django.utils.translation import gettext_lazy
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from .db.prepared import prepared_read
from .models import Role, User


@functools.cache
def _token_user_sql() -> tuple[str, tuple[str, ...]]:
    """The token look-up of DRF's TokenAuthentication, with the user's columns from the model."""
    qn = connection.ops.quote_name
    fields = User._meta.concrete_fields
    token = Token._meta
    user_fk = token.get_field("user")
    sql = (
        f"SELECT t.{qn(token.get_field('created').column)}, {', '.join('u.' + qn(f.column) for f in fields)}"
        f"  FROM {qn(token.db_table)} t JOIN {qn(User._meta.db_table)} u ON u.{qn(User._meta.pk.column)} = "
        f"t.{qn(user_fk.column)} WHERE t.{qn(token.pk.column)} = %s"
    )
    return sql, tuple(f.attname for f in fields)


def token_user(key: str):
    """Return (user, token) for an API token key, or None when no token has that key.

    What DRF's `TokenAuthentication` looks up on every API request (`select_related("user")`),
    as one prepared statement: building the ORM query and its join cost more than running it.
    Active or not (and expired or not) is the caller's decision, as in DRF.
    """
    if not isinstance(key, str) or "\x00" in key:  # PostgreSQL text cannot hold NUL: no such token
        return None
    sql, names = _token_user_sql()
    row = prepared_read(sql, (key,)).fetchone()
    if row is None:
        return None
    user = User.from_db(DEFAULT_DB_ALIAS, names, row[1:])
    token = Token.from_db(DEFAULT_DB_ALIAS, ("key", "user_id", "created"), (key, user.pk, row[0]))
    token.user = user
    return user, token


def token_expired(token: Token, *, now=None) -> bool:
    """A token is good for API_TOKEN_LIFETIME (settings.GRIDGOV_TOKEN_LIFETIME) from its issue."""
    now = now or timezone.now()
    return token.created + timedelta(seconds=settings.GRIDGOV_TOKEN_LIFETIME) <= now


class PreparedTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, with expiry; the look-up is one prepared read.

    Every API call of the mobile app and of scripts carries a token; DRF would build the
    `select_related("user")` query anew each time. As a read through `prepared_read`, it is
    also redone on a fresh connection when the database restarted under it. The expiry is
    checked on the row it reads (the token's `created`), so it costs no query.
    """

    def authenticate_credentials(self, key):
        found = token_user(key)
        if found is None:
            raise AuthenticationFailed(gettext_lazy("Invalid token."))
        user, token = found
        if not user.is_active:
            raise AuthenticationFailed(gettext_lazy("User inactive or deleted."))
        if token_expired(token):
            raise AuthenticationFailed(gettext_lazy("API 令牌已过期，请重新获取。"), code="token_expired")
        return user, token


class RevokeTokensOnPasswordChange:
    """Listed in AUTH_PASSWORD_VALIDATORS for its hook, not as a rule: Django calls each
    validator's `password_changed` once a new password is saved (any path: the admin, the
    password form, `set_password` + `save`), and this one revokes the user's API tokens."""

    def validate(self, password, user=None) -> None:
        return None

    def password_changed(self, password, user=None) -> None:
        if user is not None and user.pk is not None:
            Token.objects.filter(user_id=user.pk).delete()

    def get_help_text(self) -> str:
        return ""


# The admin site for each role: what it may see and change there. City supervisors keep the
# case taxonomy, dispatch rules, working-day calendar and the accounts (gridgov.admin limits
# accounts to the supervisor's scope); planners look up the reference geography and the
# zoning records; other roles have no admin (and no link to it). A permission of a model the
# admin does not register has no effect there.
_FULL = ("view", "add", "change", "delete")
_SCOPED_ACCOUNTS = frozenset(
    ["gridgov.view_user", "gridgov.add_user", "gridgov.change_user", "gridgov.view_organization"]
)
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.CITY_SUPERVISOR: frozenset(
        [f"patrol.{a}_{m}" for m in ("category", "dispatchrule", "holiday") for a in _FULL]
        + [f"gridgov.{a}_{m}" for m in ("user", "organization") for a in ("view", "add", "change")]
        + [f"gridgov.{a}_gridcell" for a in ("view", "change")]
        + [f"gridgov.{a}_gridassignment" for a in _FULL]
        + ["gridgov.view_adminarea", "patrol.view_issue", "patrol.view_issueevent"]
    ),
    # District and township supervisors given admin access: the accounts of their own area.
    Role.DISTRICT_SUPERVISOR: _SCOPED_ACCOUNTS,
    Role.TOWNSHIP_SUPERVISOR: _SCOPED_ACCOUNTS,
    Role.ZONING_PLANNER: frozenset(
        ["gridgov.view_adminarea", "gridgov.view_gridcell"]
        + [f"zoning.view_{m}" for m in ("controlunit", "zone", "zoningversion")]
    ),
}


class RolePermissionBackend:
    """Grant each active staff account the permissions of its role (ROLE_PERMISSIONS).

    Permissions follow the role, so changing someone's role changes their admin at once; the
    groups and per-user permissions of Django's ModelBackend still add to them. Authenticates
    no one.
    """

    def authenticate(self, request, **credentials):
        return None

    def get_all_permissions(self, user_obj, obj=None) -> frozenset[str]:
        if not user_obj.is_active or not user_obj.is_staff or obj is not None:
            return frozenset()
        return ROLE_PERMISSIONS.get(getattr(user_obj, "role", ""), frozenset())

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label: str) -> bool:
        return any(p.startswith(app_label + ".") for p in self.get_all_permissions(user_obj))
