"""Screens of the viewer (main, help), one per module; import them from their modules."""
