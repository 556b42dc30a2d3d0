// Choosing a new password: templates/partials/new_password_fields.html (the password typed
// twice, the strength meter, the passphrase suggester), used when joining, when getting back in
// with the recovery code and when changing the password.

import { part } from "./dom.js";
import { clearSecretInputs } from "./forms.js";
import {
  attachPassphraseSuggester,
  attachStrengthMeter,
  newPasswordProblem,
} from "./password-strength.js";

/**
 * Wire the partial inside `root`. `userWords()` names words a guesser would try first (the
 * sign-in name). Returns {password, confirm, problems(), clear()}: problems() is a list of
 * [input, sentence] pairs (empty when the new password may be used); clear() empties both
 * inputs and any suggested passphrase shown.
 */
export function newPasswordFields(root, { userWords = () => [] } = {}) {
  const password = part(root, "new-password");
  const confirm = part(root, "confirm-password");
  attachStrengthMeter(password, part(root, "new-password-strength"), { userWords });
  const suggester = attachPassphraseSuggester(part(root, "passphrase-suggester"), [
    password,
    confirm,
  ]);
  return {
    password,
    confirm,
    problems() {
      const bad = newPasswordProblem(password.value, confirm.value, userWords());
      if (!bad) return [];
      return [[bad.which === "password" ? password : confirm, bad.message]];
    },
    clear() {
      clearSecretInputs(password, confirm);
      suggester.clear();
    },
  };
}
