/* The nimgraph workbench: a chart of the graph, built from the API as the caller may see it.
 *
 * Everything comes from the API with the key the browser already sent (HTTP Basic) and the
 * purpose stated at the top, which every request carries in X-Purpose: the page itself holds no
 * data. Data is only ever written into the page as text (textContent, canvas labels, plain-text
 * tooltips), never as markup.
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("wb-config").textContent);
  const $ = (id) => document.getElementById(id);
  const chartEl = $("wb-chart");
  const statusEl = $("wb-status");

  const LINK_COLOURS = ["#4477AA", "#CC6677", "#228833", "#AA3377", "#EE7733", "#66CCEE",
    "#882255", "#999933", "#0077BB", "#EE3377", "#117733", "#332288"];
  const SHAPES = { Person: "dot", Object: "diamond", Location: "square", Area: "hexagon", Event: "triangle",
    IntelligenceReport: "star", Problem: "triangleDown", Other: "dot" };
  const HIGHLIGHT = "#d6006f";
  const GRADE_WIDTH = { 1: 3, 2: 2, 3: 1 };
  const MAX_ADD = 200; // entities fetched one by one for an answer, at most

  // ------------------------------------------------------------------ state
  const ontology = { classes: new Map(), links: new Map() };
  const entities = new Map(); // id -> {id, type, label, properties, provenance, pinned, hidden, dates, geo}
  const links = new Map(); // id -> {id, type, source, target, inferred, provenance, dates}
  const filters = { hiddenLinkTypes: new Set(), minGrade: "", handling: new Set(config.caller.handling), since: "", until: "" };
  const kindColours = new Map();
  let shownIds = new Set();
  let shownLinks = new Set();
  let highlighted = new Set();
  let highlightedLinks = new Set();
  let mode = "network";
  let networkPositions = null; // where entities stood before map mode
  let mapFrame = null;
  let lastResults = [];
  let answerIds = [];
  let busy = 0;

  const nodes = new vis.DataSet();
  const edges = new vis.DataSet();
  const network = new vis.Network(chartEl, { nodes: nodes, edges: edges }, {
    autoResize: true,
    nodes: { size: 14, borderWidth: 1, font: { size: 12, face: "system-ui, sans-serif" } },
    edges: { smooth: false, arrows: { to: { enabled: true, scaleFactor: 0.4 } }, color: { inherit: false } },
    interaction: { hover: true, multiselect: true, tooltipDelay: 200, keyboard: { enabled: true, bindToWindow: false } },
    physics: {
      enabled: false,
      solver: "forceAtlas2Based",
      forceAtlas2Based: { gravitationalConstant: -45, springLength: 90, avoidOverlap: 0.3 },
      stabilization: { enabled: true, iterations: 200, fit: false },
    },
  });

  // ------------------------------------------------------------------ talking to the API
  function say(text, error) {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", Boolean(error));
  }

  function setBusy(delta) {
    busy += delta;
    statusEl.dataset.busy = String(busy);
  }

  function utf8(text) {
    // Headers travel as bytes: send the purpose as UTF-8, as the API reads it.
    return unescape(encodeURIComponent(text));
  }

  function query(params) {
    const search = new URLSearchParams();
    Object.entries(params || {}).forEach(([name, value]) => {
      (Array.isArray(value) ? value : [value]).forEach((one) => {
        if (one !== undefined && one !== null && one !== "") search.append(name, String(one));
      });
    });
    const text = search.toString();
    return text ? "?" + text : "";
  }

  async function api(path, params, init) {
    const purpose = $("wb-purpose").value.trim();
    if (purpose.length < 3) {
      $("wb-purpose").focus();
      throw new Error("State the purpose of your reading first (at the top): every request records it in the audit log.");
    }
    const headers = { Accept: "application/json", "X-Purpose": utf8(purpose) };
    if (config.csrf) headers["X-CSRF-Token"] = config.csrf;
    const options = { method: (init && init.method) || "GET", headers: headers, credentials: "same-origin", cache: "no-store" };
    if (init && init.body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(init.body);
    }
    setBusy(1);
    try {
      const response = await fetch(path + query(params), options);
      const text = await response.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch (ignored) { data = null; }
      if (!response.ok) throw new Error((data && data.detail) || response.status + " " + response.statusText);
      return data;
    } finally {
      setBusy(-1);
    }
  }

  let done = 0;

  /** An action from the page: its error is shown, and the status counts it done (tests wait on that). */
  function guarded(action) {
    return async function (event) {
      if (event && event.preventDefault) event.preventDefault();
      try {
        await action(event);
      } catch (error) {
        say(error.message || String(error), true);
      } finally {
        done += 1;
        statusEl.dataset.done = String(done);
      }
    };
  }

  // ------------------------------------------------------------------ the ontology: colours, shapes, words
  function ancestors(name, table) {
    const seen = [];
    const queue = [name];
    while (queue.length) {
      const next = queue.shift();
      if (seen.includes(next)) continue;
      seen.push(next);
      const known = table.get(next);
      if (known) queue.push(...known.parents);
    }
    return seen;
  }

  function category(type) {
    return ancestors(type, ontology.classes).find((name) => name in config.colours) || "Other";
  }

  function linkKind(type) {
    const line = ancestors(type, ontology.links);
    return line[line.length - 1];
  }

  function kindColour(type) {
    const kind = linkKind(type);
    if (!kindColours.has(kind)) kindColours.set(kind, LINK_COLOURS[kindColours.size % LINK_COLOURS.length]);
    return kindColours.get(kind);
  }

  function linkWords(type) {
    const known = ontology.links.get(type);
    return known && known.label ? known.label : type;
  }

  function option(value, text) {
    const element = document.createElement("option");
    element.value = value;
    element.textContent = text;
    return element;
  }

  async function loadOntology() {
    const [classes, linkTypes] = await Promise.all([
      fetch("/ontology/classes", { credentials: "same-origin" }).then((r) => r.json()),
      fetch("/ontology/link-types", { credentials: "same-origin" }).then((r) => r.json()),
    ]);
    classes.forEach((c) => ontology.classes.set(c.name, { label: c.label, parents: c.parents, mappable: c.mappable }));
    linkTypes.forEach((k) => ontology.links.set(k.name, { label: k.label, parents: k.parents, inferred: k.inferred }));
    const typeNames = classes.filter((c) => c.mappable).map((c) => c.name).sort();
    const eventNames = typeNames.filter((name) => ancestors(name, ontology.classes).includes("Event"));
    typeNames.forEach((name) => {
      $("wb-type").appendChild(option(name, name));
      $("wb-q-types").appendChild(option(name, name));
      $("wb-via").appendChild(option(name, name));
    });
    eventNames.forEach((name) => $("wb-event-types").appendChild(option(name, name)));
    linkTypes.map((k) => k.name).sort().forEach((name) => {
      const words = linkWords(name) === name ? name : name + " (" + linkWords(name) + ")";
      $("wb-linked-by").appendChild(option(name, words));
      $("wb-expand-types").appendChild(option(name, words));
      $("wb-q-link-types").appendChild(option(name, words));
    });
  }

  // ------------------------------------------------------------------ what the chart holds
  function datesOf(provenance, properties) {
    const dates = (provenance || []).map((r) => r.date).filter(Boolean).map((d) => String(d).slice(0, 10));
    if (properties && typeof properties.date === "string" && /^\d{4}-\d{2}/.test(properties.date)) {
      dates.push(properties.date.length === 7 ? properties.date + "-01" : properties.date.slice(0, 10));
    }
    return Array.from(new Set(dates)).sort();
  }

  function geoOf(properties) {
    if (!properties || properties.latitude === undefined || properties.longitude === undefined) return null;
    const lat = Number(properties.latitude);
    const lon = Number(properties.longitude);
    return Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? { lat: lat, lon: lon } : null;
  }

  function keepEntity(node, flags) {
    const before = entities.get(node.id);
    const entity = {
      id: node.id,
      type: node.type,
      label: node.label || node.id,
      properties: node.properties || {},
      provenance: node.provenance || [],
      pinned: before ? before.pinned : Boolean(flags && flags.pinned),
      hidden: before ? before.hidden : Boolean(flags && flags.hidden),
    };
    entity.dates = datesOf(entity.provenance, entity.properties);
    entity.geo = geoOf(entity.properties);
    entities.set(entity.id, entity);
    return !before;
  }

  function keepLink(link) {
    links.set(link.id, {
      id: link.id,
      type: link.type,
      source: link.source,
      target: link.target,
      inferred: Boolean(link.inferred),
      provenance: link.provenance || [],
      dates: datesOf(link.provenance, null),
    });
  }

  function positionNear(anchor, index, count) {
    let centre = { x: 0, y: 0 };
    if (anchor && nodes.get(anchor)) centre = network.getPositions([anchor])[anchor] || centre;
    else if (!anchor && entities.size) centre = network.getViewPosition();
    const angle = (2 * Math.PI * index) / Math.max(count, 1);
    const radius = 110 + 12 * Math.sqrt(count);
    return { x: centre.x + radius * Math.cos(angle), y: centre.y + radius * Math.sin(angle) };
  }

  /** Put a graph answer (nodes, links) on the chart; returns the ids of entities new to it. */
  function addGraph(graph, anchor) {
    const added = [];
    (graph.nodes || []).forEach((node) => {
      if (keepEntity(node)) added.push(node.id);
    });
    (graph.links || []).forEach((link) => {
      if (entities.has(link.source) && entities.has(link.target)) keepLink(link);
    });
    place(added, anchor);
    sync(added);
    return added;
  }

  function place(added, anchor) {
    const fresh = added.map((id, index) => Object.assign({ id: id }, positionNear(anchor, index, added.length)));
    nodes.update(fresh.map((p) => Object.assign(visNode(entities.get(p.id)), { x: p.x, y: p.y })));
    if (mode === "map") placeForMap();
  }

  async function fetchEntities(ids) {
    const missing = ids.filter((id) => !entities.has(id)).slice(0, MAX_ADD);
    const found = await Promise.all(missing.map((id) => api("/entities/" + encodeURIComponent(id)).catch(() => null)));
    return found.filter(Boolean);
  }

  async function addEntities(ids, anchor) {
    const found = await fetchEntities(ids);
    if (!found.length) return [];
    const added = addGraph({ nodes: found, links: [] }, anchor);
    return added;
  }

  function removeEntities(ids) {
    ids.forEach((id) => {
      entities.delete(id);
      highlighted.delete(id);
    });
    Array.from(links.values()).forEach((link) => {
      if (!entities.has(link.source) || !entities.has(link.target)) {
        links.delete(link.id);
        highlightedLinks.delete(link.id);
      }
    });
    sync([]);
  }

  function clearChart() {
    entities.clear();
    links.clear();
    highlighted = new Set();
    highlightedLinks = new Set();
    sync([]);
  }

  // ------------------------------------------------------------------ filters: what is shown
  function gradeOk(grade) {
    if (!filters.minGrade) return true;
    const text = String(grade || "");
    return text[0] <= filters.minGrade[0] && text[1] <= filters.minGrade[1];
  }

  function recordsPass(provenance) {
    if (!provenance.length) return true;
    return provenance.some((r) => filters.handling.has(r.handling) && gradeOk(r.grade));
  }

  function datesPass(dates) {
    if (!(filters.since || filters.until) || !dates.length) return true;
    return dates.some((d) => (!filters.since || d >= filters.since) && (!filters.until || d <= filters.until));
  }

  function entityShown(entity) {
    if (entity.hidden) return false;
    if (mode === "map" && !entity.geo && $("wb-park").value === "hide") return false;
    return recordsPass(entity.provenance) && datesPass(entity.dates);
  }

  function linkShown(link) {
    return !filters.hiddenLinkTypes.has(link.type) && shownIds.has(link.source) && shownIds.has(link.target) &&
      recordsPass(link.provenance) && datesPass(link.dates);
  }

  // ------------------------------------------------------------------ drawing
  function shorten(text, length) {
    return text.length > length ? text.slice(0, length - 1) + "\u2026" : text;
  }

  function recordLines(provenance) {
    return provenance.slice(0, 8).map((r) => "  [" + r.grade + "] " + r.source + " " + r.record_id + (r.date ? " (" + r.date + ")" : ""))
      .concat(provenance.length > 8 ? ["  and " + (provenance.length - 8) + " more records"] : []);
  }

  function visNode(entity) {
    const lit = highlighted.has(entity.id);
    const dim = highlighted.size > 0 && !lit;
    const colour = config.colours[category(entity.type)] || config.colours.Other;
    return {
      id: entity.id,
      label: shorten(entity.label, 34),
      title: [entity.label, entity.type + " \u00b7 " + entity.id].concat(recordLines(entity.provenance)).join("\n"),
      shape: SHAPES[category(entity.type)] || "dot",
      size: lit ? 20 : 14,
      color: { background: colour, border: lit ? HIGHLIGHT : "#333", highlight: { background: colour, border: "#000" } },
      borderWidth: lit ? 4 : entity.pinned ? 3 : 1,
      shapeProperties: { borderDashes: entity.pinned ? [5, 3] : false },
      opacity: dim ? 0.3 : 1,
      font: { color: dim ? "#9a9a9a" : "#1b1b1b" },
      fixed: entity.pinned || mode === "map" ? { x: true, y: true } : false,
      hidden: !shownIds.has(entity.id),
    };
  }

  function visEdge(link) {
    const lit = highlightedLinks.has(link.id);
    const dim = highlighted.size > 0 && !lit && !(highlighted.has(link.source) && highlighted.has(link.target));
    const best = Math.min.apply(null, link.provenance.map((r) => Number(String(r.grade)[0]) || 3).concat([3]));
    return {
      id: link.id,
      from: link.source,
      to: link.target,
      title: linkWords(link.type) + ": " + labelOf(link.source) + " \u2192 " + labelOf(link.target) + "\n" + recordLines(link.provenance).join("\n"),
      color: { color: lit ? HIGHLIGHT : kindColour(link.type), opacity: dim ? 0.25 : 1 },
      width: (GRADE_WIDTH[best] || 1) + (lit ? 3 : 0),
      dashes: link.inferred,
      hidden: !shownLinks.has(link.id),
    };
  }

  function labelOf(id) {
    const entity = entities.get(id);
    return entity ? entity.label : id;
  }

  /** Bring the drawing, the lists, the filters and the timeline in line with the state. */
  function sync(added) {
    if (mode === "network") remember(network.getPositions());
    shownIds = new Set(Array.from(entities.values()).filter(entityShown).map((e) => e.id));
    shownLinks = new Set(Array.from(links.values()).filter(linkShown).map((k) => k.id));
    const goneNodes = nodes.getIds().filter((id) => !entities.has(id));
    const goneEdges = edges.getIds().filter((id) => !links.has(id));
    if (goneEdges.length) edges.remove(goneEdges);
    if (goneNodes.length) nodes.remove(goneNodes);
    nodes.update(Array.from(entities.values()).map(visNode));
    edges.update(Array.from(links.values()).map(visEdge));
    chartEl.dataset.nodes = String(entities.size);
    chartEl.dataset.shown = String(shownIds.size);
    chartEl.dataset.edges = String(links.size);
    chartEl.dataset.shownEdges = String(shownLinks.size);
    chartEl.dataset.highlighted = String(Array.from(highlighted).filter((id) => entities.has(id)).length);
    chartEl.dataset.mode = mode;
    $("wb-counts").textContent = entities.size + " entities (" + shownIds.size + " shown), " + links.size + " links (" + shownLinks.size + " shown)";
    renderEntityList();
    renderLinkTypeFilter();
    drawTimeline();
    if (added && added.length && mode === "network") relayout(added);
  }

  /** Keep where each drawn entity stands: vis-network forgets a hidden one's place. */
  function remember(drawn) {
    Object.entries(drawn).forEach(([id, where]) => {
      const entity = entities.get(id);
      if (entity) entity.pos = { x: where.x, y: where.y };
    });
  }

  function relayout(added) {
    const fresh = new Set(added);
    const settled = Array.from(entities.values()).filter((e) => !fresh.has(e.id));
    chartEl.dataset.stable = "false";
    // What was already laid out stays where it is; only the new entities find their places.
    if (settled.length) nodes.update(settled.map((e) => ({ id: e.id, fixed: { x: true, y: true } })));
    network.setOptions({ physics: { enabled: true } });
    network.stabilize(settled.length ? 120 : 200);
    if (!settled.length) network.once("stabilizationIterationsDone", () => network.fit());
  }

  network.on("stabilizationIterationsDone", () => {
    network.setOptions({ physics: { enabled: false } });
    nodes.update(Array.from(entities.values()).map((e) => ({ id: e.id, fixed: e.pinned || mode === "map" ? { x: true, y: true } : false })));
    chartEl.dataset.stable = "true";
  });

  function renderEntityList() {
    const list = $("wb-entities");
    const selected = new Set(network.getSelectedNodes());
    const sorted = Array.from(entities.values()).sort((a, b) => a.label.localeCompare(b.label));
    list.replaceChildren(...sorted.map((e) => {
      const flags = (e.pinned ? " [pinned]" : "") + (e.hidden ? " [hidden]" : !shownIds.has(e.id) ? " [filtered]" : "");
      const element = option(e.id, e.label + " \u2014 " + e.type + flags);
      element.selected = selected.has(e.id);
      return element;
    }));
  }

  function renderLinkTypeFilter() {
    const box = $("wb-filter-links");
    const types = Array.from(new Set(Array.from(links.values()).map((k) => k.type))).sort();
    if (box.dataset.types === types.join(",")) return; // unchanged: keep focus where it is
    box.dataset.types = types.join(",");
    const legend = document.createElement("legend");
    legend.textContent = "Link types shown";
    const items = types.map((type) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = type;
      input.checked = !filters.hiddenLinkTypes.has(type);
      input.addEventListener("change", () => {
        if (input.checked) filters.hiddenLinkTypes.delete(type);
        else filters.hiddenLinkTypes.add(type);
        sync([]);
      });
      const swatch = document.createElement("i");
      swatch.className = "swatch";
      swatch.style.cssText = "display:inline-block;width:1.2rem;height:3px;vertical-align:middle;margin:0 .3rem;background:" + kindColour(type);
      label.append(input, swatch, document.createTextNode(linkWords(type) + " (" + type + ")"));
      return label;
    });
    if (!items.length) {
      const empty = document.createElement("p");
      empty.className = "meta";
      empty.textContent = "None on the chart yet.";
      items.push(empty);
    }
    box.replaceChildren(legend, ...items);
  }

  // ------------------------------------------------------------------ selection and details
  function selectedIds() {
    return network.getSelectedNodes().filter((id) => entities.has(id));
  }

  function select(ids) {
    network.selectNodes(ids.filter((id) => shownIds.has(id)));
    renderEntityList();
    showDetails();
  }

  function showDetails() {
    const box = $("wb-details");
    const ids = selectedIds();
    box.replaceChildren();
    if (ids.length !== 1) {
      if (ids.length) box.textContent = ids.length + " entities selected.";
      return;
    }
    const entity = entities.get(ids[0]);
    const heading = document.createElement("h3");
    heading.textContent = entity.label;
    const list = document.createElement("dl");
    const rows = [["type", entity.type], ["id", entity.id]].concat(Object.entries(entity.properties));
    rows.forEach(([name, value]) => {
      const term = document.createElement("dt");
      term.textContent = name;
      const description = document.createElement("dd");
      description.textContent = typeof value === "object" ? JSON.stringify(value) : String(value);
      list.append(term, description);
    });
    const records = document.createElement("p");
    records.className = "meta";
    records.textContent = entity.provenance.length + " record(s): " +
      entity.provenance.slice(0, 6).map((r) => r.source + " [" + r.grade + "]" + (r.date ? " " + r.date : "")).join("; ");
    box.append(heading, list, records);
  }

  network.on("select", () => {
    renderEntityList();
    showDetails();
  });

  $("wb-entities").addEventListener("change", () => {
    const ids = Array.from($("wb-entities").selectedOptions).map((o) => o.value);
    network.selectNodes(ids.filter((id) => shownIds.has(id)));
    showDetails();
  });

  function needSelection(count) {
    const ids = selectedIds();
    if (!ids.length || (count && ids.length !== count)) {
      throw new Error(count === 2 ? "Select two entities (on the chart, or in the list with Ctrl or Shift)." : "Select an entity first (on the chart or in the list).");
    }
    return ids;
  }

  // ------------------------------------------------------------------ chart actions
  async function expand() {
    const ids = needSelection().slice(0, 10);
    const types = Array.from($("wb-expand-types").selectedOptions).map((o) => o.value);
    const max = Math.max(1, Math.min(5000, Number($("wb-expand-max").value) || 100));
    let added = 0;
    let truncated = false;
    for (const id of ids) {
      const graph = await api("/entities/" + encodeURIComponent(id) + "/network", { hops: 1, link_types: types, max_entities: max });
      added += addGraph(graph, id).length;
      truncated = truncated || graph.truncated;
    }
    say("Expanded " + ids.length + " entit" + (ids.length === 1 ? "y" : "ies") + ": " + added + " new on the chart" +
      (truncated ? "; capped at " + max + " entities (raise the limit under Expand options)" : "") + ".");
  }

  function togglePin() {
    const ids = needSelection();
    const pin = ids.some((id) => !entities.get(id).pinned);
    ids.forEach((id) => { entities.get(id).pinned = pin; });
    sync([]);
    say((pin ? "Pinned " : "Unpinned ") + ids.length + " entit" + (ids.length === 1 ? "y" : "ies") + ".");
  }

  function hideSelected() {
    const ids = needSelection();
    ids.forEach((id) => { entities.get(id).hidden = true; });
    network.unselectAll();
    sync([]);
    say("Hid " + ids.length + ". 'Show hidden' brings them back.");
  }

  function removeSelected() {
    const ids = needSelection();
    network.unselectAll();
    removeEntities(ids);
    showDetails();
    say("Removed " + ids.length + " from the chart.");
  }

  function unhideAll() {
    entities.forEach((e) => { e.hidden = false; });
    sync([]);
  }

  // ------------------------------------------------------------------ search
  async function search() {
    const params = { q: $("wb-q").value.trim(), type: $("wb-type").value, limit: 50 };
    const where = $("wb-where").value.trim();
    if (where) params.where = where;
    if ($("wb-linked").checked) {
      params.linked_to = needSelection()[0];
      params.linked_by = $("wb-linked-by").value;
    }
    const page = await api("/search", params);
    lastResults = page.items;
    const list = $("wb-results-list");
    list.replaceChildren(...page.items.map((item) => {
      const row = document.createElement("li");
      const text = document.createElement("span");
      text.textContent = item.label + " \u2014 " + item.type;
      text.title = item.id;
      const add = document.createElement("button");
      add.type = "button";
      add.textContent = entities.has(item.id) ? "On chart" : "Add";
      add.setAttribute("aria-label", "Add " + item.label + " to the chart");
      add.addEventListener("click", guarded(async () => {
        await addEntities([item.id]);
        add.textContent = "On chart";
        select([item.id]);
        say("Added " + item.label + ".");
      }));
      row.append(text, add);
      return row;
    }));
    $("wb-add-all").hidden = !page.items.length;
    say(page.items.length ? page.items.length + " found" + (page.next_offset !== null ? " (more: narrow the search)" : "") + "." : "Nothing found that you may see.");
  }

  async function addAll() {
    const added = await addEntities(lastResults.map((item) => item.id));
    $("wb-results-list").querySelectorAll("button").forEach((b) => { b.textContent = "On chart"; });
    say("Added " + added.length + " to the chart.");
  }

  // ------------------------------------------------------------------ questions
  function values(id) {
    return Array.from($(id).selectedOptions).map((o) => o.value);
  }

  function showFieldsFor(kind) {
    document.querySelectorAll("#wb-question-form [data-for]").forEach((element) => {
      element.hidden = !element.dataset.for.split(" ").includes(kind);
    });
  }

  async function runQuestion() {
    const kind = $("wb-question").value;
    const params = {};
    if (kind === "rankings") Object.assign(params, { measure: $("wb-measure").value, via: $("wb-via").value, top: $("wb-top").value });
    if (kind === "groups") Object.assign(params, { method: $("wb-method").value, min_size: $("wb-min-size").value, top: $("wb-top").value });
    if (kind === "screenings") Object.assign(params, { indicator: $("wb-indicator").value, top: $("wb-top").value });
    if (kind === "places") {
      Object.assign(params, { event_types: values("wb-event-types"), since: $("wb-places-since").value, until: $("wb-places-until").value, top: $("wb-top").value });
    }
    if (kind === "rankings" || kind === "groups") Object.assign(params, { types: values("wb-q-types"), link_types: values("wb-q-link-types") });
    const scope = document.querySelector("input[name=scope]:checked").value;
    if (scope === "chart") {
      const within = Array.from(shownIds);
      if (!within.length) throw new Error("The chart shows no entities: add some, or ask about the whole graph.");
      if (within.length > config.maxWithin) {
        throw new Error("The chart shows " + within.length + " entities; a question on the chart takes at most " + config.maxWithin + ": hide or filter some, or ask about the whole graph.");
      }
      params.within = within;
    }
    params.format = "json";
    const answer = await api("/" + kind, params);
    renderAnswer(answer);
    answerIds = idsOfRows(answer.rows || []);
    let added = [];
    if ($("wb-add-results").checked) added = await addEntities(answerIds);
    highlight(answerIds, []);
    if (added.length) network.once("stabilizationIterationsDone", () => network.fit({ animation: false }));
    const onChart = answerIds.filter((id) => entities.has(id)).length;
    say(answer.rows.length + " row(s); " + onChart + " of their " + answerIds.length + " entities on the chart, highlighted" +
      (added.length ? " (" + added.length + " added)" : "") +
      (onChart < answerIds.length && !$("wb-add-results").checked ? "; tick 'add the answer's entities' to add the rest" : "") + ".");
  }

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
      return words.slice(0, 12).join(", ") + (words.length > 12 ? ", and " + (words.length - 12) + " more" : "");
    }
    if (typeof value === "object") return value.label || Object.entries(value).map(([k, v]) => k + ": " + cellText(v)).join(", ");
    return String(value);
  }

  function renderAnswer(answer) {
    const box = $("wb-answer");
    const title = document.createElement("h3");
    title.id = "wb-answer-question";
    title.textContent = answer.question || "Answer";
    const meta = document.createElement("p");
    meta.className = "meta";
    const projection = answer.projection || {};
    meta.textContent = "Computed with " + (answer.engine || "networkx") + " on " + (projection.nodes || 0) + " entities and " +
      (projection.links || 0) + " links" + (answer.truncated ? "; cut short by a limit" : "") + ".";
    const rows = answer.rows || [];
    const grouped = rows.some((row) => Array.isArray(row.members));
    // A group's id, type and label columns describe its members, listed in one cell.
    const hidden = grouped ? ["id", "label", "type", "members"] : ["id"];
    const columns = (answer.columns || []).filter((c) => !hidden.includes(c.name));
    const definitions = document.createElement("dl");
    definitions.id = "wb-definitions";
    (answer.columns || []).forEach((column) => {
      const term = document.createElement("dt");
      term.textContent = column.name;
      const description = document.createElement("dd");
      description.textContent = column.definition || "";
      definitions.append(term, description);
    });
    const table = document.createElement("table");
    table.id = "wb-answer-table";
    const head = document.createElement("tr");
    const headings = columns.map((c) => c.name).concat(grouped ? ["members"] : []);
    headings.forEach((name) => {
      const cell = document.createElement("th");
      cell.scope = "col";
      cell.textContent = name;
      const column = (answer.columns || []).find((c) => c.name === name);
      if (column && column.definition) cell.title = column.definition;
      head.appendChild(cell);
    });
    const thead = document.createElement("thead");
    thead.appendChild(head);
    const body = document.createElement("tbody");
    rows.forEach((row) => {
      const line = document.createElement("tr");
      line.tabIndex = 0;
      const ids = idsOfRows([row], true);
      line.dataset.ids = ids.join(" ");
      const cells = columns.map((c) => (c.name === "label" ? row.label || row.id : row[c.name])).concat(grouped ? [row.members] : []);
      cells.forEach((value) => {
        const cell = document.createElement("td");
        cell.textContent = cellText(value);
        if (typeof value === "number") cell.className = "num";
        line.appendChild(cell);
      });
      const focusRow = guarded(async () => {
        body.querySelectorAll("tr.active").forEach((r) => r.classList.remove("active"));
        line.classList.add("active");
        if ($("wb-add-results").checked) await addEntities(ids);
        highlight(ids, []);
        select(ids);
        const onChart = ids.filter((id) => shownIds.has(id));
        if (onChart.length) network.fit({ nodes: onChart, animation: false });
      });
      line.addEventListener("click", focusRow);
      line.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") focusRow(event); });
      body.appendChild(line);
    });
    table.append(thead, body);
    const notes = document.createElement("ul");
    notes.className = "notes";
    notes.id = "wb-notes";
    (answer.notes || []).forEach((note) => {
      const item = document.createElement("li");
      item.textContent = note;
      notes.appendChild(item);
    });
    const all = document.createElement("button");
    all.type = "button";
    all.textContent = "Highlight every row";
    all.addEventListener("click", () => {
      body.querySelectorAll("tr.active").forEach((r) => r.classList.remove("active"));
      highlight(answerIds, []);
    });
    box.replaceChildren(title, meta, table, all, definitions);
    if (notes.children.length) box.appendChild(notes);
  }

  function highlight(ids, linkIds) {
    highlighted = new Set(ids);
    highlightedLinks = new Set(linkIds);
    sync([]);
  }

  // ------------------------------------------------------------------ paths
  async function findPaths() {
    const [from, to] = needSelection(2);
    const maxHops = Math.max(1, Math.min(6, Number($("wb-max-hops").value) || 4));
    const found = await api("/paths", { from: from, to: to, max_hops: maxHops, link_types: values("wb-expand-types") });
    if (!found.paths.length) {
      say("No path of at most " + maxHops + " links between them that you may see.");
      return;
    }
    addGraph(found.graph, from);
    const onPath = new Set(found.paths.flat());
    const pathLinks = [];
    found.paths.forEach((path) => {
      for (let i = 1; i < path.length; i += 1) {
        found.graph.links.forEach((link) => {
          const joins = (link.source === path[i - 1] && link.target === path[i]) || (link.source === path[i] && link.target === path[i - 1]);
          if (joins) pathLinks.push(link.id);
        });
      }
    });
    highlight(Array.from(onPath), pathLinks);
    say(found.paths.length + " shortest path(s) of " + (found.paths[0].length - 1) + " link(s), highlighted.");
  }

  // ------------------------------------------------------------------ timeline
  function monthEnd(year, month) {
    return new Date(Date.UTC(year, month, 0)).getUTCDate();
  }

  function bins(dates) {
    const first = dates[0];
    const last = dates[dates.length - 1];
    const days = (Date.parse(last) - Date.parse(first)) / 86400000;
    const result = [];
    if (days <= 62) {
      for (let t = Date.parse(first); t <= Date.parse(last); t += 86400000) {
        const day = new Date(t).toISOString().slice(0, 10);
        result.push({ key: day, start: day, end: day, count: 0 });
      }
      dates.forEach((d) => { const bin = result.find((b) => b.key === d); if (bin) bin.count += 1; });
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

  let timeline = { bins: [], left: 0, width: 0 };

  function svg(name, attributes) {
    const element = document.createElementNS("http://www.w3.org/2000/svg", name);
    Object.entries(attributes).forEach(([key, value]) => element.setAttribute(key, String(value)));
    return element;
  }

  function drawTimeline(brush) {
    const box = $("wb-timeline");
    const dates = [];
    entities.forEach((e) => dates.push(...e.dates));
    links.forEach((k) => dates.push(...k.dates));
    dates.sort();
    box.replaceChildren();
    const width = box.clientWidth || 600;
    const height = 70;
    if (!dates.length) {
      const text = svg("text", { x: 8, y: 38 });
      text.textContent = "No dated items on the chart.";
      box.appendChild(text);
      timeline = { bins: [], left: 0, width: 0 };
      box.dataset.bins = "0";
      return;
    }
    const found = bins(dates);
    const left = 8;
    const usable = width - 2 * left;
    const step = usable / found.length;
    const most = Math.max(...found.map((b) => b.count));
    timeline = { bins: found, left: left, width: usable };
    box.dataset.bins = String(found.length);
    found.forEach((bin, i) => {
      const barHeight = bin.count ? Math.max(2, (bin.count / most) * 44) : 0;
      const inside = (!filters.since || bin.end >= filters.since) && (!filters.until || bin.start <= filters.until);
      const bar = svg("rect", { x: left + i * step + 1, y: 50 - barHeight, width: Math.max(1, step - 2), height: barHeight, class: inside ? "bar" : "bar out" });
      const title = svg("title", {});
      title.textContent = bin.key + ": " + bin.count;
      bar.appendChild(title);
      box.appendChild(bar);
    });
    const labels = [0, Math.floor(found.length / 2), found.length - 1].filter((v, i, all) => all.indexOf(v) === i);
    labels.forEach((i) => {
      const text = svg("text", { x: Math.min(left + i * step, width - 60), y: 64 });
      text.textContent = found[i].key;
      box.appendChild(text);
    });
    const range = brush || windowRange();
    if (range) {
      box.appendChild(svg("rect", { class: "brush", x: left + range[0] * step, y: 2, width: (range[1] - range[0] + 1) * step, height: 50 }));
    }
  }

  function windowRange() {
    if (!(filters.since || filters.until) || !timeline.bins.length) return null;
    const found = timeline.bins;
    let first = found.findIndex((b) => !filters.since || b.end >= filters.since);
    let last = found.length - 1 - found.slice().reverse().findIndex((b) => !filters.until || b.start <= filters.until);
    if (first < 0 || last >= found.length) return null;
    if (last < first) last = first;
    return [first, last];
  }

  function binAt(event) {
    const box = $("wb-timeline").getBoundingClientRect();
    const x = event.clientX - box.left - timeline.left;
    return Math.max(0, Math.min(timeline.bins.length - 1, Math.floor((x / timeline.width) * timeline.bins.length)));
  }

  let brushStart = null;
  $("wb-timeline").addEventListener("pointerdown", (event) => {
    if (!timeline.bins.length) return;
    brushStart = binAt(event);
    $("wb-timeline").setPointerCapture(event.pointerId);
    drawTimeline([brushStart, brushStart]);
  });
  $("wb-timeline").addEventListener("pointermove", (event) => {
    if (brushStart === null) return;
    const here = binAt(event);
    drawTimeline([Math.min(brushStart, here), Math.max(brushStart, here)]);
  });
  $("wb-timeline").addEventListener("pointerup", (event) => {
    if (brushStart === null) return;
    const here = binAt(event);
    const first = timeline.bins[Math.min(brushStart, here)];
    const last = timeline.bins[Math.max(brushStart, here)];
    brushStart = null;
    setWindow(first.start, last.end);
  });

  function setWindow(since, until) {
    filters.since = since || "";
    filters.until = until || "";
    $("wb-since").value = filters.since;
    $("wb-until").value = filters.until;
    sync([]);
    say(since || until ? "Showing dated items from " + (since || "the start") + " to " + (until || "the end") + "; undated items always show." : "Showing every date.");
  }

  // ------------------------------------------------------------------ map mode
  function placeForMap() {
    const located = Array.from(entities.values()).filter((e) => e.geo);
    if (!located.length) {
      mapFrame = null;
      return;
    }
    const lats = located.map((e) => e.geo.lat);
    const lons = located.map((e) => e.geo.lon);
    const south = Math.min(...lats), north = Math.max(...lats), west = Math.min(...lons), east = Math.max(...lons);
    const lat0 = (south + north) / 2, lon0 = (west + east) / 2;
    const squeeze = Math.cos((lat0 * Math.PI) / 180);
    const span = Math.max((east - west) * squeeze, north - south, 1e-4);
    const scale = 900 / span; // units per degree of latitude: the located entities fill about 900 units
    mapFrame = { lat0: lat0, lon0: lon0, squeeze: squeeze, scale: scale, south: south, north: north, west: west, east: east };
    const project = (geo) => ({ x: (geo.lon - lon0) * squeeze * scale, y: -(geo.lat - lat0) * scale });
    const updates = located.map((e) => Object.assign({ id: e.id, fixed: { x: true, y: true } }, project(e.geo)));
    const parked = Array.from(entities.values()).filter((e) => !e.geo).sort((a, b) => a.label.localeCompare(b.label));
    const top = -((north - lat0) * scale);
    const leftEdge = (west - lon0) * squeeze * scale - 160;
    const perColumn = Math.max(8, Math.ceil(Math.sqrt(parked.length * 2)));
    parked.forEach((e, i) => {
      updates.push({ id: e.id, x: leftEdge - Math.floor(i / perColumn) * 130, y: top + (i % perColumn) * 55, fixed: { x: true, y: true } });
    });
    nodes.update(updates);
  }

  function toggleMap() {
    if (mode === "network") {
      if (!Array.from(entities.values()).some((e) => e.geo)) throw new Error("No entity on the chart has coordinates (latitude and longitude) to place on the map.");
      networkPositions = positions();
      mode = "map";
      network.setOptions({ physics: { enabled: false } });
      placeForMap();
    } else {
      mode = "network";
      const back = Array.from(entities.values()).map((e) => Object.assign({ id: e.id }, (networkPositions && networkPositions[e.id]) || e.pos))
        .filter((p) => p.x !== undefined);
      nodes.update(back);
      networkPositions = null;
      mapFrame = null;
    }
    $("wb-mode").setAttribute("aria-pressed", String(mode === "map"));
    $("wb-mode").textContent = mode === "map" ? "Network mode" : "Map mode";
    sync([]);
    network.fit({ animation: false });
    say(mode === "map" ? "Map mode: entities with coordinates placed by latitude and longitude (no map tiles: nothing is fetched)." : "Network mode.");
  }

  function niceStep(span) {
    const rough = span / 5;
    const power = Math.pow(10, Math.floor(Math.log10(rough)));
    return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) || power * 10;
  }

  network.on("beforeDrawing", (ctx) => {
    if (mode !== "map" || !mapFrame) return;
    const f = mapFrame;
    const pad = Math.max(f.north - f.south, 1e-3) * 0.15;
    const latStep = niceStep(f.north - f.south + 2 * pad);
    const lonStep = niceStep(f.east - f.west + 2 * pad);
    const x = (lon) => (lon - f.lon0) * f.squeeze * f.scale;
    const y = (lat) => -(lat - f.lat0) * f.scale;
    ctx.save();
    ctx.strokeStyle = "#e2e8ee";
    ctx.fillStyle = "#8796a5";
    ctx.lineWidth = 1;
    ctx.font = "11px system-ui, sans-serif";
    const west = f.west - pad, east = f.east + pad, south = f.south - pad, north = f.north + pad;
    for (let lat = Math.ceil(south / latStep) * latStep; lat <= north; lat += latStep) {
      ctx.beginPath(); ctx.moveTo(x(west), y(lat)); ctx.lineTo(x(east), y(lat)); ctx.stroke();
      ctx.fillText(lat.toFixed(4) + "\u00b0", x(east) + 4, y(lat) + 4);
    }
    for (let lon = Math.ceil(west / lonStep) * lonStep; lon <= east; lon += lonStep) {
      ctx.beginPath(); ctx.moveTo(x(lon), y(north)); ctx.lineTo(x(lon), y(south)); ctx.stroke();
      ctx.fillText(lon.toFixed(4) + "\u00b0", x(lon) - 20, y(south) + 14);
    }
    ctx.restore();
  });

  // ------------------------------------------------------------------ saving, reopening, exporting
  /** Where each entity stands in network mode (in map mode, where it stood before). */
  function positions() {
    if (mode === "network") remember(network.getPositions());
    const where = {};
    entities.forEach((e, id) => {
      const known = (networkPositions && networkPositions[id]) || e.pos;
      if (known) where[id] = known;
    });
    return where;
  }

  function settingsNow() {
    return {
      mode: mode,
      hidden_link_types: Array.from(filters.hiddenLinkTypes),
      min_grade: filters.minGrade || null,
      handling: Array.from(filters.handling),
      since: filters.since || null,
      until: filters.until || null,
    };
  }

  async function saveChart() {
    const name = $("wb-chart-name").value.trim();
    if (!name) {
      $("wb-chart-name").focus();
      throw new Error("Name the chart to save it.");
    }
    if (entities.size > config.maxChartNodes) throw new Error("A saved chart holds at most " + config.maxChartNodes + " entities: remove some first.");
    const where = positions();
    const chart = {
      nodes: Array.from(entities.values()).map((e) => ({
        id: e.id, x: where[e.id] ? where[e.id].x : null, y: where[e.id] ? where[e.id].y : null, pinned: e.pinned, hidden: e.hidden,
      })),
      links: Array.from(links.values()).map((k) => ({ id: k.id, type: k.type, source: k.source, target: k.target })),
      settings: settingsNow(),
    };
    const saved = await api("/charts", {}, { method: "POST", body: { name: name, chart: chart } });
    say("Saved '" + saved.name + "' (" + entities.size + " entities).");
    await listCharts(saved.id);
  }

  async function listCharts(choose) {
    const found = await api("/charts");
    const list = $("wb-saved");
    list.replaceChildren(...found.items.map((c) => option(c.id, c.name + " \u2014 " + c.created.slice(0, 16).replace("T", " "))));
    if (choose) list.value = choose;
    list.dataset.count = String(found.items.length);
  }

  async function openChart() {
    const id = $("wb-saved").value;
    if (!id) throw new Error("Choose a saved chart (Refresh list shows yours).");
    const opened = await api("/charts/" + encodeURIComponent(id));
    if (mode === "map") toggleMap();
    clearChart();
    const chart = opened.chart;
    chart.nodes.forEach((node) => keepEntity(node, node));
    chart.links.forEach((link) => { if (entities.has(link.source) && entities.has(link.target)) keepLink(link); });
    applySettings(chart.settings);
    const placed = chart.nodes.filter((n) => n.x !== null && n.y !== null);
    placed.forEach((n) => { entities.get(n.id).pos = { x: n.x, y: n.y }; });
    nodes.update(placed.map((n) => ({ id: n.id, x: n.x, y: n.y })));
    const unplaced = chart.nodes.filter((n) => n.x === null || n.y === null).map((n) => n.id);
    sync(unplaced);
    if (chart.settings.mode === "map" && Array.from(entities.values()).some((e) => e.geo)) toggleMap();
    network.fit({ animation: false });
    $("wb-chart-name").value = opened.name;
    say("Opened '" + opened.name + "': " + entities.size + " entities and " + links.size + " links, as you may see them now.");
  }

  function applySettings(settings) {
    filters.hiddenLinkTypes = new Set(settings.hidden_link_types || []);
    filters.minGrade = settings.min_grade || "";
    filters.handling = new Set((settings.handling || config.caller.handling).filter((c) => config.caller.handling.includes(c)));
    filters.since = settings.since || "";
    filters.until = settings.until || "";
    $("wb-min-grade").value = filters.minGrade;
    $("wb-since").value = filters.since;
    $("wb-until").value = filters.until;
    document.querySelectorAll("#wb-filter-handling input").forEach((box) => { box.checked = filters.handling.has(box.value); });
    $("wb-filter-links").dataset.types = "";
  }

  function handlingShown() {
    const codes = new Set();
    entities.forEach((e) => { if (shownIds.has(e.id)) e.provenance.forEach((r) => codes.add(r.handling)); });
    links.forEach((k) => { if (shownLinks.has(k.id)) k.provenance.forEach((r) => codes.add(r.handling)); });
    return codes.has("C") ? "C" : codes.size ? "P" : null;
  }

  function download(href, name) {
    const link = document.createElement("a");
    link.href = href;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function fileName(extension) {
    const name = ($("wb-chart-name").value.trim() || "chart").replace(/[^A-Za-z0-9 _-]+/g, "").trim().replace(/\s+/g, "-") || "chart";
    return name + "." + extension;
  }

  function exportPng() {
    const source = chartEl.querySelector("canvas");
    const handling = handlingShown();
    const footer = 22;
    const out = document.createElement("canvas");
    out.width = source.width;
    out.height = source.height + footer;
    const ctx = out.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(source, 0, 0);
    ctx.fillStyle = handling === "C" ? "#a0522d" : "#1d6b34";
    ctx.fillRect(0, source.height, out.width, footer);
    ctx.fillStyle = "#ffffff";
    ctx.font = "bold 13px system-ui, sans-serif";
    const words = handling ? "Handling code " + handling + ": " + config.handlingText[handling] : "No records shown";
    ctx.fillText(words + "  \u00b7  " + config.caller.name + "  \u00b7  " + new Date().toISOString().slice(0, 10), 8, source.height + 16);
    const url = out.toDataURL("image/png");
    chartEl.dataset.exportedPng = String(url.length);
    download(url, fileName("png"));
    say("Exported the chart as PNG.");
  }

  function exportJson() {
    const where = positions();
    const body = {
      exported: new Date().toISOString(),
      by: config.caller.name,
      handling: handlingShown(),
      settings: settingsNow(),
      nodes: Array.from(entities.values()).map((e) => ({
        id: e.id, type: e.type, label: e.label, properties: e.properties, provenance: e.provenance,
        x: where[e.id] ? where[e.id].x : null, y: where[e.id] ? where[e.id].y : null,
        pinned: e.pinned, hidden: e.hidden, shown: shownIds.has(e.id),
      })),
      links: Array.from(links.values()).map((k) => ({
        id: k.id, type: k.type, source: k.source, target: k.target, inferred: k.inferred, provenance: k.provenance, shown: shownLinks.has(k.id),
      })),
    };
    const url = URL.createObjectURL(new Blob([JSON.stringify(body, null, 2)], { type: "application/json" }));
    download(url, fileName("json"));
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    say("Exported the chart as JSON.");
  }

  // ------------------------------------------------------------------ wiring
  function on(id, event, handler) {
    $(id).addEventListener(event, guarded(handler));
  }

  on("wb-search-form", "submit", search);
  on("wb-add-all", "click", addAll);
  on("wb-expand", "click", expand);
  on("wb-pin", "click", togglePin);
  on("wb-hide", "click", hideSelected);
  on("wb-remove", "click", removeSelected);
  on("wb-unhide", "click", unhideAll);
  on("wb-clear-chart", "click", () => { clearChart(); say("The chart is empty."); });
  on("wb-question-form", "submit", runQuestion);
  on("wb-paths", "click", findPaths);
  on("wb-save-form", "submit", saveChart);
  on("wb-list", "click", () => listCharts());
  on("wb-open", "click", openChart);
  on("wb-export-png", "click", exportPng);
  on("wb-export-json", "click", exportJson);
  on("wb-mode", "click", toggleMap);
  on("wb-fit", "click", () => network.fit({ animation: false }));
  on("wb-clear-highlight", "click", () => highlight([], []));
  on("wb-park", "change", () => { if (mode === "map") placeForMap(); sync([]); });
  on("wb-purpose-form", "submit", () => say("Purpose set: it goes with every request from this page."));
  on("wb-min-grade", "change", () => { filters.minGrade = $("wb-min-grade").value; sync([]); });
  on("wb-since", "change", () => setWindow($("wb-since").value, $("wb-until").value));
  on("wb-until", "change", () => setWindow($("wb-since").value, $("wb-until").value));
  on("wb-clear-dates", "click", () => setWindow("", ""));
  document.querySelectorAll("#wb-filter-handling input").forEach((box) => {
    box.addEventListener("change", () => {
      if (box.checked) filters.handling.add(box.value);
      else filters.handling.delete(box.value);
      sync([]);
    });
  });
  $("wb-question").addEventListener("change", () => showFieldsFor($("wb-question").value));
  showFieldsFor($("wb-question").value);

  const SHORTCUTS = {
    "/": () => $("wb-q").focus(),
    e: expand,
    p: togglePin,
    h: hideSelected,
    Delete: removeSelected,
    Backspace: removeSelected,
    f: () => network.fit({ animation: false }),
    m: toggleMap,
    Escape: () => { network.unselectAll(); renderEntityList(); showDetails(); },
  };

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing = target.matches("input:not([type=checkbox]):not([type=radio]), textarea, select");
    const onList = target.id === "wb-entities";
    if (typing && !(onList && (event.key === "Delete" || event.key === "Escape"))) return;
    const action = SHORTCUTS[event.key];
    if (!action) return;
    event.preventDefault();
    guarded(action)();
  });

  window.addEventListener("resize", () => drawTimeline());

  window.workbench = {
    network: network,
    nodes: nodes,
    edges: edges,
    entities: entities,
    links: links,
    filters: filters,
    shown: () => Array.from(shownIds),
    shownLinks: () => Array.from(shownLinks),
    highlighted: () => Array.from(highlighted),
    highlightedLinks: () => Array.from(highlightedLinks),
    select: select,
  };

  guarded(async () => {
    await loadOntology();
    chartEl.dataset.ready = "true";
    drawTimeline();
    if ($("wb-purpose").value.trim().length >= 3) await listCharts();
    say("Ready. State a purpose, then search for entities to chart.");
  })();
})();
