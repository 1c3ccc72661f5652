/* The donation page: amount (a preset or your own), optional details, then the provider's checkout. */
"use strict";

(() => {
  const { campaign, api, get } = Jubilee;
  const $ = (id) => document.getElementById(id);
  const form = $("donate-form"), custom = $("custom-amount"), email = $("donor-email"), status = $("form-status");
  const MIN_CENTS = 100, MAX_CENTS = 10_000_000;  // the API checks too, against the campaign's own limits

  get(`/campaigns/${campaign}`).then((answer) => {
    if (answer.status === 200) $("campaign-name").textContent = answer.body.name;
  });

  // Typing an amount chooses "Other"; choosing a preset clears the error.
  custom.addEventListener("input", () => { $("preset-other").checked = true; });
  for (const radio of form.querySelectorAll("input[name=preset]")) {
    radio.addEventListener("change", () => fieldError(custom, "amount-error", ""));
  }

  /** Dollars as typed ("40", "12.5", "1,000.00") to integer cents, or null. */
  function toCents(text) {
    const match = /^\s*\$?\s*(\d{1,3}(,\d{3})+|\d+)(\.(\d{1,2}))?\s*$/.exec(text);
    if (!match) return null;
    return Number(match[1].replace(/,/g, "")) * 100 + Number((match[4] || "0").padEnd(2, "0"));
  }

  function fieldError(input, id, message) {
    $(id).textContent = message;
    if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    return !message;
  }

  function amount() {
    const chosen = form.querySelector("input[name=preset]:checked");
    if (chosen && chosen.value !== "other") return Number(chosen.value);
    const value = toCents(custom.value);
    if (value === null) {
      fieldError(custom, "amount-error", "Enter an amount in dollars, like 40 or 12.50.");
    } else if (value < MIN_CENTS) {
      fieldError(custom, "amount-error", "The smallest gift is $1.00.");
    } else if (value > MAX_CENTS) {
      fieldError(custom, "amount-error", "For gifts over $100,000.00, please contact the campaign.");
    } else {
      fieldError(custom, "amount-error", "");
      return value;
    }
    custom.focus();
    return null;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const cents = amount();
    const mail = email.value.trim();
    const emailOk = fieldError(email, "email-error",
      mail && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(mail) ? "That email address looks incomplete (name@example.org)." : "");
    if (cents === null || !emailOk) return;
    const donor = {};
    if ($("donor-name").value.trim()) donor.name = $("donor-name").value.trim();
    if (mail) donor.email = mail;
    const body = { amount_cents: cents, currency: "USD", anonymous: $("anonymous").checked,
      frequency: $("monthly").checked ? "monthly" : "once", cover_fees: $("cover-fees").checked, donor };
    $("give").disabled = true;
    status.className = "note";
    status.textContent = "Opening the payment page…";
    try {
      // One key per attempt: a double click or a network retry replays the same donation.
      const key = form.dataset.key || (form.dataset.key = crypto.randomUUID());
      const response = await fetch(`${api}/campaigns/${campaign}/donations`, {
        method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": key },
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.status === 201 || response.status === 202) {
        window.location.assign(answer.checkout_url);  // the provider's page; it sends the donor back here
        return;
      }
      status.className = "error";
      status.textContent = answer.message  // names the field and the problem, e.g. "body.amount_cents: ..."
        ? `The gift could not be started: ${answer.message}` : "The gift could not be started; please try again.";
      delete form.dataset.key;  // a corrected form is a new attempt
    } catch (error) {
      status.className = "error";
      status.textContent = "The campaign could not be reached; check your connection and try again.";
    }
    $("give").disabled = false;
  });
})();
