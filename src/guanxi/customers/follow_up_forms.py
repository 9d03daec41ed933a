"""Forms of the follow-up and interaction entry: they check shape only, and offer the
dictionary choices; the rules live in customers.follow_ups."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.dictionaries import dictionary_choices
from guanxi.customers import follow_ups
from guanxi.customers.models import Contact

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    """The browser's date-time picker (value as YYYY-MM-DDTHH:MM in the system time zone)."""

    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=DATETIME_FORMAT, **kwargs)


def _now_local() -> str:
    return timezone.localtime().strftime(DATETIME_FORMAT)


class FollowUpForm(forms.Form):
    method = forms.ChoiceField(label=_("跟进方式"), required=False)
    contact_id = forms.ChoiceField(label=_("联系人"), required=False)
    followed_at = forms.DateTimeField(
        label=_("跟进时间"), required=False, widget=LocalDateTimeInput()
    )
    content = forms.CharField(
        label=_("跟进内容"),
        required=False,
        max_length=follow_ups.CONTENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    result = forms.ChoiceField(label=_("跟进结果"), required=False)
    next_follow_up_at = forms.DateTimeField(
        label=_("下次跟进时间"), required=False, widget=LocalDateTimeInput()
    )
    next_plan = forms.CharField(
        label=_("下次跟进计划"), required=False, max_length=follow_ups.PLAN_MAX
    )
    # The version an edit was based on (edits only; a stale save is refused, not merged).
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, contacts: list[Contact] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        kwargs.setdefault("initial", {}).setdefault("followed_at", _now_local())
        super().__init__(*args, **kwargs)
        blank = [("", "—")]
        self.fields["method"].choices = blank + dictionary_choices(follow_ups.METHOD_DICT)
        self.fields["result"].choices = blank + dictionary_choices(follow_ups.RESULT_DICT)
        self.fields["contact_id"].choices = blank + [
            (str(c.pk), f"{c.name}（{c.title}）" if c.title else c.name) for c in contacts
        ]
        for name, field in self.fields.items():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)
            field.widget.attrs.setdefault("id", f"fu-{name}")
        for name in ("method", "content", "followed_at"):
            self.fields[name].widget.attrs["aria-required"] = "true"
            self.fields[name].required_mark = True  # type: ignore[attr-defined]


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(label=_("互动类型"), required=False)
    subject = forms.CharField(label=_("主题"), required=False, max_length=follow_ups.SUBJECT_MAX)
    occurred_at = forms.DateTimeField(
        label=_("发生时间"), required=False, widget=LocalDateTimeInput()
    )
    details = forms.CharField(
        label=_("详情"),
        required=False,
        max_length=follow_ups.CONTENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("occurred_at", _now_local())
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "—"), *dictionary_choices(follow_ups.KIND_DICT)]
        for name, field in self.fields.items():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)
            field.widget.attrs.setdefault("id", f"ia-{name}")
        for name in ("kind", "subject"):
            self.fields[name].required_mark = True  # type: ignore[attr-defined]
