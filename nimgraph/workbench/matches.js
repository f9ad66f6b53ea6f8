/* The workbench's review queue for record linkage: the possible matches the caller may see, most likely
 * first; one opened side by side with the waterfall of its match weight (where the prior odds start and
 * what each comparison adds or takes away); and, for a key that may decide, accept, reject and undo.
 * Loaded before workbench.js, which makes one with nimgraphMatches(...). Data is written as text only.
 */
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  // What each side shows, in this order; anything else a record holds follows.
  const FIELDS = [
    "name", "forename", "surname", "dateOfBirth", "nhsNumber", "addressLine", "postcode", "phoneNumber", "identifier",
    "registration", "vehicleMake", "colour",
  ];
  const NAMES = {
    prior: "prior odds",
    forename: "forename",
    surname: "surname",
    dob: "date of birth",
    address_line: "address",
    postcode: "postcode",
    phone: "phone",
    email: "email",
    nhs_number: "NHS number",
    premise: "house and flat",
    registration: "registration",
    vehicle_make: "make",
  };

  function made(tag, text, attributes) {
    const element = document.createElement(tag);
    if (text !== undefined && text !== null) element.textContent = String(text);
    Object.assign(element, attributes || {});
    return element;
  }

  function drawn(tag, attributes) {
    const element = document.createElementNS(SVG, tag);
    Object.entries(attributes || {}).forEach(([name, value]) => element.setAttribute(name, String(value)));
    return element;
  }

  function signed(value) {
    return (value > 0 ? "+" : "") + value.toFixed(2);
  }

  /** The match weight as a waterfall: the prior, then each comparison from the running total, then the total. */
  function waterfall(page) {
    const steps = [{ name: "prior", value: Number(page.prior_weight || 0) }].concat(
      page.comparisons.map((c) => ({ name: c.comparison, value: Number(c.contribution) })),
    );
    const total = Number(page.match_weight);
    let running = 0;
    const bars = steps.map((step) => {
      const from = running;
      running += step.value;
      return { name: step.name, from: from, to: running, value: step.value, kind: step.value >= 0 ? "up" : "down" };
    });
    bars.push({ name: "match weight", from: 0, to: total, value: total, kind: "total" });
    const ends = bars.flatMap((b) => [b.from, b.to]).concat([0]);
    const low = Math.min(...ends);
    const high = Math.max(...ends);
    const row = 18;
    const left = 92;
    const width = 330;
    const plot = width - left - 44;
    const x = (value) => left + ((value - low) / (high - low || 1)) * plot;
    const svg = drawn("svg", { viewBox: `0 0 ${width} ${bars.length * row + 22}`, width: width, role: "img", class: "waterfall" });
    svg.setAttribute(
      "aria-label",
      `Waterfall of the match weight: prior ${signed(steps[0].value)}, ` +
        steps.slice(1).map((s) => `${NAMES[s.name] || s.name} ${signed(s.value)}`).join(", ") +
        `; total ${signed(total)}, probability ${(Number(page.match_probability) * 100).toFixed(1)}%`,
    );
    svg.dataset.steps = String(steps.length);
    svg.appendChild(drawn("line", { x1: x(0), x2: x(0), y1: 0, y2: bars.length * row, class: "zero" }));
    bars.forEach((bar, n) => {
      const y = n * row;
      const label = drawn("text", { x: left - 4, y: y + 13, "text-anchor": "end" });
      label.textContent = NAMES[bar.name] || bar.name;
      svg.appendChild(label);
      const rect = drawn("rect", {
        x: Math.min(x(bar.from), x(bar.to)),
        y: y + 3,
        width: Math.max(Math.abs(x(bar.to) - x(bar.from)), 1),
        height: row - 6,
        class: "step " + bar.kind,
      });
      rect.dataset.name = bar.name;
      rect.dataset.value = String(bar.value);
      const title = drawn("title");
      title.textContent = `${NAMES[bar.name] || bar.name}: ${signed(bar.value)} (log2 Bayes factor)`;
      rect.appendChild(title);
      svg.appendChild(rect);
      const value = drawn("text", { x: Math.max(x(bar.from), x(bar.to)) + 3, y: y + 13 });
      value.textContent = signed(bar.value);
      svg.appendChild(value);
    });
    const axis = drawn("text", { x: left, y: bars.length * row + 16 });
    axis.textContent = "Right: more likely the same; left: less (log2 odds)";
    svg.appendChild(axis);
    return svg;
  }

  function sideBySide(page) {
    const table = made("table", undefined, { className: "side-by-side" });
    const head = made("tr");
    ["", "Record 1", "Record 2"].forEach((text) => head.appendChild(made("th", text)));
    table.appendChild(made("thead")).appendChild(head);
    const body = table.appendChild(made("tbody"));
    const sides = [page.left, page.right];
    const keys = FIELDS.filter((k) => sides.some((s) => s.values[k] !== undefined));
    Object.keys(page.left.values).concat(Object.keys(page.right.values)).forEach((k) => {
      if (!keys.includes(k)) keys.push(k);
    });
    const rows = [["record", sides.map((s) => s.label)], ["sources", sides.map((s) => s.sources.join(", "))]].concat(
      keys.map((k) => [k, sides.map((s) => s.values[k])]),
    );
    rows.forEach(([name, values]) => {
      const tr = body.appendChild(made("tr"));
      tr.appendChild(made("th", name));
      values.forEach((v) => tr.appendChild(made("td", v === undefined || v === null ? "" : v)));
      if (name !== "record" && name !== "sources" && values[0] !== undefined && values[1] !== undefined && String(values[0]) !== String(values[1])) {
        tr.className = "differs";
      }
    });
    return table;
  }

  window.nimgraphMatches = function (wb) {
    const { $, config, api, guarded, say } = wb;

    async function loadQueue() {
      const status = $("wb-match-status").value;
      const data = await api("/resolution/proposals", { status: status, limit: 100 });
      const list = $("wb-match-list");
      list.replaceChildren();
      data.items.forEach((item) => {
        const li = list.appendChild(made("li"));
        const open = made("button", `${item.left_label} / ${item.right_label}`, { type: "button", className: "link" });
        open.dataset.proposal = item.id;
        open.addEventListener("click", guarded(() => show(item.id)));
        li.appendChild(open);
        li.appendChild(made("span", (item.match_probability * 100).toFixed(1) + "%", { className: "meta" }));
      });
      list.dataset.count = String(data.items.length);
      say(`${data.items.length} possible match(es) ${$("wb-match-status").selectedOptions[0].textContent}.`);
    }

    async function show(id) {
      const page = await api("/resolution/proposals/" + encodeURIComponent(id));
      const box = $("wb-answer");
      box.replaceChildren();
      const article = box.appendChild(made("article", undefined, { className: "match-review" }));
      article.dataset.proposal = page.id;
      article.dataset.status = page.status;
      article.appendChild(made("h3", "Possible match"));
      article.appendChild(
        made(
          "p",
          `Match probability ${(page.match_probability * 100).toFixed(1)}% (weight ${signed(Number(page.match_weight))}); ` +
            `${page.status.toLowerCase()}; handling ${page.handling}; model ${page.model_id}.`,
          { className: "meta" },
        ),
      );
      article.appendChild(sideBySide(page));
      article.appendChild(made("h4", "Why: each comparison's part in the match weight"));
      article.appendChild(waterfall(page));
      const reasons = article.appendChild(made("table", undefined, { className: "comparisons" }));
      const head = reasons.appendChild(made("tr"));
      ["Comparison", "Record 1", "Record 2", "Weight"].forEach((t) => head.appendChild(made("th", t)));
      page.comparisons.forEach((c) => {
        const tr = reasons.appendChild(made("tr"));
        [NAMES[c.comparison] || c.comparison, c.left, c.right].forEach((v) => tr.appendChild(made("td", v === null ? "" : v)));
        tr.appendChild(made("td", signed(Number(c.contribution)), { className: "num" }));
      });
      if (page.decisions.length) {
        article.appendChild(made("h4", "Decisions"));
        const list = article.appendChild(made("ol"));
        page.decisions.forEach((d) => list.appendChild(made("li", `${d.status} by ${d.by} at ${d.at}`)));
      }
      const buttons = article.appendChild(made("div", undefined, { className: "buttons" }));
      const chart = made("button", "Add both to the chart", { type: "button" });
      chart.addEventListener("click", guarded(() => wb.addEntities([page.left.id, page.right.id])));
      buttons.appendChild(chart);
      if (config.canResolve) {
        [["accept", "Accept: the same person"], ["reject", "Reject: different people"], ["undo", "Undo the decision"]].forEach(
          ([decision, text]) => {
            if (decision === "undo" && page.status === "Proposed") return;
            if (decision !== "undo" && page.status !== "Proposed") return;
            const button = made("button", text, { type: "button" });
            button.dataset.decision = decision;
            button.addEventListener("click", guarded(() => decide(page.id, decision)));
            buttons.appendChild(button);
          },
        );
      } else {
        article.appendChild(made("p", "Your key may read this match but not decide it.", { className: "meta" }));
      }
    }

    async function decide(id, decision) {
      const done = await api("/resolution/proposals/" + encodeURIComponent(id) + "/decision", null, {
        method: "POST",
        body: { decision: decision },
      });
      say(`Match ${done.status.toLowerCase()} by ${done.by}; the decision is recorded and can be undone.`);
      await show(id);
      await loadQueue();
    }

    return { loadQueue: loadQueue, show: show };
  };
})();
