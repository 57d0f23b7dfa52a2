"""Notifications: rendering (pure), channels (apprise) and the outbox (claim, deliver, retry)."""
