// The HTTP client of the pages: JSON in and out, the access token, and the one error
// shape of the API turned into messages a person can act on.

const TOKEN_KEY = 'podium.accessToken';
const TOKEN_EXPIRY_KEY = 'podium.accessTokenExpiresAt';

/** Parses JSON keeping integers beyond 2^53 exact (as BigInt): scores are 64-bit. */
export function parseJSON(text) {
  return JSON.parse(text, (key, value, context) => {
    if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)
        && context && typeof context.source === 'string' && /^-?\d+$/.test(context.source)) {
      return BigInt(context.source);
    }
    return value;
  });
}

/** JSON text of a value; BigInts are written as exact integers. */
export function toJSON(value) {
  return JSON.stringify(value, (key, v) => (typeof v === 'bigint' ? JSON.rawJSON(v.toString()) : v));
}

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export const session = {
  get token() {
    const token = localStorage.getItem(TOKEN_KEY);
    if (!token) return null;
    const expiresAt = Number(localStorage.getItem(TOKEN_EXPIRY_KEY) || 0);
    if (expiresAt && Date.now() > expiresAt) {
      this.clear('expired');
      return null;
    }
    return token;
  },
  store(accessToken, expiresIn) {
    localStorage.setItem(TOKEN_KEY, accessToken);
    if (expiresIn) localStorage.setItem(TOKEN_EXPIRY_KEY, String(Date.now() + Number(expiresIn) * 1000));
    else localStorage.removeItem(TOKEN_EXPIRY_KEY);
  },
  clear(reason) {
    const had = localStorage.getItem(TOKEN_KEY) !== null;
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(TOKEN_EXPIRY_KEY);
    // Later, not now: a listener may reconnect the live socket while it is being opened.
    if (had) setTimeout(() => window.dispatchEvent(new CustomEvent('podium:signed-out', { detail: { reason } })), 0);
  },
};

/**
 * Calls the API. `body` is sent as JSON; the access token goes along when there is one.
 * Resolves to the parsed answer (null for 204); rejects with an ApiError, whose code is
 * OFFLINE when the server could not be reached.
 */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { accept: 'application/json' };
  const token = session.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : toJSON(body), signal, cache: 'no-store' });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, 'OFFLINE', 'The Podium server cannot be reached.');
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = parseJSON(text); } catch { data = null; }
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    const retryHeader = Number(response.headers.get('retry-after'));
    const apiError = new ApiError(
      response.status,
      error.code || `HTTP_${response.status}`,
      error.message || `The server answered ${response.status} ${response.statusText}.`,
      error.retryAfter ?? (Number.isFinite(retryHeader) && retryHeader > 0 ? retryHeader : undefined),
    );
    if (token && (apiError.code === 'TOKEN_EXPIRED' || (response.status === 401 && apiError.code === 'UNAUTHORIZED'))) {
      session.clear(apiError.code === 'TOKEN_EXPIRED' ? 'expired' : 'invalid');
    }
    throw apiError;
  }
  return data;
}

/** The text to show a person for an error of `api` (or any error). */
export function describeError(error) {
  if (!(error instanceof ApiError)) return error && error.message ? error.message : String(error);
  switch (error.code) {
    case 'OFFLINE':
      return 'You are offline: the Podium server cannot be reached. Check the connection and try again.';
    case 'RATE_LIMIT_EXCEEDED':
      return error.retryAfter
        ? `Too many requests: please wait ${error.retryAfter} s and try again.`
        : 'Too many requests: please wait a moment and try again.';
    case 'SESSION_EXPIRED':
      return 'This run’s session expired before the score was sent. Start a new run and submit again.';
    case 'TOKEN_EXPIRED':
      return 'Your sign-in has expired. Please sign in again.';
    default:
      return error.message;
  }
}

export const getConfig = (() => {
  let pending;
  return () => {
    pending ??= api('/api/config').catch((error) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
})();
