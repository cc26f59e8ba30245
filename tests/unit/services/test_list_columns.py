"""A list row is built positionally from the statement's columns: their order is the view's."""

from __future__ import annotations

from dataclasses import fields

from clientbase.services import customers
from clientbase.services.customer_fields import PERSONAL_FIELDS


def test_list_columns_are_in_the_order_of_the_view_fields() -> None:
    names = [f.name for f in fields(customers.CustomerView)]
    assert [c.name for c in customers._LIST_COLUMNS] == names
    assert [c.name for c in customers._PSEUDONYMOUS_COLUMNS] == names


def test_a_pseudonymised_list_does_not_read_personal_columns() -> None:
    read = {
        c.name
        for c in customers._PSEUDONYMOUS_COLUMNS
        if getattr(c, "table", None) is customers._customers
    }
    assert read, "the statement reads the customers table"
    assert not read & set(PERSONAL_FIELDS)
