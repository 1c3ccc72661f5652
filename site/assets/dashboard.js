/* The transparency dashboard: the campaign's public figures, purchases, public log and the letter check.
   Reads the public API, or window.JUBILEE_DATA when the page is a self-contained report. */
"use strict";

(() => {
  const { campaign, cents, perDollar, parseCents, abolishedShare, units, get } = Jubilee;
  const embedded = window.JUBILEE_DATA || null;
  const $ = (id) => document.getElementById(id);

  async function load() {
    if (embedded) return embedded;
    const figures = await get(`/campaigns/${campaign}`);
    if (figures.status !== 200) throw new Error(figures.body.message || `no campaign ${campaign}`);
    const purchases = await get(`/campaigns/${campaign}/purchases`);
    const log = [];
    for (let after = 0, more = true; more;) {  // every page of the public log
      const page = await get(`/campaigns/${campaign}/log?after=${after}`);
      log.push(...page.body.entries);
      more = Boolean(page.body.next) && page.body.entries.length > 0;
      if (more) after = page.body.entries[page.body.entries.length - 1].seq;
    }
    return { figures: figures.body, purchases: purchases.body.purchases, log };
  }

  function showFigures(f) {
    const currency = f.currency;
    document.title = `${f.name} — Jubilee`;
    $("campaign-name").textContent = f.name;
    $("raised").textContent = cents(f.raised_cents, currency);
    $("abolished").textContent = cents(f.face_value_forgiven_cents, currency);
    $("ratio").textContent = perDollar(f.spent_cents, f.face_value_forgiven_cents);
    $("people").textContent = f.accounts_forgiven.toLocaleString("en-US");
    $("letters-mailed").textContent = f.letters_sent.toLocaleString("en-US");
    $("letters-returned").textContent = (f.letters_returned || 0).toLocaleString("en-US");
    $("reserve").textContent = cents(f.reserve_cents, currency);
    $("pool").textContent = cents(f.pool_available_cents, currency);
    $("log-head").textContent = f.log_head;
    $("log-entries").textContent = `(${f.log_entries} entries)`;
  }

  function showPurchases(purchases, currency) {
    const body = $("purchases").querySelector("tbody");
    if (!purchases.length) return;
    const labels = [...$("purchases").querySelectorAll("thead th")].map((th) => th.textContent);  // for the reflow
    body.replaceChildren(...[...purchases].sort((a, b) => (b.settled_at || "").localeCompare(a.settled_at || ""))
      .map((p) => {
        const row = document.createElement("tr");
        // The plan id names the purchase in the public log, the exports and the operator's commands.
        const cells = [(p.settled_at || "").slice(0, 10), p.plan_id, p.seller, p.accounts.toLocaleString("en-US"),
          cents(p.face_value_cents, currency), cents(p.price_cents, currency), `${p.cents_per_dollar}`];
        cells.forEach((text, i) => {
          const cell = document.createElement("td");
          if (i >= 3) cell.className = "num";
          cell.dataset.label = labels[i];
          cell.textContent = text;
          row.append(cell);
        });
        return row;
      }));
  }

  function showCharts(purchases, log, currency) {
    const states = {};
    for (const p of purchases) {
      for (const [state, v] of Object.entries(p.by_state || {})) {
        states[state] = (states[state] || 0) + v.face_value_cents;
      }
    }
    const rows = Object.entries(states).sort((a, b) => b[1] - a[1]).slice(0, 15)
      .map(([state, value]) => [state, value, cents(value, currency)]);
    Charts.bars($("by-state"), rows, "Face value forgiven by state");
    const moments = {};  // to the minute: a young campaign's purchases are hours apart, not days
    for (const entry of log) {
      if (entry.type !== "forgiveness") continue;
      const moment = (entry.at || "").slice(0, 16).replace("T", " ");
      moments[moment] = (moments[moment] || 0) + entry.face_value_cents;
    }
    const points = Object.entries(moments).sort((a, b) => a[0].localeCompare(b[0]));
    Charts.cumulative($("over-time"), points, (v) => cents(v, currency), "Face value forgiven over time");
  }

  /** A donor's share of the debt abolished so far (functions/domain/impact.py), for any gift typed in. */
  function showShare(f) {
    const share = (gift) => abolishedShare(gift, f.raised_cents, f.face_value_forgiven_cents);
    $("share-unit").textContent = units(f.currency);
    $("share-per-unit").textContent = `each ${cents(100, f.currency)} given has abolished `
      + `${cents(share(100), f.currency)} of debt`;
    const input = $("share-gift"), result = $("share-result");
    $("share-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const gift = parseCents(input.value);
      if (gift === null || gift <= 0) {
        input.setAttribute("aria-invalid", "true");
        result.textContent = `Enter your gift in ${units(f.currency)}, like 25 or 12.50.`;
        return;
      }
      input.removeAttribute("aria-invalid");
      result.textContent = `A gift of ${cents(gift, f.currency)}: ${cents(share(gift), f.currency)} of debt abolished so far.`;
    });
  }

  function showVerification() {
    if (embedded) {  // a file: no live API to point at, but an export verifies the same way
      $("verify-command").textContent = `jubilee export --campaign ${campaign} --out DIR\njubilee verify-log DIR`;
      $("log-link").href = "#log-title";
      $("log-link").textContent = `embedded in this report (${embedded.log.length} entries)`;
      return;
    }
    const base = Jubilee.config.apiUrl || `${window.location.origin}${Jubilee.api}`;
    const url = `${base.replace(/\/$/, "")}/campaigns/${campaign}`;
    $("verify-command").textContent = `jubilee verify-log ${url}`;
    $("log-link").href = `${Jubilee.api}/campaigns/${campaign}/log`;
    $("log-link").textContent = `${url}/log`;
  }

  function letterCheck() {
    const form = $("verify-form"), input = $("code"), result = $("code-result");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const code = input.value.replace(/[\s-]/g, "").toUpperCase();
      if (!/^[A-Z2-7]{16}$/.test(code)) {
        input.setAttribute("aria-invalid", "true");
        result.className = "error";
        result.textContent = "A code is 16 letters and digits (2 to 7), as printed on the letter.";
        return;
      }
      input.removeAttribute("aria-invalid");
      if (embedded) {
        result.className = "note";
        result.textContent = "This is an offline report: check your code on the campaign's site.";
        return;
      }
      const answer = await get(`/verify/${code}`);
      if (answer.status === 200) {
        const b = answer.body;
        result.className = "ok";
        result.textContent = `Forgiven: ${cents(b.amount_forgiven_cents)} owed to ${b.creditor}, on ${b.forgiven_on}. ` +
          "You owe nothing, and need do nothing.";
      } else {
        result.className = "error";
        result.textContent = answer.status === 404 ? "No forgiven debt has this code. Check it and try again."
          : "The check did not go through; please try again in a moment.";
      }
    });
  }

  async function main() {
    const status = $("status");
    showVerification();
    letterCheck();
    try {
      const data = await load();
      showFigures(data.figures);
      showShare(data.figures);
      showPurchases(data.purchases, data.figures.currency);
      showCharts(data.purchases, data.log, data.figures.currency);
      status.textContent = "";
    } catch (error) {
      status.textContent = `The figures could not be loaded: ${error.message}`;
    }
    $("dashboard").setAttribute("aria-busy", "false");
  }

  main();
})();
