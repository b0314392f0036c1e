"""The emulated Microsoft Defender for Endpoint API: store, routes, OData, throttling."""
