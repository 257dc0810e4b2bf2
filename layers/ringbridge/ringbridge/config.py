"""Settings of a function, read once per container from its environment (set by template.yaml)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from ringbridge.domain.sync import SyncRules


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
    # What the routing ping answers when nobody is responsible (R3); see README.
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
    api_key_cache_seconds: int = Field(default=60, ge=0, le=900)

    @classmethod
    def from_env(cls) -> Settings:
        values = {name: os.environ[name.upper()] for name in cls.model_fields if name.upper() in os.environ}
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()


@lru_cache(maxsize=1)
def sync_rules() -> SyncRules:
    """The pipeline's rules (P7, F1-F4, T1) from the environment, e.g. ``FUNNEL_MODE=repeatable``."""
    values = {name: os.environ[name.upper()] for name in SyncRules.model_fields if os.environ.get(name.upper())}
    return SyncRules.model_validate(values)
