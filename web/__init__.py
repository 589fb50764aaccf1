"""Agora's web site: server-rendered pages over the gateway's public HTTP API."""
