"""mdekit: reach Microsoft Defender for Endpoint from code, without a user.

Public names are imported lazily so that ``import mdekit`` (and ``mde --help``) stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports on first use
    from mdekit.auth.credentials import CertificateCredential, ClientSecretCredential
    from mdekit.client.defender import AsyncDefender, Defender
    from mdekit.client.ratelimit import RateLimiter
    from mdekit.client.retry import RetryPolicy
    from mdekit.clouds import Cloud, get_cloud
    from mdekit.errors import (
        ActionAlreadyPendingError,
        ApiError,
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        ConflictError,
        EmulatorError,
        ForbiddenError,
        MdeError,
        NotFoundError,
        PermissionMissingError,
        RetiredApiError,
        RetiringApiWarning,
        ServerError,
        ThrottledError,
        TokenValidationError,
        TransportError,
    )

#: public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "MdeError": "mdekit.errors",
    "ConfigurationError": "mdekit.errors",
    "AuthenticationError": "mdekit.errors",
    "TokenValidationError": "mdekit.errors",
    "PermissionMissingError": "mdekit.errors",
    "RetiredApiError": "mdekit.errors",
    "RetiringApiWarning": "mdekit.errors",
    "ApiError": "mdekit.errors",
    "BadRequestError": "mdekit.errors",
    "ActionAlreadyPendingError": "mdekit.errors",
    "ForbiddenError": "mdekit.errors",
    "NotFoundError": "mdekit.errors",
    "ConflictError": "mdekit.errors",
    "ThrottledError": "mdekit.errors",
    "ServerError": "mdekit.errors",
    "TransportError": "mdekit.errors",
    "EmulatorError": "mdekit.errors",
    # client
    "Defender": "mdekit.client.defender",
    "AsyncDefender": "mdekit.client.defender",
    "RetryPolicy": "mdekit.client.retry",
    "RateLimiter": "mdekit.client.ratelimit",
    "ClientSecretCredential": "mdekit.auth.credentials",
    "CertificateCredential": "mdekit.auth.credentials",
    # clouds
    "Cloud": "mdekit.clouds",
    "get_cloud": "mdekit.clouds",
}

__all__ = [  # the names in _EXPORTS (a unit test keeps the three lists in step)
    "ActionAlreadyPendingError",
    "ApiError",
    "AsyncDefender",
    "AuthenticationError",
    "BadRequestError",
    "CertificateCredential",
    "ClientSecretCredential",
    "Cloud",
    "ConfigurationError",
    "ConflictError",
    "Defender",
    "EmulatorError",
    "ForbiddenError",
    "MdeError",
    "NotFoundError",
    "PermissionMissingError",
    "RateLimiter",
    "RetiredApiError",
    "RetiringApiWarning",
    "RetryPolicy",
    "ServerError",
    "ThrottledError",
    "TokenValidationError",
    "TransportError",
    "__version__",
    "get_cloud",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mdekit' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return list(__all__)
