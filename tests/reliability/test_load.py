"""R1 in the test budget: 8 simulated officers for 10 s against gunicorn, each submission resent
0-2 times (sometimes concurrently); every acknowledged case stored exactly once with its photo."""

from reliability.load import run_load


def test_short_load_loses_and_doubles_nothing(rel_server):
    base, db_url, _ = rel_server
    result = run_load(name="R1", label="load", base=base, database_url=db_url, clients=8, seconds=10)
    print(result.line)
    assert result.ok, result.line
    assert " lost=0 duplicated=0 5xx=0 " in result.line
