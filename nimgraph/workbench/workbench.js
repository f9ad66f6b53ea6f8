/* The nimgraph workbench: a chart of the graph, built from the API as the caller may see it.
 *
 * Everything comes from the API with the key the browser already sent (HTTP Basic) and the
 * purpose stated at the top, which every request carries in X-Purpose: the page itself holds no
 * data. Data is only ever written into the page as text (textContent, canvas labels, plain-text
 * tooltips), never as markup. The API client (client.js), the timeline (timeline.js), map mode
 * (geography.js) and questions (answers.js) are loaded first; this core holds the chart and puts
 * them together.
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("wb-config").textContent);
  const $ = (id) => document.getElementById(id);
  const chartEl = $("wb-chart");
  const statusEl = $("wb-status");

  const LINK_COLOURS = ["#4477AA", "#CC6677", "#228833", "#AA3377", "#EE7733", "#66CCEE",
    "#882255", "#999933", "#0077BB", "#EE3377", "#117733", "#332288"];
  const HIGHLIGHT = "#d6006f";
  const GRADE_WIDTH = { 1: 3, 2: 2, 3: 1 };
  const MAX_ADD = 200; // entities fetched one by one for an answer, at most

  // ------------------------------------------------------------------ state
  const types = new Map(config.types.map((t) => [t.name, t])); // name -> {category, colour, shape, event, mappable}
  const linkTypes = new Map(config.links.map((k) => [k.name, k])); // name -> {label, kind, inferred}
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
  let lastResults = [];

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

  const geography = window.nimgraphGeography(network);
  const timeline = window.nimgraphTimeline($("wb-timeline"), datesOnChart, filters, (since, until) => setWindow(since, until));

  const client = window.nimgraphClient(config.csrf, $("wb-purpose"), statusEl);
  const api = client.api;
  const guarded = client.guarded;
  const say = client.say;

  // ------------------------------------------------------------------ the ontology: colours, shapes, words
  const OTHER = { category: "Other", colour: "#999999", shape: "dot" };

  function style(type) {
    return types.get(type) || OTHER;
  }

  function kindColour(type) {
    const kind = (linkTypes.get(type) || { kind: type }).kind;
    if (!kindColours.has(kind)) kindColours.set(kind, LINK_COLOURS[kindColours.size % LINK_COLOURS.length]);
    return kindColours.get(kind);
  }

  function linkWords(type) {
    const known = linkTypes.get(type);
    return known && known.label ? known.label : type;
  }

  function values(id) {
    return Array.from($(id).selectedOptions).map((o) => o.value);
  }

  function option(value, text) {
    const element = document.createElement("option");
    element.value = value;
    element.textContent = text;
    return element;
  }

  function fillLists() {
    const named = config.types.filter((t) => t.mappable).map((t) => t.name);
    named.forEach((name) => ["wb-type", "wb-q-types", "wb-via"].forEach((id) => $(id).appendChild(option(name, name))));
    config.types.filter((t) => t.mappable && t.event).forEach((t) => $("wb-event-types").appendChild(option(t.name, t.name)));
    config.links.forEach((k) => {
      const words = k.label && k.label !== k.name ? k.name + " (" + k.label + ")" : k.name;
      ["wb-linked-by", "wb-expand-types", "wb-q-link-types"].forEach((id) => $(id).appendChild(option(k.name, words)));
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

  function datesOnChart() {
    const dates = [];
    entities.forEach((e) => dates.push(...e.dates));
    links.forEach((k) => dates.push(...k.dates));
    return dates;
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
    entity.geo = geography.geoOf(entity.properties);
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
    if (mode === "map") nodes.update(geography.place(Array.from(entities.values())));
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
    const drawn = style(entity.type);
    return {
      id: entity.id,
      label: shorten(entity.label, 34),
      title: [entity.label, entity.type + " \u00b7 " + entity.id].concat(recordLines(entity.provenance)).join("\n"),
      shape: drawn.shape,
      size: lit ? 20 : 14,
      color: { background: drawn.colour, border: lit ? HIGHLIGHT : "#333", highlight: { background: drawn.colour, border: lit ? HIGHLIGHT : "#000" } },
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
    renderLegend();
    timeline.draw();
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

  const GLYPHS = { dot: "\u25cf", diamond: "\u25c6", square: "\u25a0", triangle: "\u25b2", star: "\u2605",
    hexagon: "\u2b22", triangleDown: "\u25bc", ellipse: "\u2b2c" };

  /** The entity types on the chart, each in its colour and shape, as the reports' legends show them. */
  function renderLegend() {
    const box = $("wb-legend");
    const present = Array.from(new Set(Array.from(entities.values()).map((e) => e.type))).sort();
    if (box.dataset.types === present.join(",")) return;
    box.dataset.types = present.join(",");
    box.replaceChildren(...present.map((type) => {
      const drawn = style(type);
      const item = document.createElement("span");
      const glyph = document.createElement("b");
      glyph.textContent = GLYPHS[drawn.shape] || GLYPHS.dot;
      glyph.style.color = drawn.colour;
      item.append(glyph, document.createTextNode(" " + type + " (" + drawn.category + ")"));
      return item;
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
  const EXPAND_AT_ONCE = 10; // a read per entity: more at once would keep the page waiting
  const expandedBefore = new Set();

  async function expand() {
    const selected = needSelection();
    // those not expanded yet first, so pressing Expand again works through a large selection
    const ordered = selected.filter((id) => !expandedBefore.has(id)).concat(selected.filter((id) => expandedBefore.has(id)));
    const ids = ordered.slice(0, EXPAND_AT_ONCE);
    ids.forEach((id) => expandedBefore.add(id));
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
      (truncated ? "; capped at " + max + " entities (raise the limit under Expand options)" : "") +
      (selected.length > ids.length ? "; " + (selected.length - ids.length) + " more selected wait: press Expand again" : "") + ".");
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

  // ------------------------------------------------------------------ highlighting
  function highlight(ids, linkIds) {
    highlighted = new Set(ids);
    highlightedLinks = new Set(linkIds);
    sync([]);
  }

  function focus(ids) {
    const drawn = ids.filter((id) => shownIds.has(id));
    if (drawn.length) network.fit({ nodes: drawn, animation: false });
  }

  function fitWhenSettled() {
    network.once("stabilizationIterationsDone", () => network.fit({ animation: false }));
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

  // ------------------------------------------------------------------ dates
  function setWindow(since, until) {
    filters.since = since || "";
    filters.until = until || "";
    $("wb-since").value = filters.since;
    $("wb-until").value = filters.until;
    sync([]);
    say(since || until ? "Showing dated items from " + (since || "the start") + " to " + (until || "the end") + "; undated items always show." : "Showing every date.");
  }

  // ------------------------------------------------------------------ map mode
  function toggleMap() {
    if (mode === "network") {
      if (!Array.from(entities.values()).some((e) => e.geo)) throw new Error("No entity on the chart has coordinates (latitude and longitude) to place on the map.");
      networkPositions = positions();
      mode = "map";
      network.setOptions({ physics: { enabled: false } });
      nodes.update(geography.place(Array.from(entities.values())));
    } else {
      mode = "network";
      const back = Array.from(entities.values()).map((e) => Object.assign({ id: e.id }, (networkPositions && networkPositions[e.id]) || e.pos))
        .filter((p) => p.x !== undefined);
      nodes.update(back);
      networkPositions = null;
      geography.clear();
    }
    $("wb-mode").setAttribute("aria-pressed", String(mode === "map"));
    $("wb-mode").textContent = mode === "map" ? "Network mode" : "Map mode";
    sync([]);
    network.fit({ animation: false });
    say(mode === "map" ? "Map mode: entities with coordinates placed by latitude and longitude (no map tiles: nothing is fetched)." : "Network mode.");
  }

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
  const answers = window.nimgraphAnswers({
    $: $,
    config: config,
    api: api,
    guarded: guarded,
    say: say,
    shownIds: () => Array.from(shownIds),
    onChart: (id) => entities.has(id),
    addEntities: addEntities,
    highlight: highlight,
    select: select,
    focus: focus,
    fitWhenSettled: fitWhenSettled,
  });

  const matches = window.nimgraphMatches({ $: $, config: config, api: api, guarded: guarded, say: say, addEntities: addEntities });

  function on(id, event, handler) {
    $(id).addEventListener(event, guarded(handler));
  }

  on("wb-matches", "click", matches.loadQueue);

  on("wb-search-form", "submit", search);
  on("wb-add-all", "click", addAll);
  on("wb-expand", "click", expand);
  on("wb-pin", "click", togglePin);
  on("wb-hide", "click", hideSelected);
  on("wb-remove", "click", removeSelected);
  on("wb-unhide", "click", unhideAll);
  on("wb-clear-chart", "click", () => { clearChart(); say("The chart is empty."); });
  on("wb-question-form", "submit", () => answers.run());
  on("wb-paths", "click", findPaths);
  on("wb-save-form", "submit", saveChart);
  on("wb-list", "click", () => listCharts());
  on("wb-open", "click", openChart);
  on("wb-export-png", "click", exportPng);
  on("wb-export-json", "click", exportJson);
  on("wb-mode", "click", toggleMap);
  on("wb-fit", "click", () => network.fit({ animation: false }));
  on("wb-clear-highlight", "click", () => highlight([], []));
  on("wb-park", "change", () => sync([]));
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
    fillLists();
    chartEl.dataset.ready = "true";
    timeline.draw();
    if ($("wb-purpose").value.trim().length >= 3) await listCharts();
    say("Ready. State a purpose, then search for entities to chart.");
  })();
})();
