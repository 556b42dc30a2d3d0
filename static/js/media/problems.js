// What a player or a page viewer shows in its own place when a part cannot be shown (media/
// player.js, media/viewer.js): one calm sentence in an alert, never the error's own text.

/** A protocol error from the checks (as opposed to fetching or playing). */
export function isCheckFailure(error) {
  return (
    Boolean(error) &&
    /^(ProtocolError|DecryptionFailed|MalformedInput|WrongContext)$/.test(error.name)
  );
}

/** The alert that takes the part's place. */
export function problemNotice(sentence) {
  const alert = document.createElement("p");
  alert.className = "notice error media-problem";
  alert.setAttribute("role", "alert");
  alert.textContent = sentence;
  return alert;
}
