"""A small varied population for the stats tests: a fixed seed, every category, care type,
rating, schooling, sex, age band (16–17 too) and risk colour, in the World's four villages."""

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from geo.models import Region
from registry import choices as c
from registry.models import Child
from testing.world import World, make_child

SEED = 20260601


def _parent(rng: random.Random, role: str, away_province: Region) -> dict[str, Any]:
    status = rng.choice(
        [c.ParentStatus.AWAY, c.ParentStatus.AWAY, c.ParentStatus.AT_HOME, c.ParentStatus.DECEASED]
    )
    name = "父亲" if role == "father" else "母亲"
    if status == c.ParentStatus.AWAY:
        phone = "" if rng.random() < 0.2 else f"139{rng.randrange(10**8):08d}"
        return {"name": name, "status": status, "phone": phone, "work_province": away_province}
    return {"name": name, "status": status}


def build_population(world: World, *, size: int = 40, seed: int = SEED) -> list[Child]:
    rng = random.Random(seed)
    today = timezone.localdate()
    admin = world.users["county_admin"]
    province = Region.objects.get(code="44", valid_to__isnull=True)
    villages = [world.village_a1, world.village_a1, world.village_a2, world.village_b1, world.village_other]
    made = []
    for n in range(size):
        age = rng.randrange(0, 18)
        birth = today - dt.timedelta(days=age * 365 + rng.randrange(1, 360))
        older = age >= 16
        made.append(
            make_child(
                rng.choice(villages),
                admin,
                name=f"统计{n:02d}",
                sex=rng.choice(c.Sex.values),
                birth_date=birth,
                schooling=rng.choice(c.Schooling.values),
                care_type=rng.choice(c.CareType.values),
                guardianship_rating=rng.choice(c.Rating.values),
                is_in_difficulty=older or rng.random() < 0.3,
                is_de_facto_orphan=rng.random() < 0.15,
                current_address="" if rng.random() < 0.15 else "某村 3 号",
                hukou_place="" if rng.random() < 0.2 else "广西合浦县",
                father=_parent(rng, "father", province),
                mother=_parent(rng, "mother", province),
            )
        )
    # Files whose colour is not computed yet ("未评定"), and a couple of exited files.
    Child.objects.filter(pk__in=[made[0].pk, made[1].pk]).update(risk_colour="")
    from registry.services import child_file_exit

    for child in made[2:4]:
        child_file_exit(
            user=admin, child=child, expected_version=child.version, reason=c.ExitReason.MOVED_AWAY, on=today
        )
    return made
