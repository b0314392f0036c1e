"""Threat & vulnerability management (TVM) for the Defender emulator.

Shipped public facts (:mod:`.cves`, :mod:`.products`, :mod:`.configs`), the per-tenant data
(:mod:`.store`: installed software; vulnerabilities derived from it), the entities and scores
(:mod:`.entities`), the assessment exports (:mod:`.exports`) and the hunting rows (:mod:`.hunting`).
"""
