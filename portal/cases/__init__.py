"""Cases: their keys, facilitators, participants, consent and status (``CaseCondition``)."""
