"""Installation secrets, read from SSM Parameter Store (SecureString) through Powertools."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

SECRET_CACHE_SECONDS = 300


@lru_cache(maxsize=1)
def _provider() -> Any:
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from botocore.config import Config

    # Short deadlines: the routing ping must not hang on a slow secrets store.
    config = Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 2})
    return SSMProvider(boto_config=config)


def secrets_client() -> None:
    """Create the SSM client now (Lambda's init phase) so the first request only makes the call."""
    _provider()  # Powertools' provider creates its boto3 client when it is made


def get_secret(parameter_name: str) -> str:
    """The decrypted value, cached per container for five minutes."""
    value = _provider().get(parameter_name, decrypt=True, max_age=SECRET_CACHE_SECONDS)
    return str(value)


def reset_secrets() -> None:
    _provider.cache_clear()
