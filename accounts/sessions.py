"""The session engine: Django's database store on accounts.UserSession (SESSION_ENGINE).

Three changes: each row carries the signed-in user, so a user's sessions can be ended with
one DELETE; a session found expired is deleted at once, so an idle session is gone from the
store when it is next presented, not only after `clearsessions` (SE-1); and the save that
every request makes (SESSION_SAVE_EVERY_REQUEST) is a bare UPDATE, without the transaction
Django opens around it, which only a create needs (to catch a duplicate key).
"""

import uuid
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.db import DatabaseError, router


def _user_id(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls) -> Any:
        from accounts.models import UserSession

        return UserSession

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        session: Any = super().create_model_instance(data)
        session.user_id = _user_id(data.get(SESSION_KEY))
        return session

    def load(self) -> dict[str, Any]:
        key = self.session_key
        data: dict[str, Any] = super().load()
        if key and self.session_key is None:  # unknown or expired: drop what is left of it
            self.get_model_class().objects.filter(session_key=key).delete()
        return data

    def save(self, must_create: bool = False) -> None:
        if must_create or self.session_key is None:
            super().save(must_create)
            return
        session = self.create_model_instance(dict(self.items()))
        using = router.db_for_write(self.model, instance=session)
        try:
            session.save(force_update=True, using=using)
        except DatabaseError as exc:  # the row is gone: ended elsewhere meanwhile
            raise UpdateError from exc
