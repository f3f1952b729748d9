"""API authentication: DRF's token scheme with its look-up as one prepared statement."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class PreparedTokenAuthentication(TokenAuthentication):
    """DRF's token authentication with the same answers; the look-up is one prepared read.

    Every API call of the mobile app and of scripts carries a token; DRF would build the
    `select_related("user")` query anew each time. As a read through `prepared_read`, it is
    also redone on a fresh connection when the database restarted under it.
    """

    def authenticate_credentials(self, key):
        from .selectors import token_user

        found = token_user(key)
        if found is None:
            raise AuthenticationFailed(gettext_lazy("Invalid token."))
        user, token = found
        if not user.is_active:
            raise AuthenticationFailed(gettext_lazy("User inactive or deleted."))
        return user, token
