"""Identity: accounts, sign-in sessions, sign-in throttling, password change, recovery and the
vault. Knows nothing of cases or invitations."""
