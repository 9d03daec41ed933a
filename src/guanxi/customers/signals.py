"""Signals other modules listen to, so a writer need not know who reacts to its change."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by services after the transaction that changed a customer or what hangs on it
# (follow-ups, contacts, orders, tickets ...) has committed, with ``customer_ids`` (a list of
# primary keys) and ``reason`` (a short code such as "follow_up"). Rule-based tags listen.
customer_data_changed = Signal()
