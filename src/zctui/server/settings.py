"""Server settings (env ZCTUI_SERVER_*); `zctui serve` fills them from its options."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZCTUI_SERVER_", extra="ignore")

    # Default: SQLite in the data dir (zero setup); production: postgresql+psycopg://…
    db_url: str = ""
    data_dir: Path = platformdirs.user_data_path("zctui", appauthor=False) / "server"
    blobs_dir: Path | None = None  # attachments' bytes (`zctui serve --blobs`); see blob_root
    # One attachment's size: the checker's PDF limit (pdf.checks.Limits.max_pdf_bytes).
    max_blob_bytes: int = 20 * 1024 * 1024
    partial_upload_days: int = 7  # an upload left unfinished this long is removed
    # Keys the password marks used to spot spraying; set it when several processes serve.
    secret: str = Field(default_factory=lambda: secrets.token_hex(32))
    default_password_days: int = 30  # an unused default password expires (R1.2)
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    # A session's last_seen is written at most once per this many seconds, not on every
    # request: the idle timeout may then end a session up to this much early, never late.
    session_touch_seconds: int = 60
    lock_failures: int = 5  # failures of one account from one address before the lock
    lock_minutes: int = 15
    account_failures_per_hour: int = 20  # then only known addresses may keep trying
    address_failures_per_15min: int = 50  # one address guessing across many accounts
    spray_accounts: int = 10  # accounts failing with one password in 15 min = spraying
    max_body_bytes: int = 1_000_000
    # The catalog this server serves (GET /v1/catalog) and judges by: a directory with
    # series.yaml, methods.yaml and values.yaml; default the one in the package. Checked at
    # startup with the same loader as the client's: a broken one stops the server.
    catalog_dir: Path | None = None
    # PostgreSQL connections per worker process, and so how many requests of one process
    # use the database at once (the rest wait their turn without holding a thread). A
    # handful keeps two or four CPUs busy; more only makes the backends contend.
    db_pool_size: int = 10
    # PostgreSQL connections per worker for the hot reads (server/reads.py), which run in
    # the event loop: a statement holds one only while PostgreSQL answers it. Measured with
    # bench/server.py (2 CPUs, 2 workers): 2 gave the lowest CPU per read and p99; 1
    # serialises a worker behind one backend, 4 and 10 only add backends that contend.
    db_read_pool_size: int = 2
    # Comma-separated addresses or CIDRs of the reverse proxies in front of the server.
    # Only when the direct peer is one of them is the client taken from X-Forwarded-For
    # (its rightmost hop that is not a trusted proxy). Default: none, the peer is the client.
    trusted_proxies: str = ""
    # Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~20 ms a hash
    # here; 64 MiB × 4 lanes cost 150–250 ms and 6 GB for 100 logins at once. Tests go lower.
    argon2_time_cost: int = 2
    argon2_memory_cost: int = 19456
    argon2_parallelism: int = 1
    # Certificate numbers the server makes when the office issues without typing one:
    # {year} the application's year, {seq} its sequence within the year (certificates.py).
    certificate_format: str = "冀职{year}{seq:06d}"

    @field_validator("certificate_format")
    @classmethod
    def _format_makes_numbers(cls, value: str) -> str:
        from zctui.server.certificates import check_format

        return check_format(value)  # a bad format stops the server with what is wrong

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        proxy_networks(value)  # refuse a typo at startup, not at the first request
        return value

    @property
    def blob_root(self) -> Path:
        return self.blobs_dir or self.data_dir / "blobs"

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir / 'server.sqlite3'}"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def proxy_networks(value: str) -> tuple[Network, ...]:
    """`10.0.0.1, 10.1.0.0/16, ::1` → networks (a single address is a /32 or /128)."""
    parts = (p.strip() for p in value.split(","))
    return tuple(ipaddress.ip_network(p, strict=False) for p in parts if p)
