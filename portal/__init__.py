"""A secure, facilitator-moderated messaging portal for restorative justice."""
