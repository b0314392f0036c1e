"""What one sync pass did (its own module: the engine and the hunting passes both report it)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PassResult"]


@dataclass
class PassResult:
    """What one pass of one (tenant, entity) did."""

    tenant: str
    entity: str
    pages: int = 0
    records: int = 0
    changed: int = 0
    complete: bool = False
    seconds: float = 0.0
