"""FastSelect renders what Django's Select renders (browsers and app.js see no difference)."""

import re

import pytest
from django import forms

from guanxi.core.widgets import FastSelect

CHOICES = [
    ("", "全部"),
    ("1", "张三 <销售>"),
    (2, '李四 "A&B"'),
    ("分组", [("3", "王五"), ("4", "赵六")]),
]


def _normalised(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@pytest.mark.parametrize("value", [None, "", "1", 2, "4", "missing"])
def test_same_html_as_django_select(value):
    attrs = {"class": "form-select", "data-url": "/x?a=1&b=2"}
    django_html = forms.Select(attrs=attrs, choices=CHOICES).render("owner_id", value)
    fast_html = FastSelect(attrs=attrs, choices=CHOICES).render("owner_id", value)
    assert _normalised(str(fast_html)) == _normalised(str(django_html))


def test_bound_field_attributes_and_single_selection():
    class Form(forms.Form):
        who = forms.ChoiceField(
            choices=[("", "—"), ("a", "A"), ("a", "A again")], widget=FastSelect
        )

    html = str(Form({"who": "a"})["who"])
    assert 'id="id_who"' in html and " required" in html
    assert html.count(" selected") == 1  # a single select marks only the first match
