/* global document, fetch */
// The pages' one way to talk to the server: same-origin JSON, the session's CSRF token on every
// state change. Errors carry the server's one-line reason.
let csrfToken;

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const data = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  if (!res.ok) throw new ApiError(res.status, data.error ?? `${res.status}`);
  return data;
}

export const api = {
  get: (path) => call('GET', path),
  post: (path, body) => call('POST', path, body ?? {}),
  /** Who this session is; remembers its CSRF token. */
  async me() {
    const me = await call('GET', '/api/me');
    csrfToken = me.csrfToken;
    return me;
  },
};

export function show(id, text) {
  const el = document.getElementById(id);
  el.textContent = text;
  el.hidden = !text;
}

export function explainAuth(err) {
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return `${err.message}. Open the invite link you were sent to sign in.`;
  return err.message;
}
