"""The one configuration: read once per container from the environment that template.yaml sets.

Every setting is validated here (pydantic); each function declares the settings it cannot
work without (``REQUIRED``), checked when it starts (``Settings.require``), so a missing
variable fails the cold start with its name instead of the first AWS call.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from ringbridge.domain.rules import SyncRules

# The settings each function needs; the names are the environment variables' in lower case.
_WEBHOOK = ("calls_table", "dedup_table", "call_queue_url", "webhook_token_param")
REQUIRED: dict[str, tuple[str, ...]] = {
    "routing": ("contacts_table", "webhook_token_param"),
    "call_events": _WEBHOOK,
    "recordings": _WEBHOOK,
    "crm_sync": (
        "calls_table",
        "contacts_table",
        "cards_table",
        "tasks_table",
        "sip_mappings_table",
        "dedup_table",
        "call_queue_url",
    ),
    "admin": (
        "contacts_table",
        "sip_mappings_table",
        "calls_table",
        "cards_table",
        "tasks_table",
        "api_clients_table",
        "admin_token_param",
    ),
    "reconcile": ("calls_table", "dedup_table", "call_queue_url", "admin_token_param", "ringostat_auth_key_param"),
    "crm_contacts": ("contacts_table", "sip_mappings_table", "dedup_table", "admin_token_param"),
    "contact_push": ("sip_mappings_table", "ringostat_auth_key_param"),
    "crm_api": (
        "contacts_table",
        "sip_mappings_table",
        "calls_table",
        "cards_table",
        "tasks_table",
        "dedup_table",
        "api_clients_table",
    ),
}


class ConfigurationError(RuntimeError):
    """A function started without a setting it needs (a template or deployment mistake)."""


class Settings(BaseModel):
    default_country: str = Field(default="PL", pattern=r"^[A-Z]{2}$")
    contacts_table: str = ""
    sip_mappings_table: str = ""
    dedup_table: str = ""
    calls_table: str = ""
    cards_table: str = ""
    tasks_table: str = ""
    api_clients_table: str = ""
    call_queue_url: str = ""
    call_dlq_url: str = ""
    crm: Literal["builtin", "keycrm", "nethunt"] = "builtin"
    crm_api_key_param: str = ""
    webhook_token_param: str = ""
    admin_token_param: str = ""
    # What the routing ping answers when nobody is responsible (R3); see docs/operating.md.
    routing_no_target: Literal["empty", "omit", "not_found"] = "empty"
    routing_store_timeout_ms: int = Field(default=400, ge=50, le=5000)
    max_body_bytes: int = Field(default=65536, ge=1024)
    # Ringostat's "YYYY-MM-DD HH:MM:SS" dates carry no zone: they are read in this one.
    project_timezone: str = "Europe/Warsaw"
    # The worker's own retry delay (doubles per receive) and SQS's maxReceiveCount, for the logs.
    retry_base_seconds: int = Field(default=5, ge=0, le=300)
    max_receive_count: int = Field(default=5, ge=1)
    # CRM-facing API: click-to-call through Ringostat's REST API (X1) or a softphone deep link (X2).
    ringostat_api_url: str = "https://api.ringostat.net"
    ringostat_auth_key_param: str = ""
    ringostat_project_id_param: str = ""
    ringostat_timeout_ms: int = Field(default=5000, ge=100, le=8000)
    deep_link: bool = False
    # Reconciliation (L1): each scheduled run reads the last period plus the overlap.
    reconcile_period_minutes: int = Field(default=30, ge=1, le=1440)
    reconcile_overlap_minutes: int = Field(default=30, ge=0, le=1440)
    # R2 with KeyCRM/NetHunt: how often the contacts changed in the CRM are pulled into routing.
    crm_contact_pull_minutes: int = Field(default=15, ge=1, le=1440)
    # Caller ID in Ringostat (S1): contacts pushed through this queue; off: nothing is queued.
    contact_push: bool = True
    contact_push_queue_url: str = ""
    # The least time between two contact-sync requests of one worker (its rate limit).
    contact_push_interval_ms: int = Field(default=200, ge=0, le=10000)
    # The CRM's page of a contact, "{id}" standing for its id (contactLink); empty: none.
    crm_contact_url: str = ""
    # Call events for automations (A1): the stack's EventBridge bus; empty: none published.
    call_event_bus: str = ""
    api_key_cache_seconds: int = Field(default=60, ge=0, le=900)
    # The CRM's rate limit (KEYCRM_/NETHUNT_REQUESTS_PER_MINUTE), shared by every container through
    # the dedup table: the share of it left unused, and how long a request may wait for its turn.
    crm_rate_margin_percent: int = Field(default=10, ge=0, le=50)
    crm_rate_wait_seconds: int = Field(default=20, ge=1, le=45)
    # The pipeline's rules (P7, F1-F4, T1, L1 imported calls), e.g. ``FUNNEL_MODE=repeatable``, ``IMPORTED_CALLS_CRM_WORK=full``.
    rules: SyncRules = Field(default_factory=SyncRules)
    # The CRM adapters' own variables (CRM_BASE_URL, KEYCRM_*, NETHUNT_*), parsed by their configs.
    crm_environment: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        source = os.environ if env is None else env
        values: dict[str, object] = {
            name: source[name.upper()]
            for name in cls.model_fields
            if name not in ("rules", "crm_environment") and name.upper() in source
        }
        values["rules"] = {name: source[name.upper()] for name in SyncRules.model_fields if source.get(name.upper())}
        values["crm_environment"] = {
            name: value for name, value in source.items() if name == "CRM_BASE_URL" or name.startswith(("KEYCRM_", "NETHUNT_"))
        }
        return cls.model_validate(values)

    def require(self, function: str) -> Settings:
        """Raise :class:`ConfigurationError` naming every variable ``function`` needs and lacks."""
        needed = list(REQUIRED[function])
        if function in ("crm_sync", "crm_contacts") and self.crm != "builtin":
            needed.append("crm_api_key_param")
        missing = [name.upper() for name in needed if not getattr(self, name)]
        if missing:
            raise ConfigurationError(f"{function}: missing environment variable(s) {', '.join(missing)} (set by template.yaml)")
        if function == "crm_sync":
            problems = self.crm_problems()
            if problems:
                raise ConfigurationError(f"{function}: impossible configuration: {'; '.join(problems)}")
        return self

    def crm_problems(self) -> list[str]:
        """Combinations of template parameters the CRM would refuse on every call, each naming what to change."""
        env, rules, problems = self.crm_environment, self.rules, []
        if self.crm == "nethunt":
            if not env.get("NETHUNT_EMAIL"):
                problems.append("Crm=nethunt needs NethuntEmail (the API user's e-mail)")
            if not env.get("NETHUNT_CONTACTS_FOLDER_ID"):
                problems.append("Crm=nethunt needs NethuntContactsFolderId")
            if rules.funnel_enabled and not env.get("NETHUNT_DEALS_FOLDER_ID"):
                problems.append("FunnelEnabled=true with Crm=nethunt needs NethuntDealsFolderId (or set FunnelEnabled=false)")
        if self.crm == "keycrm" and rules.funnel_enabled and not rules.funnel_id.isdigit():
            problems.append(f"Crm=keycrm takes a numeric pipeline id as FunnelId, not {rules.funnel_id[:20]!r}")
        return problems


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()
