"""Delivery: subscribers, the ledger, messages, SMTP and the web endpoints."""
