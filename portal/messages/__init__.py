"""Messages between participants: the state machine, the moderated queue, release on opt-in,
withdrawal, and drafts. Their ciphertext is stored by ``portal/content``."""
