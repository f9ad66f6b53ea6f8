/* The workbench's questions: the question form read into the API's parameters, the answer shown
 * as a table (each column's definition as a tooltip and a definitions list, and the notes), the
 * chart highlighting the rows' entities. Loaded before workbench.js, which makes one with
 * nimgraphAnswers(...). Data is written as text only.
 */
(function () {
  "use strict";

  const LISTED = 12; // entities a cell names before "and n more"

  /** The entities rows are about: each row's own and a group's members; ``deep`` adds any other
   *  entities a row lists (a screening's associates), for one row looked at closely. */
  function idsOfRows(rows, deep) {
    const ids = [];
    rows.forEach((row) => {
      if (row.id) ids.push(row.id);
      Object.entries(row).forEach(([name, value]) => {
        if (!Array.isArray(value) || !(deep || name === "members")) return;
        value.forEach((item) => { if (item && typeof item === "object" && typeof item.id === "string") ids.push(item.id); });
      });
    });
    return Array.from(new Set(ids));
  }

  function cellText(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toPrecision(4);
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (Array.isArray(value)) {
      const words = value.map((v) => (v && typeof v === "object" ? v.label || v.id || JSON.stringify(v) : String(v)));
      return words.slice(0, LISTED).join(", ") + (words.length > LISTED ? ", and " + (words.length - LISTED) + " more" : "");
    }
    if (typeof value === "object") return value.label || Object.entries(value).map(([k, v]) => k + ": " + cellText(v)).join(", ");
    return String(value);
  }

  function made(tag, text, attributes) {
    const element = document.createElement(tag);
    if (text !== undefined) element.textContent = text;
    Object.assign(element, attributes || {});
    return element;
  }

  /**
   * bench: what the answer needs of the chart: $, config, api(path, params), guarded(action),
   * shownIds(), addEntities(ids), highlight(ids, linkIds), select(ids), focus(ids), fitWhenSettled(),
   * onChart(id), say(text).
   */
  window.nimgraphAnswers = function (bench) {
    const $ = bench.$;
    let answerIds = [];

    function values(id) {
      return Array.from($(id).selectedOptions).map((o) => o.value);
    }

    function showFieldsFor(kind) {
      document.querySelectorAll("#wb-question-form [data-for]").forEach((element) => {
        element.hidden = !element.dataset.for.split(" ").includes(kind);
      });
    }

    function parameters(kind) {
      const top = $("wb-top").value;
      const params = {
        rankings: { measure: $("wb-measure").value, via: $("wb-via").value, types: values("wb-q-types"), link_types: values("wb-q-link-types"), top: top },
        groups: { method: $("wb-method").value, min_size: $("wb-min-size").value, types: values("wb-q-types"), link_types: values("wb-q-link-types"), top: top },
        screenings: { indicator: $("wb-indicator").value, top: top },
        places: { event_types: values("wb-event-types"), since: $("wb-places-since").value, until: $("wb-places-until").value, top: top },
      }[kind];
      if (document.querySelector("input[name=scope]:checked").value === "chart") {
        const within = bench.shownIds();
        const most = bench.config.maxWithin;
        if (!within.length) throw new Error("The chart shows no entities: add some, or ask about the whole graph.");
        if (within.length > most) {
          throw new Error("The chart shows " + within.length + " entities; a question on the chart takes at most " + most + ": hide or filter some, or ask about the whole graph.");
        }
        params.within = within;
      }
      params.format = "json";
      return params;
    }

    async function run() {
      const kind = $("wb-question").value;
      const answer = await bench.api("/" + kind, parameters(kind));
      const adding = $("wb-add-results").checked;
      render(answer);
      answerIds = idsOfRows(answer.rows || []);
      const added = adding ? await bench.addEntities(answerIds) : [];
      bench.highlight(answerIds, []);
      if (added.length) bench.fitWhenSettled();
      const onChart = answerIds.filter(bench.onChart).length;
      bench.say(answer.rows.length + " row(s); " + onChart + " of their " + answerIds.length + " entities on the chart, highlighted" +
        (added.length ? " (" + added.length + " added)" : "") +
        (onChart < answerIds.length && !adding ? "; tick 'add the answer's entities' to add the rest" : "") + ".");
    }

    function render(answer) {
      const rows = answer.rows || [];
      const defined = answer.columns || [];
      const grouped = rows.some((row) => Array.isArray(row.members));
      // A group's id, type and label columns describe its members, listed in one cell.
      const hidden = grouped ? ["id", "label", "type", "members"] : ["id"];
      const columns = defined.filter((c) => !hidden.includes(c.name));
      const projection = answer.projection || {};
      const meta = made("p", "Computed with " + (answer.engine || "networkx") + " on " + (projection.nodes || 0) + " entities and " +
        (projection.links || 0) + " links" + (answer.truncated ? "; cut short by a limit" : "") + ".", { className: "meta" });

      const head = made("tr");
      columns.map((c) => c.name).concat(grouped ? ["members"] : []).forEach((name) => {
        const column = defined.find((c) => c.name === name);
        const cell = made("th", name, { scope: "col" });
        if (column && column.definition) cell.title = column.definition;
        head.appendChild(cell);
      });
      const body = made("tbody");
      rows.forEach((row) => body.appendChild(line(row, columns, grouped, body)));
      const table = made("table", undefined, { id: "wb-answer-table" });
      const thead = made("thead");
      thead.appendChild(head);
      table.append(thead, body);

      const every = made("button", "Highlight every row", { type: "button" });
      every.addEventListener("click", () => {
        body.querySelectorAll("tr.active").forEach((r) => r.classList.remove("active"));
        bench.highlight(answerIds, []);
      });
      const definitions = made("dl", undefined, { id: "wb-definitions" });
      defined.forEach((column) => definitions.append(made("dt", column.name), made("dd", column.definition || "")));
      const notes = made("ul", undefined, { className: "notes", id: "wb-notes" });
      (answer.notes || []).forEach((note) => notes.appendChild(made("li", note)));
      $("wb-answer").replaceChildren(made("h3", answer.question || "Answer", { id: "wb-answer-question" }), meta, table, every, definitions);
      if (notes.children.length) $("wb-answer").appendChild(notes);
    }

    /** One row: selected (click, Enter or Space), it highlights and selects the entities it names. */
    function line(row, columns, grouped, body) {
      const tr = made("tr", undefined, { tabIndex: 0 });
      const ids = idsOfRows([row], true);
      tr.dataset.ids = ids.join(" ");
      columns.map((c) => (c.name === "label" ? row.label || row.id : row[c.name])).concat(grouped ? [row.members] : []).forEach((value) => {
        const cell = made("td", cellText(value));
        if (typeof value === "number") cell.className = "num";
        tr.appendChild(cell);
      });
      const look = bench.guarded(async () => {
        body.querySelectorAll("tr.active").forEach((r) => r.classList.remove("active"));
        tr.classList.add("active");
        if ($("wb-add-results").checked) await bench.addEntities(ids);
        bench.highlight(ids, []);
        bench.select(ids);
        bench.focus(ids);
      });
      tr.addEventListener("click", look);
      tr.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") look(event); });
      return tr;
    }

    $("wb-question").addEventListener("change", () => showFieldsFor($("wb-question").value));
    showFieldsFor($("wb-question").value);
    return { run: run };
  };
})();
