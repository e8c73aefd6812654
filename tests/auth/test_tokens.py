"""Addresses in one canonical form, and `next` targets that cannot leave the site."""

from __future__ import annotations

import pytest

from auth.tokens import hash_token, new_token, normalize_email, safe_next
from kernel.errors import UserError


@pytest.mark.parametrize("variant", [
    "alice@example.com", "Alice@Example.COM", "  alice@example.com ", "ＡＬＩＣＥ@ｅｘａｍｐｌｅ.ｃｏｍ",  # full-width
    "ALİCE@example.com".replace("İ", "I"),
])
def test_variants_of_one_address_are_one_address(variant):
    assert normalize_email(variant) == "alice@example.com"


@pytest.mark.parametrize(("raw", "message"), [
    ("", "type your e-mail"),
    ("   ", "type your e-mail"),
    ("not-an-address", "does not look like"),
    ("a@b", "does not look like"),
    ("two@@example.com", "does not look like"),
    ("x" * 10_000 + "@example.com", "too long"),
    ("alice@example.com\r\nBcc: everyone@example.com", "cannot have"),
    ("alice@example.com\nSubject: hi", "cannot have"),
    ("ali ce@example.com", "does not look like"),
    ("alice\u200b@example.com", "cannot have"),  # a zero-width space hiding in the address
])
def test_malformed_addresses_are_refused_with_a_sentence(raw, message):
    with pytest.raises(UserError, match=message):
        normalize_email(raw)


@pytest.mark.parametrize(("target", "expected"), [
    (None, "/"), ("", "/"), ("/", "/"), ("/?tab=account", "/?tab=account"), ("/studio#top", "/studio#top"),
    ("https://evil.example/", "/"), ("http://evil.example", "/"), ("//evil.example/x", "/"),
    ("/\\evil.example", "/"), ("\\\\evil.example", "/"), ("javascript:alert(1)", "/"),
    ("/ok\r\nSet-Cookie: x=1", "/"), ("evil.example/path", "/"), ("/" + "a" * 600, "/"),
])
def test_next_only_ever_points_inside_the_site(target, expected):
    assert safe_next(target) == expected


def test_tokens_are_random_and_only_their_hash_is_kept():
    first, second = new_token(), new_token()
    assert first != second and len(first) >= 40
    assert hash_token(first) != first and len(hash_token(first)) == 64
