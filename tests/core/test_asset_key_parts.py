import re

from hypothesis import given
from hypothesis import strategies as st

from ops_pipeline.core.asset_key_parts import key_part


def test_plain_names_keep_their_key_part() -> None:
    assert [key_part(n) for n in ("customers", "InvoiceLine", "order_items", "t2")] == [
        "customers",
        "InvoiceLine",
        "order_items",
        "t2",
    ]


def test_names_that_used_to_collide_get_distinct_parts() -> None:
    names = ["顧客", "注文", "order items", "order-items", "order_items", "order__items", "_order_items", "", "_"]
    parts = [key_part(n) for n in names]
    assert len(set(parts)) == len(names)


@given(st.text(max_size=12), st.text(max_size=12))
def test_distinct_names_never_share_a_part(a: str, b: str) -> None:
    if a != b:
        assert key_part(a) != key_part(b)


@given(st.text(max_size=20))
def test_parts_stay_to_letters_digits_and_underscore(name: str) -> None:
    assert re.fullmatch(r"[A-Za-z0-9_]+", key_part(name))
    assert key_part(name) == key_part(name)
