"""Service configuration, read from the environment (and `.env`) by pydantic-settings.

Production refuses to start with development conveniences switched on: the local
development token issuer, or no trusted issuer at all.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index_service.issuers.oidc_config import OidcClient

DEV_ISSUER = "urn:index-service:local-development"


class TrustedIssuer(BaseModel):
    """An identity provider whose tokens the service accepts, with where its public keys live."""

    issuer: str = Field(min_length=1)
    jwks_file: Path | None = None
    jwks_url: str | None = None
    organisations: list[str] | None = Field(
        default=None,
        description="Organisation codes this issuer may vouch for. Unset: any organisation.",
    )
    oidc: OidcClient | None = Field(
        default=None,
        description="Sign staff in to the pages through this issuer (OpenID Connect).",
    )

    @model_validator(mode="after")
    def _one_key_source(self) -> TrustedIssuer:
        if (self.jwks_file is None) == (self.jwks_url is None):
            raise ValueError(f"issuer {self.issuer!r}: give exactly one of jwks_file or jwks_url")
        if self.jwks_url is not None and not safe_key_url(self.jwks_url):
            raise ValueError(
                f"issuer {self.issuer!r}: jwks_url must be https (plain http only on loopback)"
            )
        return self


def safe_key_url(url: str) -> bool:
    """Keys are fetched over TLS; plain http is allowed only to this machine."""
    parsed = urlsplit(url)
    if parsed.scheme == "https" and parsed.hostname:
        return True
    return parsed.scheme == "http" and parsed.hostname in {"127.0.0.1", "::1", "localhost"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL. Unset: an embedded PostgreSQL is started under data_dir.",
    )
    database_app_role: str | None = Field(
        default="index_service_app",
        description="The role the service connects as (made by the migrations): it may only "
        "insert into and read the audit tables. Unset: connect as DATABASE_URL's owner "
        "(refused in production).",
    )
    database_app_password: SecretStr | None = None
    database_sealer_role: str = Field(
        default="index_service_sealer",
        description="The role the audit sealer connects as (made by the migrations): it alone "
        "may append to the hash chain.",
    )
    database_sealer_password: SecretStr | None = None
    data_dir: Path = Path(".data")
    embedded_database_name: str = "index_service"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    port: int = Field(default=8000, ge=1, le=65535)
    serve_workers: int | None = Field(
        default=None,
        ge=1,
        le=256,
        validation_alias=AliasChoices("serve_workers", "web_concurrency"),
        description="Server processes `serve` runs behind one socket, each with its own pool "
        "of db_pool_size connections (WEB_CONCURRENCY is read too, as other servers do). "
        "Unset: one per CPU.",
    )
    instance_name: str = "index-service"

    outbound_allow_private: bool | None = Field(
        default=None,
        description="Let webhooks and run-time issuers' key sets reach this machine and "
        "private networks (plain http to loopback, https anywhere, addresses unchecked), "
        "for a local receiver or identity provider. Unset: on outside production. Refused "
        "in production.",
    )
    token_audience: str = "index-service"  # noqa: S105 (an audience, not a secret)
    trusted_issuers: list[TrustedIssuer] = Field(default_factory=list)
    dev_issuer_enabled: bool | None = Field(
        default=None,
        description="Trust the local development issuer. Unset: only in development.",
    )
    dev_sign_in_enabled: bool | None = Field(
        default=None,
        description="The pages' 'sign in as' a demo persona, vouched for by the local "
        "development issuer. Unset: only in development. Refused in production.",
    )
    web_session_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="A page session unused this long ends."
    )
    web_session_absolute_hours: int = Field(
        default=12, ge=1, le=24, description="A page session ends this long after sign-in."
    )
    max_token_bytes: int = Field(default=8192, ge=512, le=65536)
    max_token_lifetime_seconds: int = Field(default=3600, ge=60, le=3600)
    token_leeway_seconds: int = Field(default=30, ge=0, le=300)

    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=10 * 1024 * 1024)
    feed_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="The largest feed `POST /v1/feeds` takes (413 beyond); larger files go "
        "through `index-service import`.",
    )
    gaps_unconfirmed_days: int = Field(
        default=365,
        ge=1,
        le=3650,
        description="A field not supplied or confirmed for this long is a data-quality gap.",
    )

    rate_limit_window_seconds: int = Field(default=60, ge=1, le=3600)
    rate_limit_searches: int = Field(
        default=30, ge=1, description="Searches (enquiries) per user per window."
    )
    rate_limit_reads: int = Field(
        default=120, ge=1, description="Reads of child records per user per window."
    )
    anomaly_distinct_children_per_hour: int = Field(
        default=50,
        ge=1,
        description="Opening more distinct children than this in an hour records an anomaly.",
    )
    db_wait_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="How long a request waits for a database connection before it is "
        "answered 503 database_unavailable (the database is down or restarting).",
    )
    admission_wait_seconds: float = Field(
        default=5.0,
        gt=0,
        le=30,
        description="How long a request waits for a free database connection before it is "
        "answered 503 with Retry-After (requests at once are capped at the pool's size). "
        "A bounded queue: waiting in the event loop holds nothing, and a practitioner is "
        "better served by an answer in two seconds than by 'try again'.",
    )
    record_age_limit_years: int = Field(
        default=18,
        ge=1,
        le=25,
        description="The index holds records of children younger than this (DOMAIN.md: "
        "under 18); older is refused with 422 beyond_age_limit.",
    )
    archive_age_years: int = Field(
        default=18,
        ge=1,
        le=25,
        description="The scheduler archives a record when its child reaches this age: it "
        "no longer appears in enquiries, and its workers are told.",
    )
    destroy_after_archive_years: int = Field(
        default=6,
        ge=0,
        le=100,
        description="How long after archiving a record is destroyed (ContactPoint: six "
        "years), unless a legal hold stops it: a tombstone without personal data stays.",
    )
    unborn_days_ahead: int = Field(
        default=300,
        ge=0,
        le=366,
        description="How far ahead an unborn child's expected date of delivery (an "
        "estimated date of birth) may be; 0 holds no unborn children.",
    )
    enquiry_open_minutes: int = Field(
        default=60, ge=1, le=1440, description="How long an enquiry's candidates may be opened."
    )
    reach_after_enquiry_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="How long after an enquiry found a child its enquirer may record an "
        "involvement or raise a flag on that child.",
    )
    enquiry_contact_window_days: int = Field(
        default=365,
        ge=1,
        le=3650,
        description="How far back a later enquiry is compared with enquiry-only contacts.",
    )
    enquiry_contact_retention_days: int = Field(
        default=365, ge=1, le=3650, description="When an enquiry-only contact expires."
    )
    alert_repeat_window_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 30,
        description="Repeated enquiries by one person about one child inside this window "
        "raise one alert.",
    )
    alert_acknowledge_working_days: int = Field(
        default=1,
        ge=1,
        le=20,
        description="Working days (England) to acknowledge an alert before it escalates (R6).",
    )
    smtp_host: str | None = Field(default=None, description="Unset: no email is sent.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_sender: str = "alerts@index-service.invalid"
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where staff reach the service; alert emails point here. Unset: this "
        "machine at PORT.",
    )
    delivery_max_attempts: int = Field(default=15, ge=1, le=100)
    delivery_backoff_seconds: float = Field(default=5.0, gt=0, le=3600)
    delivery_backoff_max_seconds: float = Field(default=3600.0, gt=0, le=86400)
    delivery_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    delivery_concurrency: int = Field(
        default=8, ge=1, le=64, description="Deliveries a worker sends at once."
    )
    delivery_per_endpoint: int = Field(
        default=1,
        ge=1,
        le=16,
        description="Deliveries a worker sends at once to any one webhook receiver (one: in "
        "order), so one that hangs holds up only its own.",
    )
    worker_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    audit_signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs checkpoints of the audit chain, kept "
        "outside the database. Unset: outside production, one is made under data_dir.",
    )
    audit_verify_key_file: Path | None = Field(
        default=None,
        description="Ed25519 public key (PEM) checkpoints are verified with. Unset: the "
        "signing key's public half.",
    )
    audit_checkpoint_dir: Path | None = Field(
        default=None,
        description="Where signed checkpoints are written, outside the database. "
        "Unset: data_dir/audit-checkpoints.",
    )
    audit_checkpoint_seconds: int = Field(
        default=60, ge=1, le=86400, description="The most time between two checkpoints."
    )
    audit_seal_batch: int = Field(default=5000, ge=1, le=100_000)
    audit_personal_retention_days: int = Field(
        default=2 * 365,
        ge=1,
        le=100 * 365,
        description="How long the personal part of an audit event (enquiry criteria, purpose "
        "texts, names shown) is kept; then the worker erases it. The rest of the event, and "
        "the hash chain over it, stay.",
    )
    audit_erase_batch: int = Field(default=5000, ge=1, le=100_000)
    audit_retention_interval_seconds: int = Field(
        default=3600,
        ge=1,
        le=86400,
        description="How often the worker makes the coming months' audit partitions and "
        "erases personal parts past retention.",
    )
    working_hours_start: int = Field(
        default=8, ge=0, le=23, description="Out-of-hours access is before this hour (London)."
    )
    working_hours_end: int = Field(
        default=18, ge=1, le=24, description="Out-of-hours access is from this hour (London)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @property
    def checkpoint_dir(self) -> Path:
        return self.audit_checkpoint_dir or self.data_dir / "audit-checkpoints"

    @property
    def signing_key_path(self) -> Path:
        return self.audit_signing_key_file or self.data_dir / "audit-signing-key.pem"

    @property
    def outbound_private_allowed(self) -> bool:
        return self.outbound_allow_private is True

    @property
    def dev_key_path(self) -> Path:
        return self.data_dir / "dev-signing-key.pem"

    @model_validator(mode="before")
    @classmethod
    def _public_url_from_port(cls, data: Any) -> Any:
        """Unset, PUBLIC_URL is this machine at PORT, so alert emails from a service run
        on another port still point at it."""
        if (
            isinstance(data, dict)
            and not data.get("public_url")
            and data.get("port")
            and data.get("environment") != "production"  # there it must be said
        ):
            return {**data, "public_url": f"http://127.0.0.1:{data['port']}"}
        return data

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.dev_issuer_enabled is None:
            self.dev_issuer_enabled = self.environment == "development"
        if self.dev_sign_in_enabled is None:
            self.dev_sign_in_enabled = self.environment == "development"
        if self.outbound_allow_private is None:
            self.outbound_allow_private = self.environment != "production"
        if self.environment == "production":
            if self.outbound_allow_private:
                raise ValueError(
                    "OUTBOUND_ALLOW_PRIVATE must be false in production: the service would "
                    "post webhooks and fetch keys wherever a registered URL points, this "
                    "machine and its private network included"
                )
            if self.dev_issuer_enabled:
                raise ValueError(
                    "DEV_ISSUER_ENABLED must be false in production: the local development "
                    "issuer signs tokens with a key anyone on this machine can read"
                )
            if self.dev_sign_in_enabled:
                raise ValueError(
                    "DEV_SIGN_IN_ENABLED must be false in production: anyone could sign in "
                    "as a demo persona"
                )
            if not self.trusted_issuers:
                raise ValueError("TRUSTED_ISSUERS must name at least one issuer in production")
            if self.database_url is None:
                raise ValueError("DATABASE_URL must be set in production")
            if self.database_app_role is None:
                raise ValueError(
                    "DATABASE_APP_ROLE must be set in production: connected as the owner, "
                    "the service could edit its own audit trail"
                )
            if self.audit_checkpoint_dir is None:
                raise ValueError(
                    "AUDIT_CHECKPOINT_DIR must be set in production, to storage outside the "
                    "database server that every instance and the verifier share"
                )
            if self.audit_signing_key_file is None and self.audit_verify_key_file is None:
                raise ValueError(
                    "AUDIT_SIGNING_KEY_FILE (worker) or AUDIT_VERIFY_KEY_FILE (server) must be "
                    "set in production, to a key kept outside the database and data_dir"
                )
            if "public_url" not in self.model_fields_set:
                raise ValueError(
                    "PUBLIC_URL must be set in production: alert emails link staff to it"
                )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
