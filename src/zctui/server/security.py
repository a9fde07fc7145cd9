"""Passwords, sessions and the login throttle (R1).

Throttle design — an attacker must not be able to lock the owner out for good:
- 5 failures of one account name from one address lock *that pair* for 15 minutes. The
  owner at another address (home, the unit) is not affected.
- An account failing 20 times in an hour from anywhere (a distributed guess) is then
  closed to addresses it has never logged in from, until the hour has passed; addresses
  it logged in from before keep their own per-pair limit only. Both locks expire by
  themselves, so the worst an attacker achieves is a delay, never a permanent lock.
- One address failing 50 times in 15 minutes across accounts is refused for the rest of
  the window (guessing many accounts from one place).
- Many accounts failing with the same password in 15 minutes (spraying the default
  88888888) writes `login.spraying` to the audit. The password is kept only as a keyed
  hash (HMAC with the server secret) and only for a day.
Unknown ID numbers take the same path: a dummy hash is verified and their failures count
under the same keys, so the answer and its time do not tell whether an account exists.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from zctui.domain.models import utcnow
from zctui.domain.validators import DEFAULT_PASSWORD, id_clean
from zctui.server.models import (
    Account,
    Audit,
    AuthSession,
    KnownAddress,
    LoginFailure,
    LoginThrottle,
)
from zctui.server.settings import ServerSettings

WRONG = "身份证号或密码错误，请核对后重新输入（忘记密码请找单位管理员重置）"
LOCKED = "登录失败次数过多，请 {minutes} 分钟后再试，或请单位管理员重置密码"
EXPIRED_DEFAULT = "初始密码已超过 {days} 天未使用，已失效，请找单位管理员重置密码"
DISABLED = "该帐号已停用，请联系单位管理员"


class LoginRefused(Exception):
    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def token_hash(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough, and lookups stay cheap.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Security:
    settings: ServerSettings

    @cached_property
    def hasher(self) -> PasswordHash:
        s = self.settings
        return PasswordHash(
            (
                Argon2Hasher(
                    time_cost=s.argon2_time_cost,
                    memory_cost=s.argon2_memory_cost,
                    parallelism=s.argon2_parallelism,
                ),
            )
        )

    @cached_property
    def dummy_hash(self) -> str:
        return self.hasher.hash(secrets.token_hex(16))

    @cached_property
    def _hashing(self) -> threading.BoundedSemaphore:
        # A burst of logins queues here instead of running one Argon2 per request thread
        # at once (memory × threads, and every request's CPU starved meanwhile).
        return threading.BoundedSemaphore(os.cpu_count() or 1)

    def hash(self, password: str) -> str:
        with self._hashing:
            return self.hasher.hash(password)

    def verify(self, password: str, hashed: str) -> bool:
        try:
            with self._hashing:
                return self.hasher.verify(password, hashed)
        except Exception:  # a malformed hash is a failed login, not a server error
            return False

    def account_key(self, id_number: str) -> str:
        return hmac.new(self.settings.secret.encode(), id_number.encode(), "sha256").hexdigest()

    def password_mark(self, password: str) -> str:
        return hmac.new(
            self.settings.secret.encode(), b"pw:" + password.encode(), "sha256"
        ).hexdigest()[:32]

    # ------------------------------------------------------------------ login
    def login(
        self, db: Session, id_number: str, password: str, address: str
    ) -> tuple[Account, str]:
        s = self.settings
        now = utcnow()
        ident = id_clean(id_number)
        key = self.account_key(ident)
        account = db.scalars(select(Account).where(col(Account.id_number) == ident)).first()
        self._refuse_if_throttled(db, key, address, account, now)
        ok = self.verify(password, account.password_hash if account else self.dummy_hash)
        if not ok or account is None:
            self._failed(db, key, address, password, account, now)
            raise LoginRefused(WRONG)
        if account.disabled:
            raise LoginRefused(DISABLED, 403)
        if (
            account.must_change
            and account.default_set_at is not None
            and now - account.default_set_at > timedelta(days=s.default_password_days)
        ):
            audit(db, "login.default_expired", actor=account, address=address)
            db.commit()
            raise LoginRefused(EXPIRED_DEFAULT.format(days=s.default_password_days), 403)
        db.execute(
            delete(LoginThrottle).where(
                col(LoginThrottle.account_key) == key,
                col(LoginThrottle.address) == address,
            )
        )
        known = db.get(KnownAddress, (account.id, address))
        if known:
            known.last_login = now
        else:
            db.add(KnownAddress(account_id=account.id, address=address, last_login=now))
        token = secrets.token_urlsafe(18)  # 144 random bits, 24 characters on every request
        db.add(AuthSession(token_hash=token_hash(token), account_id=account.id))
        audit(db, "login.ok", actor=account, address=address)
        db.commit()
        return account, token

    def _refuse_if_throttled(
        self, db: Session, key: str, address: str, account: Account | None, now: datetime
    ) -> None:
        s = self.settings
        pair = db.get(LoginThrottle, (key, address))
        if pair and pair.locked_until and pair.locked_until > now:
            raise LoginRefused(LOCKED.format(minutes=_minutes(pair.locked_until - now)), 429)
        window = now - timedelta(minutes=15)
        from_address = db.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(col(LoginFailure.address) == address, col(LoginFailure.at) > window)
        )
        if (from_address or 0) >= s.address_failures_per_15min:
            raise LoginRefused(LOCKED.format(minutes=15), 429)
        hour = now - timedelta(hours=1)
        for_account = db.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(col(LoginFailure.account_key) == key, col(LoginFailure.at) > hour)
        )
        known = account is not None and db.get(KnownAddress, (account.id, address)) is not None
        if (for_account or 0) >= s.account_failures_per_hour and not known:
            raise LoginRefused(LOCKED.format(minutes=60), 429)

    def _failed(
        self,
        db: Session,
        key: str,
        address: str,
        password: str,
        account: Account | None,
        now: datetime,
    ) -> None:
        s = self.settings
        pair = db.get(LoginThrottle, (key, address)) or LoginThrottle(
            account_key=key, address=address
        )
        pair.failures += 1
        pair.updated_at = now
        locked = pair.failures >= s.lock_failures
        if locked:
            pair.failures = 0
            pair.locked_until = now + timedelta(minutes=s.lock_minutes)
        db.add(pair)
        mark = self.password_mark(password)
        db.add(LoginFailure(at=now, account_key=key, address=address, password_mark=mark))
        db.execute(delete(LoginFailure).where(col(LoginFailure.at) < now - timedelta(days=1)))
        audit(
            db,
            "login.failed",
            subject=account,
            address=address,
            detail={"account_known": account is not None},
        )
        if locked:
            audit(db, "login.locked", subject=account, address=address)
        self._detect_spraying(db, mark, address, now)
        db.commit()

    def _detect_spraying(self, db: Session, mark: str, address: str, now: datetime) -> None:
        s = self.settings
        window = now - timedelta(minutes=15)
        accounts = db.scalar(
            select(func.count(func.distinct(LoginFailure.account_key))).where(
                col(LoginFailure.password_mark) == mark,
                col(LoginFailure.at) > window,
            )
        )
        if (accounts or 0) < s.spray_accounts:
            return
        # Once per password and window, so a long spray is one event, not thousands.
        already = db.scalar(
            select(func.count())
            .select_from(Audit)
            .where(
                col(Audit.event) == "login.spraying",
                col(Audit.at) > window,
                col(Audit.reason) == mark[:12],
            )
        )
        if not already:
            addresses = db.scalars(
                select(func.distinct(LoginFailure.address)).where(
                    col(LoginFailure.password_mark) == mark,
                    col(LoginFailure.at) > window,
                )
            ).all()
            audit(
                db,
                "login.spraying",
                address=address,
                reason=mark[:12],
                detail={"accounts": accounts, "addresses": sorted(addresses)[:20]},
            )

    # ------------------------------------------------------------------ sessions
    def session_live(self, sess: AuthSession, account: Account, now: datetime) -> bool:
        """Not revoked, the account not disabled, within the idle and absolute timeouts."""
        s = self.settings
        return (
            sess.revoked_at is None
            and not account.disabled
            and now - sess.last_seen <= timedelta(minutes=s.session_idle_minutes)
            and now - sess.created_at <= timedelta(hours=s.session_absolute_hours)
        )

    def session_stale(self, sess: AuthSession, now: datetime) -> bool:
        """Whether last_seen is due a write. At most once per session_touch_seconds: a
        write on every request would cost every read. last_seen then lags the last request
        by less than that, so the idle timeout can end a session that much early, never
        late."""
        return now - sess.last_seen >= timedelta(seconds=self.settings.session_touch_seconds)

    def reset_password(self, db: Session, target: Account) -> None:
        """R1.3: back to the default, to be changed at the next login; every session ends."""
        target.password_hash = self.hash(DEFAULT_PASSWORD)
        target.must_change = True
        target.default_set_at = utcnow()
        db.add(target)
        self.revoke_all(db, target.id)

    def revoke_all(self, db: Session, account_id: object) -> None:
        db.execute(
            update(AuthSession)
            .where(col(AuthSession.account_id) == account_id, col(AuthSession.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )


def _minutes(delta: timedelta) -> int:
    return max(1, -(-int(delta.total_seconds()) // 60))


def audit(
    db: Session,
    event: str,
    *,
    actor: Account | None = None,
    subject: Account | None = None,
    application_id: uuid.UUID | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    address: str | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    """Append one event; the caller commits it with the change it records."""
    db.add(
        Audit(
            event=event,
            actor_id=actor.id if actor else None,
            actor_role=actor.role if actor else None,
            subject_id=subject.id if subject else None,
            application_id=application_id,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
            address=address,
            detail=detail or {},
        )
    )
