"""Mutation guards for the lead service and the webhook helpers (see TESTING.md)."""
