"""Accounts: users, roles, sign-in, and the roster import."""
