"""Shared kit of every Agora service: configuration, database, events, auth, logging, metrics, errors."""
