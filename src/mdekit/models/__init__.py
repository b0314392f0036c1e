"""mdekit.models."""
