"""Trusted proxies: the address the throttle and the audit see comes from X-Forwarded-For
only when the direct peer is a configured proxy, and then it is the rightmost hop that is
not one (everything left of it is whatever the client wrote)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col

from server_world import World, build_world, settings
from zctui.server.app import create_app
from zctui.server.models import Audit
from zctui.server.settings import ServerSettings

PROXIES = "10.9.0.0/16, 192.0.2.1"


@pytest.fixture
def proxied(server_engine: Engine, tmp_path: Path) -> World:
    app = create_app(settings(tmp_path, trusted_proxies=PROXIES), engine=server_engine)
    return build_world(app, server_engine, app.state.security)


def _failed_from(w: World, peer: str, forwarded: str | None) -> str:
    """One wrong password from `peer` with the header: the address the audit recorded."""
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    r = w.client(peer).post(
        "/auth/login",
        json={"id_number": w.people["applicant_a"].id_number, "password": "Wrong#pass1"},
        headers=headers,
    )
    assert r.status_code == 401
    with Session(w.engine) as db:
        q = select(Audit).where(col(Audit.event) == "login.failed").order_by(col(Audit.id))
        last = db.scalars(q).all()[-1]
    assert last.address is not None
    return last.address


def test_without_trusted_proxies_the_header_is_ignored(world: World) -> None:
    assert _failed_from(world, "10.0.0.1", "203.0.113.9") == "10.0.0.1"


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # A spoofed header from a peer that is no proxy: ignored.
        ("198.51.100.20", "203.0.113.9", "198.51.100.20"),
        # Through the proxy: the hop it appended, not what the client wrote before it.
        ("10.9.0.1", "6.6.6.6, 198.51.100.7", "198.51.100.7"),
        # Two proxies in a row: the rightmost hop that is not one of them.
        ("192.0.2.1", "198.51.100.7, 10.9.3.4", "198.51.100.7"),
        # No header, or junk where an address should be: the last address vouched for.
        ("10.9.0.1", None, "10.9.0.1"),
        ("10.9.0.1", "not-an-address", "10.9.0.1"),
        ("10.9.0.1", "junk, 10.9.0.2", "10.9.0.2"),
    ],
)
def test_client_address_behind_trusted_proxies(
    proxied: World, peer: str, forwarded: str | None, expected: str
) -> None:
    assert _failed_from(proxied, peer, forwarded) == expected


def test_spoofed_header_does_not_escape_the_lock(proxied: World) -> None:
    """Five failures from one untrusted peer lock it, whatever address each one claims."""
    s = proxied.sec.settings
    for n in range(s.lock_failures):
        _failed_from(proxied, "198.51.100.20", f"203.0.113.{n}")
    r = proxied.client("198.51.100.20").post(
        "/auth/login",
        json={"id_number": proxied.people["applicant_a"].id_number, "password": "Wrong#pass1"},
        headers={"X-Forwarded-For": "203.0.113.200"},
    )
    assert r.status_code == 429
    # The same proxy forwarding another client is not caught by that lock.
    assert _failed_from(proxied, "10.9.0.1", "198.51.100.30") == "198.51.100.30"


def test_a_bad_trusted_proxy_setting_is_refused_at_startup() -> None:
    with pytest.raises(ValidationError):
        ServerSettings(trusted_proxies="10.0.0.300")
    assert ServerSettings(trusted_proxies="").trusted_proxies == ""
