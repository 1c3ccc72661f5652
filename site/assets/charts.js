/* Two small SVG charts drawn here, so no chart library is fetched from anywhere. */
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";

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

  /** Horizontal bars, one per label: [[label, value, shown], ...], largest first. */
  function bars(figure, rows, title) {
    figure.querySelectorAll("svg, p.note").forEach((n) => n.remove());
    if (!rows.length) return empty(figure, "Nothing forgiven yet.");
    const row = 22, labelWidth = 40, width = 480, valueWidth = 130;
    const max = Math.max(...rows.map((r) => r[1]));
    const svg = el("svg", { viewBox: `0 0 ${width} ${rows.length * row + 4}`, role: "img", "aria-label": title });
    rows.forEach(([label, value, shown], i) => {
      const y = i * row + 2;
      const length = max ? Math.max(1, ((width - labelWidth - valueWidth) * value) / max) : 1;
      svg.append(el("text", { x: 0, y: y + 15 }, label));
      svg.append(el("rect", { class: "bar", x: labelWidth, y, width: length, height: row - 6, rx: 3 }));
      svg.append(el("text", { x: labelWidth + length + 6, y: y + 15 }, shown));
    });
    figure.insertBefore(svg, figure.querySelector("figcaption"));
  }

  /** A cumulative step area over moments: [[label, value], ...] in order; each step is one moment's amount. */
  function cumulative(figure, points, format, title) {
    figure.querySelectorAll("svg, p.note").forEach((n) => n.remove());
    if (!points.length) return empty(figure, "Nothing forgiven yet.");
    const width = 480, height = 200, left = 8, right = width - 8, bottom = 24, top = 18;
    const total = points.reduce((sum, [, value]) => sum + value, 0);
    const x = (i) => left + ((i + 1) * (right - left)) / (points.length + 1);
    const y = (v) => height - bottom - ((height - bottom - top) * v) / total;
    let path = `M ${left} ${y(0)}`, sum = 0;
    points.forEach(([, value], i) => { path += ` L ${x(i)} ${y(sum)} L ${x(i)} ${y((sum += value))}`; });
    path += ` L ${right} ${y(total)} L ${right} ${y(0)} Z`;
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
    svg.append(el("line", { class: "axis", x1: left, x2: right, y1: height - bottom, y2: height - bottom }));
    svg.append(el("path", { class: "area", d: path }));
    svg.append(el("text", { x: x(0), y: height - 6, "text-anchor": "middle" }, points[0][0]));
    if (points.length > 1) {
      svg.append(el("text", { x: right, y: height - 6, "text-anchor": "end" }, points[points.length - 1][0]));
    }
    svg.append(el("text", { x: right, y: 12, "text-anchor": "end" }, format(total)));
    figure.insertBefore(svg, figure.querySelector("figcaption"));
  }

  return { bars, cumulative };
})();
