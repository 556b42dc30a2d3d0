// A stand-in for the portal's JSON API in node tests of client modules: globalThis.fetch answers
// from a table of handlers, and every request is recorded. The crypto stays real; only the
// network is replaced (browser tests drive the real server).
//
//   const server = fakeServer({"GET /api/session": () => json({...}), ...});
//   ... call the client ...
//   server.requests  -> [{method, url, query, headers, body (parsed JSON or null)}]
//   (url is the path; query the search string, e.g. "?count=4", or ""; handlers get both)

export function json(body, { status = 200, headers = {} } = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function fakeServer(routes) {
  const requests = [];
  globalThis.fetch = async (url, init = {}) => {
    const method = (init.method || "GET").toUpperCase();
    const { pathname: path, search: query } = new URL(url, "https://portal.test");
    const body = typeof init.body === "string" ? JSON.parse(init.body) : null;
    requests.push({ method, url: path, query, headers: init.headers || {}, body });
    const handler = routes[`${method} ${path}`];
    if (!handler) return json({ error: `no route ${method} ${path}` }, { status: 404 });
    return handler({ method, path, query, body });
  };
  return { requests };
}
