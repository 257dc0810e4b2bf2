"""The guard itself: a Scan through ringbridge's clients fails the test (issue 6: no Scan anywhere)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import AwsStack


def test_a_scan_by_ringbridge_is_refused(aws: AwsStack) -> None:
    from ringbridge.storage.aws import client

    with pytest.raises(AssertionError, match="Scan"):
        client("dynamodb").scan(TableName=aws.environment["CONTACTS_TABLE"])
