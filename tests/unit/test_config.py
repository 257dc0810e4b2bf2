"""C3, F1: the worker refuses at cold start a configuration the CRM would refuse on every call."""

from __future__ import annotations

import pytest

from ringbridge.config import ConfigurationError, Settings

WORKER = {
    name.upper(): f"x-{name}"
    for name in (
        "calls_table",
        "contacts_table",
        "cards_table",
        "tasks_table",
        "sip_mappings_table",
        "dedup_table",
        "call_queue_url",
        "crm_api_key_param",
    )
}
NETHUNT = {**WORKER, "CRM": "nethunt", "NETHUNT_EMAIL": "owner@example.com", "NETHUNT_CONTACTS_FOLDER_ID": "contacts"}


def test_c3_f1_nethunt_funnel_without_deals_folder_names_the_parameter() -> None:
    with pytest.raises(ConfigurationError, match=r"NethuntDealsFolderId.*FunnelEnabled=false"):
        Settings.from_env(NETHUNT).require("crm_sync")


def test_c3_f1_nethunt_without_funnel_or_with_deals_folder_starts() -> None:
    Settings.from_env({**NETHUNT, "FUNNEL_ENABLED": "false"}).require("crm_sync")
    Settings.from_env({**NETHUNT, "NETHUNT_DEALS_FOLDER_ID": "deals"}).require("crm_sync")


def test_c3_nethunt_needs_its_contacts_folder_and_email() -> None:
    env = {**WORKER, "CRM": "nethunt", "FUNNEL_ENABLED": "false"}
    with pytest.raises(ConfigurationError, match=r"NethuntEmail.*NethuntContactsFolderId"):
        Settings.from_env(env).require("crm_sync")


def test_c3_f1_keycrm_funnel_id_must_be_numeric() -> None:
    with pytest.raises(ConfigurationError, match=r"FunnelId.*'sales'"):
        Settings.from_env({**WORKER, "CRM": "keycrm", "FUNNEL_ID": "sales"}).require("crm_sync")
    Settings.from_env({**WORKER, "CRM": "keycrm", "FUNNEL_ID": "12"}).require("crm_sync")
    Settings.from_env({**WORKER, "CRM": "keycrm", "FUNNEL_ID": "sales", "FUNNEL_ENABLED": "false"}).require("crm_sync")


def test_c3_other_functions_are_not_held_by_the_crm_choice() -> None:
    Settings.from_env({**NETHUNT, "CONTACTS_TABLE": "c", "WEBHOOK_TOKEN_PARAM": "p"}).require("routing")


def test_the_crm_rate_limit_settings_reach_the_adapters() -> None:
    """The limit per CRM, the margin and the wait are configuration; NetHunt's limit is a guess, so a parameter."""
    from ringbridge import wiring
    from ringbridge.crm import KeyCrmConfig, NetHuntConfig, build_crm
    from ringbridge.storage.rate_budget import DynamoRateBudget

    env = {**NETHUNT, "NETHUNT_REQUESTS_PER_MINUTE": "30", "CRM_RATE_MARGIN_PERCENT": "20", "CRM_RATE_WAIT_SECONDS": "5"}
    wiring.use(Settings.from_env(env))
    try:
        rate = wiring.crm_rate()
    finally:
        wiring.reset()
    assert isinstance(rate.budget, DynamoRateBudget) and rate.budget.table == "x-dedup_table"
    assert (rate.margin, rate.max_wait) == (0.2, 5.0)
    assert NetHuntConfig.from_env(env).requests_per_minute == 30
    assert NetHuntConfig.model_validate({"email": "a@b.c", "contacts_folder_id": "c"}).requests_per_minute == 60
    assert KeyCrmConfig().requests_per_minute == 60  # KeyCRM's documented limit
    crm = build_crm("nethunt", "key", env, rate=rate)
    limit = crm._http._rate_limit  # type: ignore[attr-defined]
    assert (limit.allowed, limit.slot_seconds, limit.max_wait) == (24, 2.5, 5.0)
    with pytest.raises(ValueError):
        Settings.from_env({"CRM_RATE_MARGIN_PERCENT": "60"})
