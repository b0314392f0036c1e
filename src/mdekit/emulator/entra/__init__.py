"""The emulated Microsoft Entra ID token service: directory, tokens, discovery, consent."""
