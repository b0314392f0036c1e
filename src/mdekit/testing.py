"""pytest plugin and helpers for testing your own MDE automation against the emulator.

PLACEHOLDER: the fixtures land with the test-kit work (issue 7).
"""
