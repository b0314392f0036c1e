"""Deterministic tenant data for the Defender emulator."""

from mdekit.emulator.defender.seed.generator import SeedResult, seed_tenant

__all__ = ["SeedResult", "seed_tenant"]
