/* Two small SVG charts drawn here, so no chart library is fetched from anywhere. Each is drawn at the
   width it is shown at (one SVG unit = one CSS pixel), so its text keeps the stylesheet's size on a
   phone, and drawn again when that width changes. */
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const CHAR = 8;  // px a character of the charts' 13px text takes, at most (digits, capitals)
  const drawn = new Map();  // figure -> [width drawn at, draw(width)]

  function el(name, attributes, text) {
    const node = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function empty(figure, message) {
    const p = document.createElement("p");
    p.className = "note";
    p.textContent = message;
    figure.insertBefore(p, figure.querySelector("figcaption"));
  }

  function inner(figure) {
    const style = getComputedStyle(figure);
    return Math.floor(figure.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)) || 480;
  }

  function draw(figure, render) {
    const width = inner(figure);
    figure.querySelectorAll("svg, p.note").forEach((n) => n.remove());
    drawn.set(figure, [width, render]);
    render(width);
  }

  let pending = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => {
      for (const [figure, [width, render]] of drawn) if (inner(figure) !== width) draw(figure, render);
    });
  });

  /** Horizontal bars, one per label: [[label, value, shown], ...], largest first; the axis at the bars' base. */
  function bars(figure, rows, title) {
    draw(figure, (width) => {
      if (!rows.length) return empty(figure, "Nothing forgiven yet.");
      const row = 24, labelWidth = 36, valueWidth = Math.max(...rows.map((r) => r[2].length)) * CHAR + 8;
      const room = Math.max(20, width - labelWidth - valueWidth), height = rows.length * row + 6;
      const max = Math.max(...rows.map((r) => r[1]));
      const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title });
      rows.forEach(([label, value, shown], i) => {
        const y = i * row + 3;
        const length = max ? Math.max(1, (room * value) / max) : 1;
        svg.append(el("text", { x: 0, y: y + 16 }, label));
        svg.append(el("rect", { class: "bar", x: labelWidth, y, width: length, height: row - 6, rx: 3 }));
        svg.append(el("text", { x: labelWidth + length + 6, y: y + 16 }, shown));
      });
      svg.append(el("line", { class: "axis", x1: labelWidth, x2: labelWidth, y1: 0, y2: height }));
      figure.insertBefore(svg, figure.querySelector("figcaption"));
    });
  }

  /** A cumulative step area over moments: [[label, value], ...] in order; each step is one moment's amount.
      A value axis (0, half, all) on the left, the first and last moments along the bottom. */
  function cumulative(figure, points, format, title) {
    draw(figure, (width) => {
      if (!points.length) return empty(figure, "Nothing forgiven yet.");
      const total = points.reduce((sum, [, value]) => sum + value, 0);
      const ticks = [0, Math.floor(total / 2), total];
      const left = Math.max(...ticks.map((t) => format(t).length)) * CHAR + 10;
      const height = 220, right = width - 8, bottom = 40, top = 12;
      const x = (i) => left + ((i + 1) * (right - left)) / (points.length + 1);
      const y = (v) => height - bottom - ((height - bottom - top) * v) / total;
      let path = `M ${left} ${y(0)}`, sum = 0;
      points.forEach(([, value], i) => { path += ` L ${x(i)} ${y(sum)} L ${x(i)} ${y((sum += value))}`; });
      path += ` L ${right} ${y(total)} L ${right} ${y(0)} Z`;
      const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title });
      svg.append(el("path", { class: "area", d: path }));
      svg.append(el("line", { class: "axis", x1: left, x2: right, y1: y(0), y2: y(0) }));
      svg.append(el("line", { class: "axis", x1: left, x2: left, y1: top, y2: y(0) }));
      for (const tick of ticks) {
        svg.append(el("line", { class: "axis", x1: left - 4, x2: left, y1: y(tick), y2: y(tick) }));
        svg.append(el("text", { class: "tick", x: left - 6, y: y(tick) + 4, "text-anchor": "end" }, format(tick)));
      }
      // The first and last moments on two lines, so they never overlap on a narrow screen.
      svg.append(el("text", { x: left, y: height - 20 }, points[0][0]));
      if (points.length > 1) {
        svg.append(el("text", { x: right, y: height - 4, "text-anchor": "end" }, points[points.length - 1][0]));
      }
      figure.insertBefore(svg, figure.querySelector("figcaption"));
    });
  }

  return { bars, cumulative };
})();
