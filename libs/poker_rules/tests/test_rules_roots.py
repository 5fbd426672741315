"""Root derivations (spec poker §0.2 and §3 step 1), pinned vectors."""

import uuid

import pytest

from poker_rules.roots import hand_root, hex_key, poker_root

TABLE_MAIN = bytes.fromhex("bd286483613c2fbc5aa1de60e575ee97")


def test_table_main_root_vector():
    assert poker_root("table", "main") == TABLE_MAIN
    assert hex_key(poker_root("table", "main")) == "bd286483613c2fbc5aa1de60e575ee97"


def test_roots_differ_by_domain_and_key():
    assert poker_root("player", "main") != TABLE_MAIN
    assert poker_root("table", "Main") != TABLE_MAIN
    assert len(poker_root("player", "alice@example.com")) == 16


def test_poker_root_refuses_bad_input():
    with pytest.raises(ValueError, match="domain"):
        poker_root("", "main")
    with pytest.raises(ValueError):
        poker_root("table", None)  # type: ignore[arg-type]


def test_hex_key_is_32_lower_case_hex():
    key = hex_key(bytes(range(16)))
    assert key == "000102030405060708090a0b0c0d0e0f"
    assert hex_key(bytes([0xAB] * 16)) == "ab" * 16
    with pytest.raises(ValueError, match="16 bytes"):
        hex_key(b"short")


def test_hand_root_vectors():
    assert hand_root(TABLE_MAIN, 1).hex() == "d6fd3c29da1b58458453e4fe043a2cfe"
    assert hand_root(TABLE_MAIN, 2).hex() == "7cdc8160bf5c5060b7d096c4982d9ae1"


def test_hand_root_is_a_version_5_uuid_keyed_by_the_table_root():
    assert uuid.UUID(bytes=hand_root(TABLE_MAIN, 7)).version == 5
    other = poker_root("table", "other")
    assert hand_root(other, 1) != hand_root(TABLE_MAIN, 1)


@pytest.mark.parametrize("number", [0, -1, True, 1.0, "1"])
def test_hand_root_refuses_non_positive_hand_numbers(number):
    with pytest.raises(ValueError, match="hand_number"):
        hand_root(TABLE_MAIN, number)


def test_hand_root_refuses_a_bad_table_root():
    with pytest.raises(ValueError, match="table_root"):
        hand_root(b"table:main", 1)
