"""Runtime settings: data directory, database, business time zone, currency, language.

Settings are read from environment variables prefixed ``TILLAGE_`` (and from a ``.env`` file in
the working directory), e.g. ``TILLAGE_DATABASE_URL=postgresql+psycopg://user@host/db``. Business
strategy (discount rate, thresholds, weights, playbooks) is *not* here: it lives in the strategy
file. Use :func:`get_settings` to obtain the cached instance; tests build their own ``Settings``.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import list_currencies
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tillage.errors import ConfigurationError

Language = Literal["ja", "en"]
MIN_SECRET_LENGTH = 32
DEFAULT_STORE_FILE = "default_store"
"""The file in the data directory naming the default store when none is configured."""
PLACEHOLDER_WORDS = ("changethis", "change-me", "changeme", "placeholder", "secret-key", "xxxx")


def default_data_dir() -> Path:
    """The default data directory: ``./tillage-data`` under the current working directory."""
    return Path.cwd() / "tillage-data"


class Settings(BaseSettings):
    """Process-wide settings. Every field is documented; ``tillage settings`` prints them."""

    model_config = SettingsConfigDict(
        env_prefix="TILLAGE_", env_file=".env", extra="ignore", validate_default=True
    )

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory holding the embedded database, exports and generated demo truth.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy database URL. Empty means the embedded SQLite file "
            "<data_dir>/tillage.db. For PostgreSQL: postgresql+psycopg://user:pass@host:5432/db."
        ),
    )
    timezone: str = Field(
        default="Asia/Tokyo",
        description="Business time zone (IANA name). All dates and times are stored in it.",
    )
    currency: str = Field(
        default="JPY", description="ISO 4217 currency code used to format amounts."
    )
    language: Language = Field(
        default="ja", description="Language of user-facing text: 'ja' (Japanese) or 'en'."
    )
    upload_limit_mb: float = Field(
        default=50.0,
        gt=0,
        description=(
            "Largest file `POST /api/v1/imports` and the dashboard's Data page accept, in "
            "megabytes (10^6 bytes)."
        ),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Key that signs session cookies and CSRF tokens: at least 32 random characters, "
            "e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`. Required "
            "by `tillage serve`; `tillage demo` generates one per demo store."
        ),
    )

    schedule_import: Path | None = Field(
        default=None,
        description="A file, export folder or .zip that `tillage worker` imports before each "
        "scheduled re-score (e.g. where the nightly CRM export lands); empty: re-score only.",
    )
    schedule_import_mapping: Path | None = Field(
        default=None,
        description="Mapping file (TOML) for schedule_import; empty for a Salesforce or HubSpot "
        "export, which is recognised.",
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server that mails the failures of scheduled jobs (`tillage worker`); "
        "empty: no mail, the failure shows on the Data page only.",
    )
    smtp_port: int = Field(default=25, gt=0, lt=65536, description="Port of smtp_host.")
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS before logging in."
    )
    smtp_user: str | None = Field(
        default=None, description="Login on the SMTP server (empty: send without logging in)."
    )
    smtp_password: SecretStr | None = Field(
        default=None,
        description="Password of smtp_user: from the environment (TILLAGE_SMTP_PASSWORD) or a "
        ".env file kept out of version control, never the repository.",
    )
    mail_from: str | None = Field(
        default=None, description="Sender address of the failure mails (default tillage@<host>)."
    )
    notify_to: str | None = Field(
        default=None,
        description="Addresses, separated by commas, that receive a mail when a scheduled job "
        "fails.",
    )
    server_threads: int = Field(
        default=8,
        ge=1,
        le=200,
        description="Requests `tillage serve` works on at once in each worker process (the "
        "others wait their turn, in order); the database pool keeps as many connections. More "
        "than the cores can run only adds switching between threads: raise it when requests "
        "wait on a remote database rather than on the CPU.",
    )

    @field_validator("secret_key")
    @classmethod
    def _real_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if not secret.strip():
            return None
        lowered = secret.lower()
        if any(word in lowered for word in PLACEHOLDER_WORDS) or len(set(secret)) < 8:
            raise ValueError(
                "secret_key looks like a placeholder; generate one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"secret_key must be at least {MIN_SECRET_LENGTH} characters; generate one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Asia/Tokyo'"
            ) from exc
        return value

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in list_currencies():
            raise ValueError(f"currency must be a 3-letter ISO 4217 code, got {value!r}")
        return code

    @property
    def resolved_database_url(self) -> str:
        """The database URL in effect: the configured one; else the embedded SQLite file
        ``<data_dir>/tillage.db`` if it exists; else the store recorded in
        ``<data_dir>/default_store`` (``tillage demo`` records its store there when no other is
        configured, so the other commands find it); else the embedded file, to be created."""
        if self.database_url:
            return self.database_url
        own = self.data_dir / "tillage.db"
        recorded = self.data_dir / DEFAULT_STORE_FILE
        if not own.exists() and recorded.is_file():
            url = recorded.read_text(encoding="utf-8").strip()
            if url:
                return url
        return f"sqlite:///{own.resolve()}"

    def _uses_recorded_store(self) -> bool:
        own = self.data_dir / "tillage.db"
        recorded = self.data_dir / DEFAULT_STORE_FILE
        return not self.database_url and not own.exists() and recorded.is_file()

    def records_default_store(self) -> bool:
        """Whether no store is configured or created yet, so that one made now (the demo's)
        may record itself as the default (:attr:`resolved_database_url`)."""
        return not self.database_url and not (self.data_dir / "tillage.db").exists()

    def require_secret_key(self) -> str:
        """The secret key, or :class:`ConfigurationError` saying how to set one. With no key set
        and the demo store recorded as the default store, the demo's own key
        (``<data_dir>/demo/secret_key``, written by ``tillage demo``)."""
        demo_key = self.data_dir / "demo" / "secret_key"
        if self.secret_key is None and self._uses_recorded_store() and demo_key.is_file():
            return demo_key.read_text(encoding="utf-8").strip()
        if self.secret_key is None:
            raise ConfigurationError(
                "TILLAGE_SECRET_KEY is not set: the server needs it to sign session cookies. "
                "Generate one with python -c 'import secrets; print(secrets.token_urlsafe(32))' "
                "(`tillage demo` makes its own)."
            )
        return self.secret_key.get_secret_value()

    @property
    def upload_limit_bytes(self) -> int:
        """:attr:`upload_limit_mb` in bytes."""
        return int(self.upload_limit_mb * 1_000_000)

    @property
    def zone(self) -> ZoneInfo:
        """The business time zone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

    def now(self) -> dt.datetime:
        """The business time zone's wall clock to the second, without a zone: how the import
        log, the snapshots and the jobs keep their times."""
        return dt.datetime.now(self.zone).replace(tzinfo=None, microsecond=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once from the environment."""
    return Settings()


def settings_environment(settings: Settings) -> dict[str, str]:
    """``settings`` as the ``TILLAGE_*`` environment variables that make them again (unset
    fields are left out): what a worker or job process started by this one reads."""
    env = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"TILLAGE_{name.upper()}"] = str(value)
    return env
