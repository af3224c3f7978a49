"""FastSelect gives the HTML Django's Select gives (whitespace aside), escaping included."""

import re

import pytest
from django import forms

from core.widgets import FastSelect
from geo.models import Region, RegionLevel

CHOICES = [
    ("", "—"),
    ("a", "甲 & <乙>"),
    ("b", 'quote "q"'),
    ("组", [("c1", "组内一"), ("c2", "组内二")]),
]


def _squash(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


@pytest.mark.parametrize("value", ["", "a", "b", "c2", None, "missing"])
def test_it_renders_as_django_does(value: str | None) -> None:
    attrs = {"id": "id_x", "required": True, "aria-describedby": "x_help"}
    django = forms.Select(choices=CHOICES).render("x", value, attrs)
    fast = FastSelect(choices=CHOICES).render("x", value, attrs)
    assert _squash(fast) == _squash(django)


@pytest.mark.django_db
def test_it_renders_a_model_choice_field_as_django_does() -> None:
    cities = Region.objects.filter(level=RegionLevel.CITY, valid_to__isnull=True)
    chosen = cities.order_by("code")[3]

    class Slow(forms.Form):
        city = forms.ModelChoiceField(queryset=cities, required=False)

    class Fast(forms.Form):
        city = forms.ModelChoiceField(queryset=cities, required=False, widget=FastSelect)

    slow, fast = str(Slow(initial={"city": chosen})["city"]), str(Fast(initial={"city": chosen})["city"])
    assert _squash(fast) == _squash(slow)
    assert f'value="{chosen.pk}" selected' in fast
