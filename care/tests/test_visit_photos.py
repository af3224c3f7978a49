"""Visit photos: only real images pass the upload guard, they sit in the private storage,
and only a user who may see the child gets them back (no-store, audited)."""

import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client

from audit.models import AuditEvent, EventType
from care.models import Visit, VisitPhoto
from registry.models import Child
from testing.world import World

from .helpers import photo, png_bytes, visit_post


def _stored_files() -> set[Path]:
    root = Path(settings.SHOUHU_PRIVATE_DIR) / "visits"
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def _record_with_photo(world: World, login: Any) -> tuple[Client, VisitPhoto]:
    client: Client = login("village_worker")
    child = Child.objects.get(pk=world.children["a1"].pk)
    response = client.post(f"/children/{child.pk}/visits/new/", {**visit_post(child), "photos": [photo()]})
    assert response.status_code == 302, response.content[:500]
    return client, VisitPhoto.objects.get(visit__child=child)


def test_it_stores_a_photo_privately_with_its_digest(world: World, login: Any) -> None:
    before = _stored_files()
    _client, stored = _record_with_photo(world, login)
    assert (stored.content_type, stored.size) == ("image/png", len(png_bytes()))
    assert stored.sha256 == hashlib.sha256(png_bytes()).hexdigest()
    assert stored.file_name.startswith("visits/") and "现场" not in stored.file_name  # a generated name
    assert len(_stored_files() - before) == 1


def test_it_refuses_a_file_that_is_not_an_image(world: World, login: Any) -> None:
    client: Client = login("village_worker")
    child = Child.objects.get(pk=world.children["a1"].pk)
    before = _stored_files()
    fake = photo("现场.jpg", b"MZ\x90\x00 this is a program, not a photo")
    text = photo("现场.png", b"just some text pretending to be a picture")

    for upload in (fake, text):
        response = client.post(f"/children/{child.pk}/visits/new/", {**visit_post(child), "photos": [upload]})
        assert response.status_code == 400
        assert response.context["form"].errors["photos"]  # the guard's Chinese reason, at the field

    assert not Visit.objects.exists() and not VisitPhoto.objects.exists()
    assert _stored_files() == before


def test_it_serves_a_photo_only_in_scope(world: World, login: Any, client: Client) -> None:
    owner, stored = _record_with_photo(world, login)
    response = owner.get(f"/visits/photos/{stored.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()  # type: ignore[attr-defined]
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"] and response["X-Content-Type-Options"] == "nosniff"
    row = AuditEvent.objects.filter(action=EventType.VIEW).order_by("id").last()
    assert (
        row is not None
        and row.detail["section"] == "visit_photo"
        and row.object_id == str(stored.visit.child_id)
    )

    client.force_login(world.users["visiting_cadre"])  # sees a2 only
    assert client.get(f"/visits/photos/{stored.pk}/").status_code == 404
    client.force_login(world.users["school_staff"])  # a1 is a pupil of the school: may see, not visit
    assert client.get(f"/visits/photos/{stored.pk}/").status_code == 200


def test_the_visit_page_shows_its_photos(world: World, login: Any) -> None:
    client, stored = _record_with_photo(world, login)
    body = client.get(f"/visits/{stored.visit_id}/").content.decode()
    assert f"/visits/photos/{stored.pk}/" in body
