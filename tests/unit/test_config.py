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
