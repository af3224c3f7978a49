"""What every sign-in does, whatever the path (login page, test client, a future SSO).

Connected in AccountsConfig.ready to django.contrib.auth's user_logged_in, which every
login path sends: this is session bookkeeping that must not depend on a view remembering
it, as Django's own update_last_login is. It replaces update_last_login with a queryset
update, so that a login does not add a row to the user's history.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from accounts import selectors, services
from accounts.models import User


def on_user_logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    if request is None or not hasattr(request, "session"):
        return
    services.session_start(session=request.session, user=user)
    # Privileged users (MFA roles) keep one session: the code step ends the others, so a
    # stolen password alone cannot. For everyone else, when one session is the rule for
    # all, the password step is the whole login and ends them here.
    if settings.SHOUHU_SINGLE_SESSION_FOR_ALL and not selectors.mfa_required(user):
        services.sessions_end(user=user, keep=request.session.session_key)
