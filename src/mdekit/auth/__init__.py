"""mdekit.auth."""
