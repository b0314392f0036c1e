"""mdekit.client."""
