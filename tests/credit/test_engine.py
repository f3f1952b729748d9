"""The rule engine alone (pure functions): bands, expiry, veto, rewards. Expected numbers are
the default scheme's (the README's rule table: green 11–12, blue 6–10, yellow 3–5, red 1–2, black ≤ 0)."""

import datetime as dt

import pytest

from credit.engine import Entry, Scheme, add_months, band, reward_due, standing

S = Scheme()
D = dt.date


@pytest.mark.parametrize(
    "score,level",
    [
        (12, "green"),
        (11, "green"),
        (10, "blue"),
        (6, "blue"),
        (5, "yellow"),
        (3, "yellow"),
        (2, "red"),
        (1, "red"),
        (0, "black"),
        (-6, "black"),
    ],
)
def test_bands(score, level):
    assert band(score, S) == level


def test_add_months_clamps_to_month_end():
    assert add_months(D(2026, 8, 31), 6) == D(2027, 2, 28)
    assert add_months(D(2027, 8, 31), 6) == D(2028, 2, 29)
    assert add_months(D(2026, 1, 15), 12) == D(2027, 1, 15)


def test_deductions_add_up_and_expire():
    fine = Entry(1, "penalty", -2, D(2026, 1, 10), D(2026, 7, 10))
    stop = Entry(2, "penalty", -6, D(2026, 3, 1), D(2027, 3, 1))
    assert standing([fine, stop], D(2026, 1, 9), S) == (12, "green")
    assert standing([fine, stop], D(2026, 1, 10), S) == (10, "blue")
    assert standing([fine, stop], D(2026, 3, 1), S) == (4, "yellow")
    assert standing([fine, stop], D(2026, 7, 10), S) == (6, "blue")  # the fine's last day was 9 July
    assert standing([fine, stop], D(2027, 3, 1), S) == (12, "green")


def test_veto_is_red_at_once_and_black_stays_black():
    veto = Entry(1, "veto", 0, D(2026, 2, 1), D(2027, 2, 1), veto=True)
    assert standing([veto], D(2026, 2, 1), S) == (12, "red")
    crime = Entry(2, "penalty", -12, D(2026, 2, 1), D(2027, 2, 1), veto=True)
    assert standing([veto, crime], D(2026, 2, 1), S) == (0, "black")
    assert standing([veto], D(2027, 2, 1), S) == (12, "green")


def test_repair_stops_counting_from_its_day():
    fine = Entry(1, "penalty", -3, D(2026, 1, 1), D(2026, 7, 1), repaired_on=D(2026, 4, 2))
    assert standing([fine], D(2026, 4, 1), S) == (9, "blue")
    assert standing([fine], D(2026, 4, 2), S) == (12, "green")


def test_reward_needs_commitment_and_clean_months_and_counts_with_its_deduction():
    stop = Entry(1, "penalty", -6, D(2026, 1, 5), D(2027, 1, 5))
    assert reward_due([stop], commitment_on=None, on=D(2026, 9, 1), scheme=S) is None
    # commitment on 1 Feb: clean for 3 months from then → due on 1 May, not 30 April
    assert reward_due([stop], commitment_on=D(2026, 2, 1), on=D(2026, 4, 30), scheme=S) is None
    assert reward_due([stop], commitment_on=D(2026, 2, 1), on=D(2026, 5, 1), scheme=S) == 1
    reward = Entry(2, "reward", 1, D(2026, 5, 1), D(2027, 1, 5), offsets=1)
    assert standing([stop, reward], D(2026, 5, 1), S) == (7, "blue")
    # the next reward only three months after the last one
    assert reward_due([stop, reward], commitment_on=D(2026, 2, 1), on=D(2026, 7, 31), scheme=S) is None
    assert reward_due([stop, reward], commitment_on=D(2026, 2, 1), on=D(2026, 8, 1), scheme=S) == 1
    # a new deduction restarts the clean period
    warning = Entry(3, "penalty", -1, D(2026, 7, 1), D(2027, 1, 1))
    assert reward_due([stop, reward, warning], commitment_on=D(2026, 2, 1), on=D(2026, 8, 1), scheme=S) is None
    # the reward never outlives (or outgrows) its deduction
    assert standing([stop, reward], D(2027, 1, 5), S) == (12, "green")
