"""Every way in and out: lock-out after failed logins, the login forms, the API token endpoint.

Failed logins are counted per account and per client address in the shared cache (the
database cache: one count for every gunicorn worker), on every path that authenticates a
password (`/api/auth/token/`, `/accounts/login/`, `/admin/login/`, and anything else that
calls `authenticate()`, through Django's `user_login_failed` signal). After
`LOGIN_ACCOUNT_FAILURES` failures for one account, or `LOGIN_ADDRESS_FAILURES` from one address,
within `LOGIN_LOCKOUT` of each other, logins for that account or from that address are refused,
even with the right password, until `LOGIN_LOCKOUT` has passed since the last failure. The client
address is the connection's, or, when that is a trusted proxy (`TRUSTED_PROXIES`), the right-most
X-Forwarded-For address that is not a proxy, so a forged header cannot reset the count.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate, get_user_model, user_logged_in, user_logged_out, user_login_failed
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .auth import token_expired
from .errors import GridGovError, InvalidInput
from .validation import validated

# Cache keys start with "throttle_login_" (reliability/matrix.py gives the quota back by it).
_PREFIX = "throttle_login_"
LOCKED_MESSAGE = _("登录失败次数过多，已暂时锁定。请 %(minutes)d 分钟后再试，或联系管理员。")


class LoginLocked(GridGovError):
    status = 429
    kind = "throttled"


def client_address(request) -> str:
    """The client's IP address: X-Forwarded-For is believed only from a trusted proxy."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    if not proxies or not _is_proxy(remote, proxies):
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    for address in reversed(forwarded):
        if not _is_proxy(address, proxies):
            return address
    return remote


def _is_proxy(address: str, proxies) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def _keys(request, username: str | None) -> list[tuple[str, int]]:
    """(cache key, failures allowed) for the account and the client address of a login."""
    conf = settings.GRIDGOV_LOGIN_LOCKOUT
    keys = []
    if username:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        keys.append((f"{_PREFIX}account_{digest}", conf["account_failures"]))
    if request is not None:
        address = client_address(request) or "unknown"
        keys.append((f"{_PREFIX}address_{address}", conf["address_failures"]))
    return keys


def login_locked(request, username: str | None) -> bool:
    """Whether a login for `username` from this request's client is refused for now."""
    counts = cache.get_many([key for key, _limit in _keys(request, username)])
    return any(counts.get(key, 0) >= limit for key, limit in _keys(request, username))


def locked_message() -> str:
    minutes = math.ceil(settings.GRIDGOV_LOGIN_LOCKOUT["seconds"] / 60)
    return LOCKED_MESSAGE % {"minutes": minutes}


@receiver(user_login_failed, dispatch_uid="gridgov-login-failed")
def _count_failure(sender, credentials, request=None, **kwargs) -> None:
    username = credentials.get("username")
    if login_locked(request, username):
        return  # refused without a check: nothing learned, so the lock-out is not extended
    seconds = settings.GRIDGOV_LOGIN_LOCKOUT["seconds"]
    for key, _limit in _keys(request, username):
        # Not atomic across workers (get, then set): concurrent tries may each count once less.
        cache.set(key, cache.get(key, 0) + 1, seconds)


def login_succeeded(user) -> None:
    """A successful login clears its account's count (the address keeps its own)."""
    cache.delete_many([key for key, _limit in _keys(None, user.get_username())])


@receiver(user_logged_in, dispatch_uid="gridgov-login-succeeded")
def _forget_account_failures(sender, request, user, **kwargs) -> None:
    login_succeeded(user)


@receiver(user_logged_out, dispatch_uid="gridgov-logout-revokes-tokens")
def _revoke_tokens_on_logout(sender, request, user, **kwargs) -> None:
    """Signing out ends every API token of the account too."""
    if user is not None:
        Token.objects.filter(user=user).delete()


class LockoutModelBackend(ModelBackend):
    """Django's password check, refused while the account or the client address is locked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if login_locked(request, username):
            raise PermissionDenied(locked_message())
        return super().authenticate(request, username=username, password=password, **kwargs)


class LockoutFormMixin:
    """Say plainly that the login is locked (the backend alone would say 'wrong password')."""

    def clean(self):
        if login_locked(self.request, self.cleaned_data.get("username")):
            raise forms.ValidationError(locked_message(), code="login_locked")
        return super().clean()


class LoginForm(LockoutFormMixin, AuthenticationForm):
    """The login page's form (`/accounts/login/`)."""

    error_messages = {**AuthenticationForm.error_messages, "invalid_login": _("用户名或密码不正确，请重试。")}


class AdminLoginForm(LockoutFormMixin, AdminAuthenticationForm):
    """The admin site's login form (`/admin/login/`)."""


def token_issue(user) -> Token:
    """The user's API token: the current one, or a new one when it has expired."""
    token = Token.objects.filter(user=user).first()
    if token is not None and token_expired(token):
        token.delete()
        token = None
    if token is None:
        token = Token.objects.create(user=user)
    return token


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("用户名"), max_length=150)
    password = serializers.CharField(label=_("密码"), max_length=4096, trim_whitespace=False)


TOKEN_RESPONSE = inline_serializer(
    "TokenResponse", {"token": serializers.CharField(), "expires": serializers.DateTimeField()}
)


class TokenView(APIView):
    """Exchange a username and password for an API token (`Authorization: Token <token>`);
    DELETE revokes the token the request carries (sign-out of an API client).

    The token expires API_TOKEN_LIFETIME after it was issued; a password change or a sign-out
    of the web session revokes it too. Repeated failures lock the account and the client out
    (429) for LOGIN_LOCKOUT.
    """

    permission_classes = [AllowAny]
    parser_classes = [FormParser, MultiPartParser, JSONParser]

    @extend_schema(request=TokenRequestSerializer, responses={200: TOKEN_RESPONSE})
    def post(self, request):
        data = validated(TokenRequestSerializer, request.data)
        if login_locked(request, data["username"]):
            raise LoginLocked(locked_message(), code="login_locked")
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None:
            if login_locked(request, data["username"]):  # this very failure reached the limit
                raise LoginLocked(locked_message(), code="login_locked")
            raise InvalidInput(_("用户名或密码不正确。"), code="invalid_credentials", field="password")
        login_succeeded(user)
        token = token_issue(user)
        expires = token.created + timedelta(seconds=settings.GRIDGOV_TOKEN_LIFETIME)
        return Response({"token": token.key, "expires": expires.astimezone(timezone.get_current_timezone())})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        if not isinstance(request.auth, Token):
            raise InvalidInput(_("请求未携带 API 令牌。"), code="no_token", field="Authorization")
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
