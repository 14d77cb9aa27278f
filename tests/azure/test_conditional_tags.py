"""A read-modify-write of a host pool's tags (the pin move, a pool update) sends back the etag it read as
If-Match: a tag written by someone else in between fails the write with 412 (re-read and resend, as
engine/classify.py decides) instead of being silently overwritten. Production Reader and Writer, real SDK,
the sandbox's etags (tests/fixtures/etag.md)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from reconciler.azure.reads import Reader
from reconciler.azure.writes import Writer


@pytest.fixture
def pool_id(estate):
    return next(r["id"] for r in estate if r.get("type") == "Microsoft.DesktopVirtualization/hostPools")


def test_a_tag_write_in_between_fails_the_conditional_write_with_412(conn, pool_id):
    reader, writer = Reader(conn), Writer(conn)
    ours = reader.tags(pool_id)
    assert ours is not None and ours.etag

    theirs = reader.tags(pool_id)
    writer.patch_host_pool_tags(pool_id, {**theirs.tags, "owner": "someone-else"}, if_match=theirs.etag)

    with pytest.raises(HttpResponseError) as refused:
        writer.patch_host_pool_tags(pool_id, {**ours.tags, "ours": "1"}, if_match=ours.etag)
    assert refused.value.status_code == 412
    assert reader.tags(pool_id).tags.get("owner") == "someone-else"


def test_a_write_at_the_etag_just_read_succeeds_and_keeps_every_tag(conn, pool_id):
    reader, writer = Reader(conn), Writer(conn)
    writer.patch_host_pool_tags(pool_id, {**reader.tags(pool_id).tags, "owner": "someone-else"})
    now = reader.tags(pool_id)
    writer.patch_host_pool_tags(pool_id, {**now.tags, "ours": "1"}, if_match=now.etag)
    after = reader.tags(pool_id)
    assert after.tags["owner"] == "someone-else" and after.tags["ours"] == "1"
    assert after.etag != now.etag


def test_an_absent_resource_has_no_tags(conn, pool_id):
    assert Reader(conn).tags(pool_id + "-absent") is None
