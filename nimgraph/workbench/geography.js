/* The workbench's map mode: entities with latitude and longitude placed on a plain projected plane
 * (equirectangular, squeezed by the cosine of the middle latitude) under a graticule; no tiles, so
 * nothing is fetched. Entities without coordinates are parked in columns to the west. Loaded
 * before workbench.js, which makes one with nimgraphGeography(...).
 */
(function () {
  "use strict";

  const WIDTH = 900; // network units the located entities fill, across their larger side
  const PARK_GAP = 160; // between the westmost located entity and the parked columns
  const COLUMN = 130;
  const ROW = 55;

  /** The coordinates of an entity's properties, or null. */
  function geoOf(properties) {
    if (!properties || properties.latitude === undefined || properties.longitude === undefined) return null;
    const lat = Number(properties.latitude);
    const lon = Number(properties.longitude);
    const valid = Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
    return valid ? { lat: lat, lon: lon } : null;
  }

  function niceStep(span) {
    const rough = span / 5;
    const power = Math.pow(10, Math.floor(Math.log10(rough)));
    return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) || power * 10;
  }

  /** network: the vis Network (for the graticule); returns place(entities) -> position updates. */
  window.nimgraphGeography = function (network) {
    let frame = null;

    function place(entities) {
      const located = entities.filter((e) => e.geo);
      if (!located.length) {
        frame = null;
        return [];
      }
      const lats = located.map((e) => e.geo.lat);
      const lons = located.map((e) => e.geo.lon);
      const south = Math.min(...lats), north = Math.max(...lats), west = Math.min(...lons), east = Math.max(...lons);
      const lat0 = (south + north) / 2, lon0 = (west + east) / 2;
      const squeeze = Math.cos((lat0 * Math.PI) / 180);
      const scale = WIDTH / Math.max((east - west) * squeeze, north - south, 1e-4); // units per degree of latitude
      frame = { lat0: lat0, lon0: lon0, squeeze: squeeze, scale: scale, south: south, north: north, west: west, east: east };
      const fixed = { x: true, y: true };
      const updates = located.map((e) => ({ id: e.id, x: x(e.geo.lon), y: y(e.geo.lat), fixed: fixed }));
      const parked = entities.filter((e) => !e.geo).sort((a, b) => a.label.localeCompare(b.label));
      const perColumn = Math.max(8, Math.ceil(Math.sqrt(parked.length * 2)));
      parked.forEach((e, i) => {
        updates.push({ id: e.id, x: x(west) - PARK_GAP - Math.floor(i / perColumn) * COLUMN, y: y(north) + (i % perColumn) * ROW, fixed: fixed });
      });
      return updates;
    }

    function x(lon) { return (lon - frame.lon0) * frame.squeeze * frame.scale; }
    function y(lat) { return -(lat - frame.lat0) * frame.scale; }

    network.on("beforeDrawing", (ctx) => {
      if (!frame) return;
      const pad = Math.max(frame.north - frame.south, 1e-3) * 0.15;
      const west = frame.west - pad, east = frame.east + pad, south = frame.south - pad, north = frame.north + pad;
      const latStep = niceStep(north - south);
      const lonStep = niceStep(east - west);
      ctx.save();
      ctx.strokeStyle = "#e2e8ee";
      ctx.fillStyle = "#8796a5";
      ctx.lineWidth = 1;
      ctx.font = "11px system-ui, sans-serif";
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

    return {
      geoOf: geoOf,
      place: place,
      clear: () => { frame = null; },
    };
  };
})();
