"""The load benchmark's baseline endpoint, mounted by its own settings (never production's)."""
