"""Accounts, invitations, sign-in sessions and throttling."""
