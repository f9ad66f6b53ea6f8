/* The workbench's timeline strip: the chart's dated items counted by month (or by day over a short
 * span), the date filter's window shaded; dragging across it sets the window. Loaded before
 * workbench.js, which makes one with nimgraphTimeline(...).
 */
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const LEFT = 8; // the strip's margin, in pixels, each side
  const BARS = 44; // the tallest bar, in pixels

  function monthEnd(year, month) {
    return new Date(Date.UTC(year, month, 0)).getUTCDate();
  }

  /** Bins from the first date to the last: days when they span two months at most, else months. */
  function bins(dates) {
    const first = dates[0];
    const last = dates[dates.length - 1];
    const result = [];
    if ((Date.parse(last) - Date.parse(first)) / 86400000 <= 62) {
      for (let t = Date.parse(first); t <= Date.parse(last); t += 86400000) {
        const day = new Date(t).toISOString().slice(0, 10);
        result.push({ key: day, start: day, end: day, count: 0 });
      }
      const index = new Map(result.map((b) => [b.key, b]));
      dates.forEach((d) => { const bin = index.get(d); if (bin) bin.count += 1; });
      return result;
    }
    let year = Number(first.slice(0, 4));
    let month = Number(first.slice(5, 7));
    const stop = last.slice(0, 7);
    for (;;) {
      const key = year + "-" + String(month).padStart(2, "0");
      result.push({ key: key, start: key + "-01", end: key + "-" + String(monthEnd(year, month)).padStart(2, "0"), count: 0 });
      if (key >= stop) break;
      month += 1;
      if (month > 12) { month = 1; year += 1; }
    }
    const index = new Map(result.map((b) => [b.key, b]));
    dates.forEach((d) => { const bin = index.get(d.slice(0, 7)); if (bin) bin.count += 1; });
    return result;
  }

  function element(name, attributes) {
    const made = document.createElementNS(SVG, name);
    Object.entries(attributes).forEach(([key, value]) => made.setAttribute(key, String(value)));
    return made;
  }

  /**
   * box: the <svg>; dates(): every dated item's date on the chart (YYYY-MM-DD);
   * filters: the chart's filters (since, until); onWindow(since, until): a period was brushed.
   */
  window.nimgraphTimeline = function (box, dates, filters, onWindow) {
    let drawn = { bins: [], width: 0 };
    let brushStart = null;

    function windowRange() {
      const found = drawn.bins;
      if (!(filters.since || filters.until) || !found.length) return null;
      const first = found.findIndex((b) => !filters.since || b.end >= filters.since);
      const fromEnd = found.slice().reverse().findIndex((b) => !filters.until || b.start <= filters.until);
      if (first < 0 || fromEnd < 0) return null;
      return [first, Math.max(first, found.length - 1 - fromEnd)];
    }

    function draw(brush) {
      const all = dates().sort();
      box.replaceChildren();
      const width = box.clientWidth || 600;
      if (!all.length) {
        const text = element("text", { x: LEFT, y: 38 });
        text.textContent = "No dated items on the chart.";
        box.appendChild(text);
        drawn = { bins: [], width: 0 };
        box.dataset.bins = "0";
        return;
      }
      const found = bins(all);
      const usable = width - 2 * LEFT;
      const step = usable / found.length;
      const most = Math.max(...found.map((b) => b.count));
      drawn = { bins: found, width: usable };
      box.dataset.bins = String(found.length);
      found.forEach((bin, i) => {
        const height = bin.count ? Math.max(2, (bin.count / most) * BARS) : 0;
        const inside = (!filters.since || bin.end >= filters.since) && (!filters.until || bin.start <= filters.until);
        const bar = element("rect", { x: LEFT + i * step + 1, y: 50 - height, width: Math.max(1, step - 2), height: height, class: inside ? "bar" : "bar out" });
        const title = element("title", {});
        title.textContent = bin.key + ": " + bin.count;
        bar.appendChild(title);
        box.appendChild(bar);
      });
      [0, Math.floor(found.length / 2), found.length - 1].filter((v, i, list) => list.indexOf(v) === i).forEach((i) => {
        const text = element("text", { x: Math.min(LEFT + i * step, width - 60), y: 64 });
        text.textContent = found[i].key;
        box.appendChild(text);
      });
      const range = brush || windowRange();
      if (range) box.appendChild(element("rect", { class: "brush", x: LEFT + range[0] * step, y: 2, width: (range[1] - range[0] + 1) * step, height: 50 }));
    }

    function binAt(event) {
      const x = event.clientX - box.getBoundingClientRect().left - LEFT;
      return Math.max(0, Math.min(drawn.bins.length - 1, Math.floor((x / drawn.width) * drawn.bins.length)));
    }

    box.addEventListener("pointerdown", (event) => {
      if (!drawn.bins.length) return;
      brushStart = binAt(event);
      box.setPointerCapture(event.pointerId);
      draw([brushStart, brushStart]);
    });
    box.addEventListener("pointermove", (event) => {
      if (brushStart === null) return;
      const here = binAt(event);
      draw([Math.min(brushStart, here), Math.max(brushStart, here)]);
    });
    box.addEventListener("pointerup", (event) => {
      if (brushStart === null) return;
      const here = binAt(event);
      const first = drawn.bins[Math.min(brushStart, here)];
      const last = drawn.bins[Math.max(brushStart, here)];
      brushStart = null;
      onWindow(first.start, last.end);
    });
    window.addEventListener("resize", () => draw());

    return { draw: draw };
  };
})();
