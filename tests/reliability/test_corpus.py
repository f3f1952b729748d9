"""R3's bad-file corpus through every upload endpoint: a clear 4xx each, nothing left behind."""

from reliability import hostile
from reliability.load import token


def test_bad_files_get_4xx_and_leave_nothing(rel_server):
    base, db_url, media = rel_server
    ok, summary, bad = hostile.run_corpus(
        base, tok=token(base, "city_supervisor"), database_url=db_url, media_root=media
    )
    print(summary)
    assert not bad, bad
    assert "upload_endpoints=" in summary and "not_4xx=" in summary
