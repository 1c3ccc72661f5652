/* Shared by the pages: where the API is, which campaign, and money as integer cents (never floats). */
"use strict";

const Jubilee = (() => {
  const config = window.JUBILEE_CONFIG || {};
  const params = new URLSearchParams(window.location.search);
  const campaign = /^[a-z0-9][a-z0-9-]{0,62}$/.test(params.get("campaign") || "")
    ? params.get("campaign") : (config.campaign || "demo");
  const api = (config.api || "").replace(/\/$/, "");  // "" = this site's own origin

  // As functions/domain/money.py's format_cents and planner.py's cents_per_dollar write them, so the
  // pages, the API and the CLI agree to the cent (tests/browser/test_site.py compares them).
  const SYMBOLS = { USD: "$", EUR: "€", GBP: "£", CAD: "CA$", AUD: "A$" };
  // What an amount is typed in, for labels and errors ("Enter an amount in pounds").
  const UNITS = { USD: "dollars", EUR: "euros", GBP: "pounds", CAD: "Canadian dollars", AUD: "Australian dollars" };

  function cents(amount, currency) {
    const code = currency || "USD";
    const sign = amount < 0 ? "-" : "";
    const abs = Math.abs(amount);
    const whole = (abs - (abs % 100)) / 100;  // exact for integers: no float rounding
    const symbol = SYMBOLS[code] || "";
    return `${sign}${symbol}${whole.toLocaleString("en-US")}.${String(abs % 100).padStart(2, "0")}`
      + (symbol ? "" : ` ${code}`);
  }

  function perDollar(paidCents, faceCents) {
    if (!(faceCents > 0)) return "-";
    // Cents per dollar to a hundredth, rounded down, in integers (BigInt: no float rounding).
    const hundredths = Number((BigInt(paidCents) * 10000n) / BigInt(faceCents));
    return `${(hundredths - (hundredths % 100)) / 100}.${String(hundredths % 100).padStart(2, "0")}¢`;
  }

  /** An amount as typed ("40", "12.5", "1,000.00", "£40") to integer cents, or null. Every currency a
      campaign may use has two decimals (functions/domain/money.py CURRENCIES). */
  function parseCents(text) {
    const match = /^\s*(?:CA\$|A\$|[$€£])?\s*(\d{1,3}(,\d{3})+|\d+)(\.(\d{1,2}))?\s*$/.exec(text);
    if (!match) return null;
    return Number(match[1].replace(/,/g, "")) * 100 + Number((match[4] || "0").padEnd(2, "0"));
  }

  /** As functions/domain/impact.py's abolished_share_cents: gift ÷ raised × face value forgiven, rounded
      down to the cent, in integers (BigInt: no float rounding); 0 when nothing is raised. */
  function abolishedShare(giftCents, raisedCents, faceCents) {
    if (!(raisedCents > 0)) return 0;
    return Number((BigInt(giftCents) * BigInt(faceCents)) / BigInt(raisedCents));
  }

  async function get(path) {
    const response = await fetch(`${api}${path}`, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    return { status: response.status, body };
  }

  // Links between the pages keep the campaign they are showing.
  document.addEventListener("DOMContentLoaded", () => {
    if (params.get("campaign")) {
      for (const link of document.querySelectorAll("a[data-keep-campaign]")) {
        link.href = `${link.getAttribute("href")}?campaign=${encodeURIComponent(campaign)}`;
      }
    }
  });

  const units = (currency) => UNITS[currency] || currency;

  return { config, campaign, api, cents, perDollar, parseCents, abolishedShare, units, get };
})();
