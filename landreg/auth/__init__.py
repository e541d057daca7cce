"""Accounts, passwords, API tokens and who may do what (no Flask here)."""
