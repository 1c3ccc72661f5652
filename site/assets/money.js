/* Shared by the pages: where the API is, which campaign, and money as integer cents (never floats). */
"use strict";

const Jubilee = (() => {
  const config = window.JUBILEE_CONFIG || {};
  const params = new URLSearchParams(window.location.search);
  const campaign = /^[a-z0-9][a-z0-9-]{0,62}$/.test(params.get("campaign") || "")
    ? params.get("campaign") : (config.campaign || "demo");
  const api = (config.api || "").replace(/\/$/, "");  // "" = this site's own origin

  function cents(amount, currency) {
    const sign = amount < 0 ? "-" : "";
    const abs = Math.abs(amount);
    const whole = (abs - (abs % 100)) / 100;  // exact for integers: no float rounding
    const symbol = { USD: "$", EUR: "€", GBP: "£" }[currency || "USD"] || "";
    return `${sign}${symbol}${whole.toLocaleString("en-US")}.${String(abs % 100).padStart(2, "0")}`;
  }

  function perDollar(paidCents, faceCents) {
    if (!faceCents) return "—";
    const hundredths = Math.round((paidCents * 10000) / faceCents);  // cents per dollar, to 2 decimals
    return `${(hundredths - (hundredths % 100)) / 100}.${String(hundredths % 100).padStart(2, "0")}¢`;
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

  return { config, campaign, api, cents, perDollar, get };
})();
