/* The donation page: amount (a preset or your own), optional details, then the provider's checkout. */
"use strict";

(() => {
  const { campaign, api, get, cents, parseCents, units } = Jubilee;
  const $ = (id) => document.getElementById(id);
  const form = $("donate-form"), custom = $("custom-amount"), email = $("donor-email"), status = $("form-status");
  const MIN_CENTS = 100, MAX_CENTS = 10_000_000;  // the API checks too, against the campaign's own limits
  let currency = "USD";  // until the campaign says which it takes
  const whole = (amount) => cents(amount, currency).replace(/\.00$/, "");

  // The page speaks the campaign's currency: the presets, the amount's label, the errors and the request.
  const loaded = get(`/campaigns/${campaign}`).then((answer) => {
    if (answer.status !== 200) return;
    $("campaign-name").textContent = answer.body.name;
    currency = answer.body.currency;
    for (const radio of form.querySelectorAll("input[name=preset]")) {
      if (radio.value !== "other") form.querySelector(`label[for=${radio.id}]`).textContent = whole(Number(radio.value));
    }
    $("amount-unit").textContent = units(currency);
  }).catch(() => {});  // (unreachable campaign: the submit then says so)

  // Typing an amount chooses "Other"; choosing a preset clears the error.
  custom.addEventListener("input", () => { $("preset-other").checked = true; });
  for (const radio of form.querySelectorAll("input[name=preset]")) {
    radio.addEventListener("change", () => fieldError(custom, "amount-error", ""));
  }

  function fieldError(input, id, message) {
    $(id).textContent = message;
    if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    return !message;
  }

  function amount() {
    const chosen = form.querySelector("input[name=preset]:checked");
    if (chosen && chosen.value !== "other") return Number(chosen.value);
    const value = parseCents(custom.value);
    if (value === null) {
      fieldError(custom, "amount-error", `Enter an amount in ${units(currency)}, like 40 or 12.50.`);
    } else if (value < MIN_CENTS) {
      fieldError(custom, "amount-error", `The smallest gift is ${cents(MIN_CENTS, currency)}.`);
    } else if (value > MAX_CENTS) {
      fieldError(custom, "amount-error", `For gifts over ${cents(MAX_CENTS, currency)}, please contact the campaign.`);
    } else {
      fieldError(custom, "amount-error", "");
      return value;
    }
    custom.focus();
    return null;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await loaded;
    const amountCents = amount();
    const mail = email.value.trim();
    const emailOk = fieldError(email, "email-error",
      mail && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(mail) ? "That email address looks incomplete (name@example.org)." : "");
    if (amountCents === null || !emailOk) return;
    const donor = {};
    if ($("donor-name").value.trim()) donor.name = $("donor-name").value.trim();
    if (mail) donor.email = mail;
    const body = { amount_cents: amountCents, currency, anonymous: $("anonymous").checked,
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
