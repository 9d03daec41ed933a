"""Argon2 at its cheapest parameters, for the test suite only: tests create a dozen users
each, and the production parameters cost about 100 ms a hash on a busy two-core machine.
Stored hashes still read ``argon2$...`` and verify through the same code."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 8  # KiB: Argon2's minimum for one lane
    parallelism = 1
