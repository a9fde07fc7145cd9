"""R1 login on the server: default password and must-change, R1.2 rules, expiry of the
default, sessions (idle, absolute, revoked), lockout, spraying, unknown accounts."""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session
from sqlmodel import col

from server_world import NEW_PASSWORD, World, make_id
from zctui.domain.models import utcnow
from zctui.domain.validators import DEFAULT_PASSWORD
from zctui.server.models import Account, Audit, AuthSession


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def events(world: World, name: str) -> list[Audit]:
    with Session(world.engine) as db:
        return list(db.scalars(select(Audit).where(col(Audit.event) == name)))


def test_r1_2_default_password_allows_only_the_change(world: World) -> None:
    r = world.login("applicant_a", DEFAULT_PASSWORD)
    assert r.status_code == 200
    body = r.json()
    assert body["must_change_password"] is True
    h = bearer(body["token"])
    c = world.client()
    for method, path in (("get", "/auth/me"), ("get", "/applications"), ("get", "/users")):
        refused = getattr(c, method)(path, headers=h)
        assert refused.status_code == 403
        assert "初始密码" in refused.json()["detail"]
    changed = c.post(
        "/auth/password",
        json={"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        headers=h,
    )
    assert changed.status_code == 204
    # R1.2: after the change the person logs in again; the old session is over.
    assert c.get("/auth/me", headers=h).status_code == 401
    assert world.login("applicant_a", DEFAULT_PASSWORD).status_code == 401
    again = world.login("applicant_a")
    assert again.json()["must_change_password"] is False
    me = c.get("/auth/me", headers=bearer(again.json()["token"]))
    assert me.status_code == 200
    assert me.json()["unit_name"] == world.people["applicant_a"].unit


@pytest.mark.parametrize(
    ("new", "status", "phrase"),
    [
        (DEFAULT_PASSWORD, 422, "不能继续使用初始密码"),
        ("130902198010100011", 422, "不能与身份证号相同"),  # the demo applicant's ID number
        ("Ab#19801010", 422, "不能包含出生日期"),  # its birth date
        ("Password1!", 422, "过于常见"),  # in data/common_passwords.txt
        ("short#1", 422, "长度应为 8–20 位"),
        ("abcdefgh12", 422, "当前缺少：特殊符号"),
        ("Zc#2024abc!", 204, None),  # meets every rule
    ],
)
def test_r1_2_new_password_rules(world: World, new: str, status: int, phrase: str | None) -> None:
    token = world.login("applicant_a", DEFAULT_PASSWORD).json()["token"]
    r = world.client().post(
        "/auth/password",
        json={"old_password": DEFAULT_PASSWORD, "new_password": new},
        headers=bearer(token),
    )
    assert r.status_code == status, r.text
    if phrase is not None:
        assert phrase in r.json()["detail"]


def test_r1_2_common_password_refused(world: World) -> None:
    from zctui.data.catalog import common_passwords
    from zctui.domain.validators import check_password

    # Listed, and good by every other rule: only the list can refuse it.
    common = "!QAZ2wsx"
    assert common in common_passwords()
    assert check_password(common, common=frozenset()) is None
    token = world.login("applicant_a", DEFAULT_PASSWORD).json()["token"]
    r = world.client().post(
        "/auth/password",
        json={"old_password": DEFAULT_PASSWORD, "new_password": common},
        headers=bearer(token),
    )
    assert r.status_code == 422
    assert "常见" in r.json()["detail"]


def test_r1_2_wrong_old_password_refused(world: World) -> None:
    token = world.login("applicant_a", DEFAULT_PASSWORD).json()["token"]
    r = world.client().post(
        "/auth/password",
        json={"old_password": "nope", "new_password": NEW_PASSWORD},
        headers=bearer(token),
    )
    assert r.status_code == 403
    assert "原密码" in r.json()["detail"]


def test_r1_2_unused_default_expires(world: World) -> None:
    days = world.sec.settings.default_password_days
    with Session(world.engine) as db:
        db.execute(
            update(Account)
            .where(col(Account.id) == world.people["applicant_b"].id)
            .values(default_set_at=utcnow() - timedelta(days=days, minutes=1))
        )
        db.commit()
    r = world.login("applicant_b", DEFAULT_PASSWORD)
    assert r.status_code == 403
    assert "已失效" in r.json()["detail"] and str(days) in r.json()["detail"]
    assert events(world, "login.default_expired")
    # R1.3: a reset by the unit admin starts the clock again.
    h = world.ready("admin_b")
    reset = world.client().post(
        f"/users/{world.people['applicant_b'].id}/reset-password", headers=h
    )
    assert reset.status_code == 204
    assert world.login("applicant_b", DEFAULT_PASSWORD).status_code == 200


def test_r1_3_reset_revokes_sessions_and_forces_change(world: World) -> None:
    h = world.ready("applicant_a")
    c = world.client()
    assert c.get("/auth/me", headers=h).status_code == 200
    admin = world.ready("admin_a")
    assert (
        c.post(f"/users/{world.people['applicant_a'].id}/reset-password", headers=admin)
    ).status_code == 204
    assert c.get("/auth/me", headers=h).status_code == 401
    assert world.login("applicant_a").status_code == 401  # the old password is gone
    r = world.login("applicant_a", DEFAULT_PASSWORD)
    assert r.json()["must_change_password"] is True
    assert events(world, "password.reset")


def test_r1_1_session_idle_and_absolute_timeouts(world: World) -> None:
    s = world.sec.settings
    h = world.ready("applicant_a")
    c = world.client()
    token_hash = _only_live_session(world)
    with Session(world.engine) as db:  # idle too long
        db.execute(
            update(AuthSession)
            .where(col(AuthSession.token_hash) == token_hash)
            .values(last_seen=utcnow() - timedelta(minutes=s.session_idle_minutes, seconds=1))
        )
        db.commit()
    assert c.get("/auth/me", headers=h).status_code == 401
    h = _login(world)
    token_hash = _only_live_session(world)
    with Session(world.engine) as db:  # active, but logged in too long ago
        db.execute(
            update(AuthSession)
            .where(col(AuthSession.token_hash) == token_hash)
            .values(created_at=utcnow() - timedelta(hours=s.session_absolute_hours, seconds=1))
        )
        db.commit()
    assert c.get("/auth/me", headers=h).status_code == 401


def test_r1_1_last_seen_is_written_at_most_once_per_interval_idle_still_ends(
    world: World,
) -> None:
    """Reads do not write last_seen on every request, only once it is session_touch_seconds
    old; the idle timeout is judged on what was written, so it can end early, never late."""
    s = world.sec.settings
    h = world.ready("applicant_a")
    c = world.client()
    token_hash = _only_live_session(world)

    def set_seen(at: datetime) -> None:
        with Session(world.engine) as db:
            db.execute(
                update(AuthSession)
                .where(col(AuthSession.token_hash) == token_hash)
                .values(last_seen=at)
            )
            db.commit()

    def seen() -> datetime:
        with Session(world.engine) as db:
            q = select(col(AuthSession.last_seen)).where(col(AuthSession.token_hash) == token_hash)
            return db.scalars(q).one()

    recent = utcnow() - timedelta(seconds=s.session_touch_seconds - 5)
    set_seen(recent)
    for _ in range(3):
        assert c.get("/auth/me", headers=h).status_code == 200
    assert abs(seen() - recent) < timedelta(milliseconds=1)  # not written: too recent
    # Idle nearly to the limit: still in, and the request is written down.
    set_seen(utcnow() - timedelta(minutes=s.session_idle_minutes) + timedelta(seconds=5))
    assert c.get("/applications", headers=h).status_code == 200
    assert utcnow() - seen() < timedelta(seconds=5)
    # Past the limit by what was written, even though a touch was due anyway: out.
    set_seen(utcnow() - timedelta(minutes=s.session_idle_minutes, seconds=1))
    assert c.get("/auth/me", headers=h).status_code == 401
    assert c.get("/applications", headers=h).status_code == 401


def _login(world: World) -> dict[str, str]:
    return bearer(world.login("applicant_a").json()["token"])


def _only_live_session(world: World) -> str:
    with Session(world.engine) as db:
        rows = db.scalars(
            select(AuthSession)
            .where(
                col(AuthSession.account_id) == world.people["applicant_a"].id,
                col(AuthSession.revoked_at).is_(None),
            )
            .order_by(col(AuthSession.created_at).desc())
        ).all()
    return rows[0].token_hash


def test_r1_1_logout_revokes_the_token(world: World) -> None:
    h = world.ready("applicant_a")
    c = world.client()
    assert c.post("/auth/logout", headers=h).status_code == 204
    assert c.get("/auth/me", headers=h).status_code == 401
    assert c.get("/auth/me", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_r1_1_tokens_are_stored_hashed(world: World) -> None:
    token = world.login("applicant_a", DEFAULT_PASSWORD).json()["token"]
    with Session(world.engine) as db:
        stored = db.scalars(select(col(AuthSession.token_hash))).all()
        hashes = db.scalars(select(col(Account.password_hash))).all()
    assert token not in stored
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_r1_1_lockout_is_per_account_and_address(world: World) -> None:
    s = world.sec.settings
    attacker = "203.0.113.9"
    world.ready("applicant_a")
    for _ in range(s.lock_failures):
        r = world.login("applicant_a", "wrong#Pass1", address=attacker)
        assert r.status_code == 401
    locked = world.login("applicant_a", address=attacker)  # even the right password
    assert locked.status_code == 429
    assert "分钟后再试" in locked.json()["detail"]
    # The owner elsewhere is not locked out by the attacker.
    assert world.login("applicant_a", address="10.0.0.1").status_code == 200
    assert events(world, "login.locked")
    # The lock is soft: once it has passed, the pair may try again.
    with Session(world.engine) as db:
        db.execute(text("UPDATE login_throttle SET locked_until = :t"), {"t": utcnow()})
        db.commit()
    assert world.login("applicant_a", address=attacker).status_code == 200


def test_r1_1_distributed_guessing_spares_known_addresses(world: World) -> None:
    s = world.sec.settings
    world.ready("applicant_a")  # logs in from 10.0.0.1: a known address
    for i in range(s.account_failures_per_hour):
        world.login("applicant_a", "wrong#Pass1", address=f"198.51.100.{i}")
    # A new address is refused for now, even with the right password …
    assert world.login("applicant_a", address="198.51.100.250").status_code == 429
    # … but the owner's own address is not.
    assert world.login("applicant_a", address="10.0.0.1").status_code == 200


def test_r1_1_spraying_the_default_is_audited(world: World) -> None:
    s = world.sec.settings
    for key in ("applicant_a", "applicant_b", "admin_a", "admin_b"):
        world.ready(key)  # nobody is on the default any more
    ids = [p.id_number for p in world.people.values()] + [
        make_id("19920202", n) for n in range(s.spray_accounts)
    ]
    c = world.client("192.0.2.7")
    for ident in ids:
        c.post("/auth/login", json={"id_number": ident, "password": DEFAULT_PASSWORD})
    sprays = events(world, "login.spraying")
    assert len(sprays) == 1  # one event per password and window, not one per attempt
    assert sprays[0].detail["accounts"] >= s.spray_accounts
    assert "192.0.2.7" in sprays[0].detail["addresses"]
    # The password itself is nowhere in the audit.
    with Session(world.engine) as db:
        dump = " ".join(str(a.model_dump()) for a in db.scalars(select(Audit)))
    assert DEFAULT_PASSWORD not in dump


def test_r1_1_unknown_account_answers_like_a_wrong_password(world: World) -> None:
    world.ready("applicant_a")
    unknown = make_id("19950505", 777)

    def timed(ident: str) -> tuple[int, str, float]:
        start = time.perf_counter()
        r = world.client(f"10.9.{len(ident)}.1").post(
            "/auth/login", json={"id_number": ident, "password": "wrong#Pass1"}
        )
        return r.status_code, r.json()["detail"], time.perf_counter() - start

    known = [timed(world.people["applicant_a"].id_number) for _ in range(3)]
    missing = [timed(unknown) for _ in range(3)]
    assert {(k[0], k[1]) for k in known} == {(m[0], m[1]) for m in missing}
    k_med = statistics.median(k[2] for k in known)
    m_med = statistics.median(m[2] for m in missing)
    # Both verify an Argon2 hash; the times agree within a wide margin (CI noise).
    assert m_med > k_med / 3 and k_med > m_med / 3


def test_r1_1_full_width_id_number_logs_in_with_ascii_digits(world: World) -> None:
    """An ID number typed with full-width digits (a Chinese IME) is stored as ASCII, so the
    person logs in with ordinary digits — and with full-width ones too."""
    from zctui.server import admin

    ascii_id = make_id("19920202", 131)
    wide = ascii_id.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    assert wide != ascii_id
    with Session(world.engine) as db:
        made = admin.create_account(
            db, world.sec, id_number=wide, name="全角", unit=world.people["applicant_a"].unit
        )
        assert made.id_number == ascii_id
    for typed in (ascii_id, wide):
        r = world.client().post(
            "/auth/login", json={"id_number": typed, "password": DEFAULT_PASSWORD}
        )
        assert r.status_code == 200, (typed, r.text)
    # The same through the unit admin's API.
    other = make_id("19930303", 133)
    wide_other = other.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    created = world.client().post(
        "/users", json={"id_number": wide_other, "name": "全角二"}, headers=world.ready("admin_a")
    )
    assert created.status_code == 201, created.text
    assert created.json()["id_number"] == other
    r = world.client().post("/auth/login", json={"id_number": other, "password": DEFAULT_PASSWORD})
    assert r.status_code == 200, r.text
