"""Header names and phone-column detection: dialer.leads.headers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.leads.headers import (
    PHONE_COLUMN_NAMES,
    ROW_COLUMN,
    column_names,
    find_phone_column,
    find_phone_columns,
    snake_case,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("First Name", "first_name"),
        ("E-mail Address", "e_mail_address"),
        ("Phone #", "phone"),
        (" ZIP code ", "zip_code"),
        ("FirstName", "first_name"),
        ("firstName", "first_name"),
        ("ZIPCode", "zip_code"),
        ("PHONE NUMBER", "phone_number"),
        ("phone_number", "phone_number"),
        ("Phone No.", "phone_no"),
        ("Address2Line", "address2_line"),
        ("Prénom", "prénom"),
        ("Straße", "straße"),
        ("\uff12nd Phone", "_2nd_phone"),  # a full-width 2
        ("2024 Score", "_2024_score"),
        ("__private__", "private"),
        ("a  --  b", "a_b"),
        ("", ""),
        ("   ", ""),
        ("#", ""),
    ],
)
def test_snake_case(header: str, expected: str) -> None:
    assert snake_case(header) == expected


@given(st.text())
def test_snake_case_is_an_identifier_or_empty(header: str) -> None:
    name = snake_case(header)
    assert name == "" or name.isidentifier()
    assert "__" not in name
    assert not name.endswith("_")
    assert name == name.lower()


@given(st.text())
def test_snake_case_is_idempotent(header: str) -> None:
    name = snake_case(header)
    assert snake_case(name) == name


def test_column_names_fill_empty_headers_by_position() -> None:
    assert column_names(["Name", "", "#", "Phone"]) == ("name", "column_2", "column_3", "phone")


def test_column_names_number_repeats_in_order() -> None:
    assert column_names(["Phone", "phone", "PHONE", "Phone 2"]) == (
        "phone",
        "phone_2",
        "phone_3",
        "phone_2_2",
    )


def test_column_names_keep_row_for_the_row_number() -> None:
    assert column_names(["Row", "Phone", "Lead Row"]) == ("lead_row", "phone", "lead_row_2")


@given(st.lists(st.text(max_size=8), max_size=12))
def test_column_names_are_unique_identifiers(headers: list[str]) -> None:
    names = column_names(headers)
    assert len(names) == len(headers)
    assert len(set(names)) == len(names)
    assert ROW_COLUMN not in names
    assert all(name.isidentifier() for name in names)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (("first_name", "phone", "mobile"), "phone"),
        (("mobile", "phone_number"), "phone_number"),
        (("name", "cell"), "cell"),
        (("name", "tel"), "tel"),
        (("name", "number", "whatsapp"), "whatsapp"),
        (("name", "phone_type", "work_phone"), "work_phone"),
        (("name", "primary_mobile", "home_phone"), "primary_mobile"),
        (("name", "email", "phone_type"), None),
        ((), None),
    ],
)
def test_find_phone_column(columns: tuple[str, ...], expected: str | None) -> None:
    assert find_phone_column(columns) == expected


def test_phone_column_names_are_their_own_snake_case() -> None:
    assert all(snake_case(name) == name for name in PHONE_COLUMN_NAMES)
    assert len(set(PHONE_COLUMN_NAMES)) == len(PHONE_COLUMN_NAMES)


@pytest.mark.parametrize(
    "header",
    [
        "Téléphone",
        "TELEPHONE",
        "Teléfono",
        "telefono",
        "Telefon",
        "Tele fon",
        "Telefonnummer",
        "Handy",
        "Handynummer",
        "Celular",
        "Móvil",
        "MOVIL",
        "Portable",
        "Cellulare",
        "Telefone",
        "Número de telefone",
        "Número de teléfono",
        "Numéro de téléphone",
        "Telefoonnummer",
        "Mobiel",
        "Numer telefonu",
        "Teléfono Móvil",
        "Tél. portable",
        "Mobile Phone Number",
        "GSM",
    ],
)
def test_phone_headers_in_our_users_languages(header: str) -> None:
    columns = column_names(["Nom", header, "Ville"])
    assert find_phone_column(columns) == columns[1]


@pytest.mark.parametrize(
    "header", ["Phone Type", "Telefon Typ", "Numero", "Nummer", "Mobile Carrier", "Portabilité"]
)
def test_words_that_are_not_phone_columns(header: str) -> None:
    assert find_phone_column(column_names(["Name", header])) is None


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (("phone_number", "mobile_phone_number"), ("phone_number", "mobile_phone_number")),
        (("mobile", "name", "phone"), ("phone", "mobile")),
        (("handy", "telefon"), ("telefon", "handy")),
        (("home_phone", "number", "work_phone"), ("home_phone", "work_phone")),
        (("name", "number"), ("number",)),
        (("name", "phone_type"), ()),
    ],
)
def test_find_phone_columns_most_likely_first(
    columns: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    assert find_phone_columns(columns) == expected
