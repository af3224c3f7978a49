"""The demo's training sessions (seed_demo): attended by some demo workers, the rest listed as
having had none this year."""

import datetime as dt
from typing import Any

from django.core.management import call_command

from training.models import Attendance, TrainingSession
from training.selectors import untrained, worker_grants

ON = dt.date(2026, 11, 29)


def test_the_demo_records_training_and_leaves_untrained_workers(db: Any) -> None:
    call_command("load_regions", verbosity=0)
    call_command("seed_demo", children=40, on=ON, password="Demo-Passw0rd-2026", verbosity=0)
    assert TrainingSession.objects.filter(held_on__year=ON.year, held_on__lte=ON).count() == 2
    trained = set(Attendance.objects.values_list("user__username", flat=True))
    assert trained == {"demo_village_worker", "demo_township_supervisor", "demo_school_staff"}
    listed = {w.user.username for w in untrained(worker_grants(["450521"], on=ON), ON.year).workers}
    assert {"demo_visiting_cadre", "demo_social_worker", "demo_provider_staff"} <= listed
    assert not listed & trained
