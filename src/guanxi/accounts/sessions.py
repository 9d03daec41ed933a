"""Signed-in sessions per user (django-qsessions rows): list them and end them."""

from __future__ import annotations

from django.db.models import QuerySet
from qsessions.models import Session

from guanxi.accounts.models import User


def user_sessions(user: User) -> QuerySet:
    """The user's sessions, newest activity first."""
    return Session.objects.filter(user=user).order_by("-updated_at")


def end_user_sessions(user: User, *, keep_session_key: str | None = None) -> int:
    """End every session of ``user`` (but ``keep_session_key``); returns how many ended."""
    sessions = Session.objects.filter(user=user)
    if keep_session_key:
        sessions = sessions.exclude(session_key=keep_session_key)
    ended, _ = sessions.delete()  # nothing cascades from a session: the count is sessions
    return ended
