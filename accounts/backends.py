"""Password authentication: Django's ModelBackend, refusing disabled and expired accounts.

user_can_authenticate also runs when a session is loaded (get_user), so a session of an
account that was disabled or passed its end date is anonymous on its next request (AC-7).
"""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.utils import timezone


class AccountBackend(ModelBackend):
    def user_can_authenticate(self, user: Any) -> bool:
        if not super().user_can_authenticate(user):
            return False
        valid_until = getattr(user, "valid_until", None)
        return valid_until is None or valid_until >= timezone.localdate()
