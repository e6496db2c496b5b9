"""Settings from the environment, validated once at start-up.

Every knob idgraph reads from the environment is named here and nowhere else, so `idgraph serve` fails at
start with a clear message instead of at the first request.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Literal

import msgspec

from graph_model.enrichment import IP_MODES, IpMode
from graph_model.identity_rules import DEFAULTS, IdentityRules, InvalidRules, parse_rules, with_limits
from graph_model.urn import phone_region

LogFormat = Literal["console", "json"]


class SettingsError(ValueError):
    """An environment variable holds a value idgraph cannot use."""


class MergeLimits(msgspec.Struct, frozen=True):
    """How many aliases of a type one profile may hold before a merge is refused: the limits of the
    identity rules (IDGRAPH_IDENTITY_RULES, with IDGRAPH_MERGE_LIMITS laid over them)."""

    per_type: dict[str, int] = msgspec.field(default_factory=lambda: DEFAULTS.limits())


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: str | None = None
    data_dir: Path = Path("var")
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str = "neo4j"
    log_format: LogFormat | None = None  # None: console on a terminal, JSON otherwise
    log_level: str = "INFO"
    max_body_bytes: int = 1024 * 1024
    segment_max_batch_bytes: int = 500 * 1024
    max_events_per_request: int = 1000
    blocked_values: frozenset[str] = frozenset()
    merge_limits: MergeLimits = MergeLimits()
    # Strength, limit and priority per alias type (graph_model.identity_rules): the defaults of API.md, a
    # TOML file named by IDGRAPH_IDENTITY_RULES over them, and IDGRAPH_MERGE_LIMITS over that.
    identity_rules: IdentityRules = DEFAULTS
    anonymous_retention_days: int = 60
    purge_interval_seconds: int = 3600  # 0: no in-process purge (run `idgraph purge` instead)
    # How much of a client IP events keep: its network (IPv4 /24, IPv6 /48), a keyed hash, or nothing.
    ip_mode: IpMode = "truncate"
    ip_hash_key: str | None = None
    # Hardening (issue 9): JSON shape limits (422 with the failing path), aliases per request, how long a
    # body may take to arrive (408), origins that may call the ingestion endpoints from a browser, and an
    # optional token for /metrics (the admin token works too).
    max_json_depth: int = 20
    max_string_length: int = 1024 * 1024  # as large as a body: Segment messages may carry big strings
    max_object_keys: int = 1000
    max_aliases_per_request: int = 50
    # Write transactions the API runs at once before requests wait and share the next (group commit); 0: off.
    group_commit: int = 0
    body_read_timeout_seconds: float = 30.0
    cors_origins: tuple[str, ...] = ()
    metrics_token: str | None = None
    # Identifiers and times (issue 22): the region a phone number without a country code is read in (None:
    # such a number keeps its digits only), and how far in the future of its receipt an event time may be
    # before the receive time replaces it.
    default_phone_region: str | None = None
    max_future_skew_hours: float = 24.0
    # The change feed and its webhooks (issue 19): how long changes are kept (a cursor older than that is
    # 410), how long a delivery is retried, which hosts webhooks may target, the retry schedule (the first
    # retry after about webhook_backoff_seconds, doubled up to the max, with jitter), how often the worker
    # looks for changes, a webhook's lease (one process delivers it), the POST timeout, and the feed's safety
    # margin behind the oldest open transaction.
    changes_retention_days: int = 30
    webhook_retry_hours: float = 24.0
    webhook_allowed_hosts: tuple[str, ...] = ()
    webhook_backoff_seconds: float = 1.0
    webhook_backoff_max_seconds: float = 300.0
    webhook_poll_seconds: float = 1.0
    webhook_lease_seconds: float = 30.0
    webhook_timeout_seconds: float = 10.0
    changes_settle_seconds: float = 0.25
    webhook_delivery: bool = True  # IDGRAPH_WEBHOOK_DELIVERY=off: this process delivers nothing
    # API processes `idgraph serve` runs on one port, and how long each process may serve a source from its
    # own memory: a source disabled through one process is refused by every other within this bound
    # (README "Scaling out").
    workers: int = 1
    source_cache_seconds: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise SettingsError(f"IDGRAPH_PORT must be 1-65535, got {self.port}")
        if self.max_body_bytes < 1024:
            raise SettingsError("IDGRAPH_MAX_BODY_BYTES must be at least 1024")
        if self.max_events_per_request < 1:
            raise SettingsError("IDGRAPH_MAX_EVENTS_PER_REQUEST must be positive")
        for name, value in (
            ("IDGRAPH_MAX_JSON_DEPTH", self.max_json_depth),
            ("IDGRAPH_MAX_STRING_LENGTH", self.max_string_length),
            ("IDGRAPH_MAX_OBJECT_KEYS", self.max_object_keys),
            ("IDGRAPH_MAX_ALIASES_PER_REQUEST", self.max_aliases_per_request),
        ):
            if value < 1:
                raise SettingsError(f"{name} must be positive")
        if self.body_read_timeout_seconds < 0:
            raise SettingsError("IDGRAPH_BODY_READ_TIMEOUT_SECONDS must be 0 (off) or positive")
        if self.anonymous_retention_days < 1:
            raise SettingsError("IDGRAPH_ANONYMOUS_RETENTION_DAYS must be positive")
        if self.group_commit < 0:
            raise SettingsError("IDGRAPH_GROUP_COMMIT must be 0 (off) or positive")
        if self.purge_interval_seconds < 0:
            raise SettingsError("IDGRAPH_PURGE_INTERVAL_SECONDS must be 0 (off) or positive")
        if self.ip_mode not in IP_MODES:
            raise SettingsError(f"IDGRAPH_IP_MODE must be one of {', '.join(IP_MODES)}, got {self.ip_mode!r}")
        if self.ip_mode == "hash" and not self.ip_hash_key:
            raise SettingsError(
                "IDGRAPH_IP_MODE=hash needs IDGRAPH_IP_HASH_KEY (a secret, so hashes can't be reversed)"
            )
        try:
            phone_region(self.default_phone_region)
        except ValueError as exc:
            raise SettingsError(f"IDGRAPH_DEFAULT_PHONE_REGION: {exc}") from None
        if self.max_future_skew_hours < 0:
            raise SettingsError("IDGRAPH_MAX_FUTURE_SKEW_HOURS must be 0 or positive")
        if self.changes_retention_days < 1:
            raise SettingsError("IDGRAPH_CHANGES_RETENTION_DAYS must be positive")
        if self.webhook_retry_hours < 0:
            raise SettingsError("IDGRAPH_WEBHOOK_RETRY_HOURS must be 0 or positive")
        if not 0 < self.webhook_backoff_seconds <= self.webhook_backoff_max_seconds:
            raise SettingsError(
                "IDGRAPH_WEBHOOK_BACKOFF_SECONDS must be positive and at most"
                " IDGRAPH_WEBHOOK_BACKOFF_MAX_SECONDS"
            )
        if self.webhook_poll_seconds <= 0 or self.webhook_timeout_seconds <= 0:
            raise SettingsError(
                "IDGRAPH_WEBHOOK_POLL_SECONDS and IDGRAPH_WEBHOOK_TIMEOUT_SECONDS must be positive"
            )
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise SettingsError(
                "IDGRAPH_WEBHOOK_LEASE_SECONDS must be longer than IDGRAPH_WEBHOOK_TIMEOUT_SECONDS"
                " (a lease must outlast one delivery attempt)"
            )
        if self.changes_settle_seconds < 0:
            raise SettingsError("IDGRAPH_CHANGES_SETTLE_SECONDS must be 0 or positive")
        if self.workers < 1:
            raise SettingsError("IDGRAPH_WORKERS must be positive")
        if self.source_cache_seconds < 0:
            raise SettingsError("IDGRAPH_SOURCE_CACHE_SECONDS must be 0 (no cache) or positive")
        if self.neo4j_uri is not None and "://" not in self.neo4j_uri:
            raise SettingsError(
                f"NEO4J_URI must look like bolt://host:port or neo4j://host, got {self.neo4j_uri!r}"
            )

    @property
    def max_future_skew(self) -> timedelta:
        return timedelta(hours=self.max_future_skew_hours)

    def with_neo4j_uri(self, uri: str) -> Settings:
        return msgspec.structs.replace(self, neo4j_uri=uri)


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


def _on_off(env: dict[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("on", "true", "1", "yes"):
        return True
    if raw in ("off", "false", "0", "no"):
        return False
    raise SettingsError(f"{name} must be on or off, got {raw!r}")


def _phone_region(raw: str | None) -> str | None:
    try:
        return phone_region(raw)
    except ValueError as exc:
        raise SettingsError(f"IDGRAPH_DEFAULT_PHONE_REGION: {exc}") from None


def _identity_rules(path: str | None) -> IdentityRules:
    """The rules file named by IDGRAPH_IDENTITY_RULES over the defaults, validated now (not at the first
    request that needs a rule)."""
    if not path:
        return DEFAULTS
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"IDGRAPH_IDENTITY_RULES: cannot read {path!r}: {exc.strerror}") from None
    try:
        return parse_rules(text, where=f"IDGRAPH_IDENTITY_RULES {path}")
    except InvalidRules as exc:
        raise SettingsError(str(exc)) from None


def _merge_limits(raw: str | None, rules: IdentityRules) -> tuple[MergeLimits, IdentityRules]:
    """Parse `customer_id=1,user_id=1,email=5` (0: no limit) over the rules' limits; the rules' limits apply
    to types the variable does not name."""
    limits = rules.limits()
    if not raw:
        return MergeLimits(limits), rules
    overrides: dict[str, int] = {}
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip().isdigit():
            raise SettingsError(f"IDGRAPH_MERGE_LIMITS items look like type=N, got {item!r}")
        overrides[name.strip()] = int(value)
    rules = with_limits(rules, overrides)
    return MergeLimits(rules.limits()), rules


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    log_format = env.get("IDGRAPH_LOG_FORMAT") or None
    if log_format not in (None, "console", "json"):
        raise SettingsError(f"IDGRAPH_LOG_FORMAT must be console or json, got {log_format!r}")
    blocked = frozenset(
        v.strip().lower() for v in env.get("IDGRAPH_BLOCKED_VALUES", "").split(",") if v.strip()
    )
    merge_limits, identity_rules = _merge_limits(
        env.get("IDGRAPH_MERGE_LIMITS"), _identity_rules(env.get("IDGRAPH_IDENTITY_RULES"))
    )
    return Settings(
        host=env.get("IDGRAPH_HOST", "127.0.0.1"),
        port=_int(env, "IDGRAPH_PORT", 8000),
        admin_token=env.get("IDGRAPH_ADMIN_TOKEN") or None,
        data_dir=Path(env.get("IDGRAPH_DATA_DIR") or "var"),
        neo4j_uri=env.get("NEO4J_URI") or None,
        neo4j_user=env.get("NEO4J_USER") or "neo4j",
        neo4j_password=env.get("NEO4J_PASSWORD") or None,
        neo4j_database=env.get("NEO4J_DATABASE") or "neo4j",
        log_format=log_format,  # type: ignore[arg-type]
        log_level=(env.get("IDGRAPH_LOG_LEVEL") or "INFO").upper(),
        max_body_bytes=_int(env, "IDGRAPH_MAX_BODY_BYTES", 1024 * 1024),
        max_events_per_request=_int(env, "IDGRAPH_MAX_EVENTS_PER_REQUEST", 1000),
        blocked_values=blocked,
        merge_limits=merge_limits,
        identity_rules=identity_rules,
        anonymous_retention_days=_int(env, "IDGRAPH_ANONYMOUS_RETENTION_DAYS", 60),
        purge_interval_seconds=_int(env, "IDGRAPH_PURGE_INTERVAL_SECONDS", 3600),
        ip_mode=(env.get("IDGRAPH_IP_MODE") or "truncate").strip().lower(),  # type: ignore[arg-type]
        ip_hash_key=env.get("IDGRAPH_IP_HASH_KEY") or None,
        max_json_depth=_int(env, "IDGRAPH_MAX_JSON_DEPTH", 20),
        max_string_length=_int(env, "IDGRAPH_MAX_STRING_LENGTH", 1024 * 1024),
        max_object_keys=_int(env, "IDGRAPH_MAX_OBJECT_KEYS", 1000),
        max_aliases_per_request=_int(env, "IDGRAPH_MAX_ALIASES_PER_REQUEST", 50),
        group_commit=_int(env, "IDGRAPH_GROUP_COMMIT", 0),
        body_read_timeout_seconds=_float(env, "IDGRAPH_BODY_READ_TIMEOUT_SECONDS", 30.0),
        cors_origins=tuple(o.strip() for o in env.get("IDGRAPH_CORS_ORIGINS", "").split(",") if o.strip()),
        metrics_token=env.get("IDGRAPH_METRICS_TOKEN") or None,
        default_phone_region=_phone_region(env.get("IDGRAPH_DEFAULT_PHONE_REGION")),
        max_future_skew_hours=_float(env, "IDGRAPH_MAX_FUTURE_SKEW_HOURS", 24.0),
        changes_retention_days=_int(env, "IDGRAPH_CHANGES_RETENTION_DAYS", 30),
        webhook_retry_hours=_float(env, "IDGRAPH_WEBHOOK_RETRY_HOURS", 24.0),
        webhook_allowed_hosts=tuple(
            h.strip().lower() for h in env.get("IDGRAPH_WEBHOOK_ALLOWED_HOSTS", "").split(",") if h.strip()
        ),
        webhook_backoff_seconds=_float(env, "IDGRAPH_WEBHOOK_BACKOFF_SECONDS", 1.0),
        webhook_backoff_max_seconds=_float(env, "IDGRAPH_WEBHOOK_BACKOFF_MAX_SECONDS", 300.0),
        webhook_poll_seconds=_float(env, "IDGRAPH_WEBHOOK_POLL_SECONDS", 1.0),
        webhook_lease_seconds=_float(env, "IDGRAPH_WEBHOOK_LEASE_SECONDS", 30.0),
        webhook_timeout_seconds=_float(env, "IDGRAPH_WEBHOOK_TIMEOUT_SECONDS", 10.0),
        changes_settle_seconds=_float(env, "IDGRAPH_CHANGES_SETTLE_SECONDS", 0.25),
        webhook_delivery=_on_off(env, "IDGRAPH_WEBHOOK_DELIVERY", True),
        workers=_int(env, "IDGRAPH_WORKERS", 1),
        source_cache_seconds=_float(env, "IDGRAPH_SOURCE_CACHE_SECONDS", 2.0),
    )
