/* The workbench's API client: every request carries the purpose typed at the top of the page
 * (X-Purpose, as UTF-8) and, for browsers without fetch metadata, the page's anti-forgery token;
 * the key is the one the browser already sends (HTTP Basic). Errors are the API's problem
 * details, shown in the status line. Loaded before workbench.js, which makes one with
 * nimgraphClient(...).
 */
(function () {
  "use strict";

  function utf8(text) {
    // Headers travel as bytes: send the purpose as UTF-8, as the API reads it.
    return unescape(encodeURIComponent(text));
  }

  /** A query string; a list repeats its parameter, and empty values are left out. */
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

  /** purposeInput: the purpose field; statusEl: the status line (data-busy, data-done for tests). */
  window.nimgraphClient = function (csrf, purposeInput, statusEl) {
    let busy = 0;
    let done = 0;

    function say(text, error) {
      statusEl.textContent = text;
      statusEl.classList.toggle("error", Boolean(error));
    }

    async function api(path, params, init) {
      const purpose = purposeInput.value.trim();
      if (purpose.length < 3) {
        purposeInput.focus();
        throw new Error("State the purpose of your reading first (at the top): every request records it in the audit log.");
      }
      const headers = { Accept: "application/json", "X-Purpose": utf8(purpose) };
      if (csrf) headers["X-CSRF-Token"] = csrf;
      const options = { method: (init && init.method) || "GET", headers: headers, credentials: "same-origin", cache: "no-store" };
      if (init && init.body !== undefined) {
        headers["Content-Type"] = "application/json";
        options.body = JSON.stringify(init.body);
      }
      statusEl.dataset.busy = String((busy += 1));
      try {
        const response = await fetch(path + query(params), options);
        const text = await response.text();
        let data = null;
        try { data = text ? JSON.parse(text) : null; } catch (ignored) { data = null; }
        if (!response.ok) throw new Error((data && data.detail) || response.status + " " + response.statusText);
        return data;
      } finally {
        statusEl.dataset.busy = String((busy -= 1));
      }
    }

    /** An action from the page: its error is shown, and the status counts it done (tests wait on that). */
    function guarded(action) {
      return async function (event) {
        if (event && event.preventDefault) event.preventDefault();
        try {
          await action(event);
        } catch (error) {
          say(error.message || String(error), true);
        } finally {
          statusEl.dataset.done = String((done += 1));
        }
      };
    }

    return { api: api, guarded: guarded, say: say };
  };
})();
