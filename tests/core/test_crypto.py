"""Encrypted fields and blind indexes: round trip, rotation, tamper detection."""

from __future__ import annotations

import base64
import os

import pytest
from django.test import override_settings

from guanxi.core import crypto


def _key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def test_round_trip_and_random_nonce():
    a, b = crypto.encrypt("13912345678"), crypto.encrypt("13912345678")
    assert a != b
    assert crypto.decrypt(a) == crypto.decrypt(b) == "13912345678"
    assert crypto.encrypt("") == "" and crypto.decrypt("") == ""


def test_rotation_old_values_still_decrypt_new_use_new_key():
    old, new = _key("k1"), _key("k2")
    with override_settings(ENCRYPTION_KEYS=old):
        token = crypto.encrypt("秘密")
    with override_settings(ENCRYPTION_KEYS=f"{new},{old}"):
        assert crypto.decrypt(token) == "秘密"
        assert crypto.needs_reencryption(token)
        fresh = crypto.encrypt("秘密")
        assert fresh.startswith("k2$") and not crypto.needs_reencryption(fresh)


def test_tampered_or_unknown_key_fails_loudly():
    token = crypto.encrypt("13912345678")
    key_id, _, body = token.partition("$")
    raw = bytearray(base64.b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(f"{key_id}${base64.b64encode(bytes(raw)).decode()}")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("k9$" + body)


def test_blind_index_is_keyed_deterministic_and_purpose_bound():
    assert crypto.blind_index("mobile", "13912345678") == crypto.blind_index(
        "mobile", "13912345678"
    )
    assert crypto.blind_index("mobile", "13912345678") != crypto.blind_index("phone", "13912345678")
    assert crypto.blind_index("mobile", "") == ""
    with override_settings(BLIND_INDEX_KEY=base64.b64encode(os.urandom(32)).decode()):
        crypto._bidx_key.cache_clear()
        other = crypto.blind_index("mobile", "13912345678")
    crypto._bidx_key.cache_clear()
    assert other != crypto.blind_index("mobile", "13912345678")
