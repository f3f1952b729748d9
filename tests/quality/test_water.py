"""GB 3838-2002 Table 1 single-factor classes: each factor at and just past each class edge."""

from __future__ import annotations

import pytest

from quality.water import LAKE, RIVER, factor_class, meets_target, water_class

# (factor, value, class): the limit itself is in the class, the next step is in the next one.
EDGES = [
    # dissolved oxygen, a lower bound: ≥ 7.5 / 6 / 5 / 3 / 2
    ("w01009", 9.0, "I"),
    ("w01009", 7.5, "I"),
    ("w01009", 7.49, "II"),
    ("w01009", 6, "II"),
    ("w01009", 5.99, "III"),
    ("w01009", 5, "III"),
    ("w01009", 4.99, "IV"),
    ("w01009", 3, "IV"),
    ("w01009", 2.99, "V"),
    ("w01009", 2, "V"),
    ("w01009", 1.99, "劣Ⅴ"),
    # permanganate index ≤ 2 / 4 / 6 / 10 / 15
    ("w01019", 2, "I"),
    ("w01019", 2.01, "II"),
    ("w01019", 4, "II"),
    ("w01019", 4.01, "III"),
    ("w01019", 6, "III"),
    ("w01019", 6.01, "IV"),
    ("w01019", 10, "IV"),
    ("w01019", 10.01, "V"),
    ("w01019", 15, "V"),
    ("w01019", 15.01, "劣Ⅴ"),
    # COD ≤ 15 / 15 / 20 / 30 / 40: I and II share 15, so 15 is class I and just above is III
    ("w01018", 15, "I"),
    ("w01018", 15.01, "III"),
    ("w01018", 20, "III"),
    ("w01018", 20.01, "IV"),
    ("w01018", 30, "IV"),
    ("w01018", 30.01, "V"),
    ("w01018", 40, "V"),
    ("w01018", 40.01, "劣Ⅴ"),
    # BOD₅ ≤ 3 / 3 / 4 / 6 / 10
    ("w01017", 3, "I"),
    ("w01017", 3.01, "III"),
    ("w01017", 4, "III"),
    ("w01017", 4.01, "IV"),
    ("w01017", 6, "IV"),
    ("w01017", 6.01, "V"),
    ("w01017", 10, "V"),
    ("w01017", 10.01, "劣Ⅴ"),
    # ammonia nitrogen ≤ 0.15 / 0.5 / 1.0 / 1.5 / 2.0
    ("w21003", 0.15, "I"),
    ("w21003", 0.151, "II"),
    ("w21003", 0.5, "II"),
    ("w21003", 0.501, "III"),
    ("w21003", 1.0, "III"),
    ("w21003", 1.001, "IV"),
    ("w21003", 1.5, "IV"),
    ("w21003", 1.501, "V"),
    ("w21003", 2.0, "V"),
    ("w21003", 2.001, "劣Ⅴ"),
]
TP_RIVER = [
    (0.02, "I"),
    (0.021, "II"),
    (0.1, "II"),
    (0.101, "III"),
    (0.2, "III"),
    (0.201, "IV"),
    (0.3, "IV"),
    (0.301, "V"),
    (0.4, "V"),
    (0.401, "劣Ⅴ"),
]
TP_LAKE = [
    (0.01, "I"),
    (0.011, "II"),
    (0.025, "II"),
    (0.026, "III"),
    (0.05, "III"),
    (0.051, "IV"),
    (0.1, "IV"),
    (0.101, "V"),
    (0.2, "V"),
    (0.201, "劣Ⅴ"),
]


@pytest.mark.parametrize("factor,value,expected", EDGES)
def test_factor_at_each_class_edge(factor, value, expected):
    assert factor_class(factor, value) == expected
    assert factor_class(factor, value, LAKE) == expected  # only TP differs for lakes


@pytest.mark.parametrize("value,expected", TP_RIVER)
def test_total_phosphorus_in_rivers(value, expected):
    assert factor_class("w21011", value, RIVER) == expected


@pytest.mark.parametrize("value,expected", TP_LAKE)
def test_total_phosphorus_in_lakes_and_reservoirs(value, expected):
    assert factor_class("w21011", value, LAKE) == expected


def test_float_noise_of_a_mean_stays_on_the_limit():
    mean = (0.1 + 0.2) / 2  # 0.15000000000000002
    assert mean != 0.15 and factor_class("w21003", mean) == "I"


def test_the_worst_factor_sets_the_class_and_ties_are_listed():
    values = {"w01009": 6.5, "w01019": 3.0, "w01018": 18, "w01017": 2.5, "w21003": 1.2, "w21011": 0.25}
    r = water_class(values)  # II, II, III, I, IV, IV
    assert r.water_class == "IV" and r.worst == ("w21003", "w21011")
    assert r.factor_classes == {
        "w01009": "II",
        "w01019": "II",
        "w01018": "III",
        "w01017": "I",
        "w21003": "IV",
        "w21011": "IV",
    }
    # the same TP in a lake is beyond class V (0.2 mg/L there)
    assert water_class(values, LAKE).water_class == "劣Ⅴ"
    assert water_class(values, LAKE).worst == ("w21011",)


def test_missing_factors_are_left_out_and_none_at_all_gives_no_class():
    assert water_class({"w01009": 8.0, "w21003": None}).water_class == "I"
    assert water_class({}) is None
    assert water_class({"w01010": 20.0}) is None  # water temperature has no class


def test_meets_target_is_no_worse_than_the_target():
    assert meets_target("II", "III") is True
    assert meets_target("III", "III") is True
    assert meets_target("IV", "III") is False
    assert meets_target("劣Ⅴ", "V") is False
    assert meets_target("I", None) is None


def test_negative_values_are_refused():
    with pytest.raises(ValueError):
        factor_class("w21003", -0.1)
