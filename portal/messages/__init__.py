"""Messages between participants: content objects, the moderated queue, release and opt-in."""
