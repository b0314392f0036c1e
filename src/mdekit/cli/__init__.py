"""mdekit.cli."""
