"""Payment providers: each one only talks to its provider; the core (portal.payments) owns payment state."""
