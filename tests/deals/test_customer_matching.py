"""The customer-matching rule behind deal-registration conflicts (deals/models.py)."""

import pytest

from deals.models import CustomerKey, normalise_company_name, registrable_domain


@pytest.mark.parametrize(
    "name",
    [
        "Acme Inc.",
        "ACME, Incorporated",
        "acme",
        "Acme Corp",
        "Acme Corporation",
        "The Acme Company",
        "Acme, LLC",
        "Acme L.L.C.",
        "  Acme   Ltd. ",
        "Acme GmbH",
        "Acme S.A.",
        "ACME PLC",
    ],
)
def test_legal_forms_punctuation_and_case_are_one_company(name):
    assert normalise_company_name(name) == "acme"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Müller & Söhne GmbH", "Muller and Sohne"),
        ("Procter & Gamble Co.", "PROCTER AND GAMBLE"),
        ("Café Noir SARL", "cafe noir"),
        ("Acme Bricks Ltd", "acme-bricks limited"),
    ],
)
def test_accents_ampersands_and_hyphens(a, b):
    assert normalise_company_name(a) == normalise_company_name(b)


def test_a_name_that_is_only_a_legal_word_is_kept():
    assert normalise_company_name("Company") == "company"
    assert normalise_company_name("The Group") == "group"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acme.com", "acme.com"),
        ("https://www.acme.com/about", "acme.com"),
        ("WWW.ACME.COM", "acme.com"),
        ("sales.eu.acme.com", "acme.com"),
        ("http://acme.com:8080/x?y", "acme.com"),
        ("www.acmebricks.co.uk", "acmebricks.co.uk"),
        ("shop.acmebricks.co.uk", "acmebricks.co.uk"),
        ("acme.com.au", "acme.com.au"),
        ("", ""),
    ],
)
def test_registrable_domain(value, expected):
    assert registrable_domain(value) == expected


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("Acme Inc.", ""), ("ACME, Incorporated", "")),
        (("Acme Inc.", ""), ("", "acme.com")),
        (("Acme Corp", "www.acme.com"), ("Totally Different Name", "https://sales.acme.com")),
        (("Acme Bricks Ltd", ""), ("", "acmebricks.co.uk")),
        (("The Acme Company", ""), ("Acme, LLC", "acme.io")),
    ],
)
def test_variants_of_one_customer_match_and_say_why(one, other):
    a, b = CustomerKey.of(*one), CustomerKey.of(*other)
    assert a.match_reasons(b), (a, b)
    assert b.match_reasons(a), (b, a)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("Acme Corp", "acme.com"), ("Acme Bricks Ltd", "acmebricks.co.uk")),
        (("Acme Corp", ""), ("Acme Bricks Ltd", "")),
        (("Northwind", "northwind.example"), ("Northwind Traders", "northwindtraders.com")),
    ],
)
def test_look_alikes_are_different_customers(one, other):
    a, b = CustomerKey.of(*one), CustomerKey.of(*other)
    assert a.match_reasons(b) == []
    assert b.match_reasons(a) == []


def test_reasons_name_the_rule_that_matched():
    mine = CustomerKey.of("Acme Inc.", "")
    theirs = CustomerKey.of("", "www.acme.com")
    assert mine.match_reasons(theirs) == ["this name matches their domain acme.com"]
    assert CustomerKey.of("X", "acme.com").match_reasons(CustomerKey.of("Y", "acme.com")) == [
        "same domain (acme.com)"
    ]
