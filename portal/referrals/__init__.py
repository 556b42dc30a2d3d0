"""Referrals: the service's referral key, who holds it, and referrals sealed to it
(docs/api-referrals.md). Imports accounts, trust, audit; only routes, app and workspace import
it."""
