"""Compiled backends. slope has one: IREE."""
