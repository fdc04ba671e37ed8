// The live connection: one WebSocket to /ws, a subscription to one game, reconnection
// with exponential backoff (1, 2, 4, 8, 16 s, capped at 30 s) that resumes with the
// board versions already held.

import { parseJSON } from './api.js';

const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;
const PING_EVERY_MS = 20_000;
const PONG_WITHIN_MS = 10_000;
/** After this many failed attempts in a row the indicator says offline (retries go on). */
const OFFLINE_AFTER_ATTEMPTS = 5;

/** The wait before reconnection attempt `attempt` (0-based): 1, 2, 4, 8, 16, then 30 s. */
export function retryDelay(attempt) {
  return Math.min(FIRST_DELAY_MS * 2 ** attempt, MAX_DELAY_MS);
}

export class LiveClient {
  /**
   * @param {object} handlers
   *   onStatus(status, detail): status is connecting | connected | reconnecting | offline;
   *     detail.retryInMs when a retry is scheduled.
   *   onState(payload, isUpdate): a LeaderboardState for one scope.
   *   onError({code, message}): an error message from the server.
   *   getToken(): the access token to connect with (null: anonymous), read at each
   *     attempt, so an expired token is dropped on the next reconnection.
   */
  constructor({ onStatus, onState, onError, getToken } = {}) {
    this.getToken = getToken || (() => null);
    this.onStatus = onStatus || (() => {});
    this.onState = onState || (() => {});
    this.onError = onError || (() => {});
    this.subscription = null;
    this.versions = {};
    this.attempt = 0;
    this.socket = null;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.status = 'connecting';
    this.stopped = false;
    window.addEventListener('online', () => this.reconnectNow());
    window.addEventListener('offline', () => {
      this.setStatus('offline', { retryInMs: null });
      if (this.socket) this.socket.close();
    });
  }

  /** The WebSocket URL: same host as the page, ws or wss after the page's scheme. */
  get url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const token = this.getToken();
    const query = token ? `?token=${encodeURIComponent(token)}` : '';
    return `${scheme}//${location.host}/ws${query}`;
  }

  /** Connects, or reconnects now (with the token getToken gives now). */
  connect() {
    this.stopped = false;
    this.reconnectNow();
  }

  /**
   * Follows one game. Scopes whose parameters changed (the local country, the personal
   * user) are asked afresh; the others resume from the version held.
   */
  subscribe({ gameId, scopes, countryCode, period = 'all-time' }) {
    const previous = this.subscription;
    if (!previous || previous.gameId !== gameId || previous.period !== period) {
      this.versions = {};
      // Another board of the same game: stop the old one's updates.
      if (previous && previous.gameId === gameId) this.send({ type: 'unsubscribe', gameId, period: previous.period });
    } else if (previous.countryCode !== countryCode) delete this.versions.local;
    this.subscription = { gameId, scopes: [...scopes], countryCode, period };
    for (const scope of Object.keys(this.versions)) {
      if (!scopes.includes(scope)) delete this.versions[scope];
    }
    this.sendSubscription();
  }

  /** Forgets the personal version (the signed-in user changed). */
  forgetScope(scope) {
    delete this.versions[scope];
  }

  reconnectNow() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.attempt = 0;
    this.closeSocket();
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.closeSocket();
  }

  setStatus(status, detail = {}) {
    this.status = status;
    this.onStatus(status, detail);
  }

  open() {
    if (this.stopped) return;
    if (navigator.onLine === false) {
      this.setStatus('offline', { retryInMs: null });
      return;
    }
    if (this.attempt === 0 && this.status !== 'reconnecting' && this.status !== 'offline') this.setStatus('connecting');
    let socket;
    try {
      const url = this.url;
      socket = new WebSocket(url);
    } catch (error) {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.addEventListener('message', (event) => {
      if (socket !== this.socket) return;
      this.handle(event.data);
    });
    socket.addEventListener('close', () => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.stopTimers();
      this.scheduleRetry();
    });
  }

  closeSocket() {
    this.stopTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, 'bye');
  }

  scheduleRetry() {
    if (this.stopped) return;
    const delay = retryDelay(this.attempt);
    this.attempt += 1;
    const offline = navigator.onLine === false || this.attempt > OFFLINE_AFTER_ATTEMPTS;
    this.setStatus(offline ? 'offline' : 'reconnecting', { retryInMs: delay, retryAt: Date.now() + delay, attempt: this.attempt });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, delay);
  }

  handle(text) {
    let message;
    try {
      message = parseJSON(text);
    } catch {
      return;
    }
    this.notePong();
    switch (message.type) {
      case 'ready':
        this.attempt = 0;
        this.setStatus('connected');
        this.startPing();
        this.sendSubscription();
        break;
      case 'leaderboard:state':
      case 'leaderboard:update': {
        const payload = message.payload;
        if (!payload || !this.subscription || payload.gameId !== this.subscription.gameId) return;
        if (payload.version !== undefined) this.versions[payload.scope] = payload.version;
        this.onState(payload, message.type === 'leaderboard:update');
        break;
      }
      case 'error':
        this.onError({ code: message.code, message: message.message });
        break;
      default:
        break;
    }
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN && this.status === 'connected') {
      this.socket.send(JSON.stringify(message, (key, v) => (typeof v === 'bigint' ? Number(v) : v)));
      return true;
    }
    return false;
  }

  sendSubscription() {
    const sub = this.subscription;
    if (!sub) return;
    const message = { type: 'subscribe', gameId: sub.gameId, scopes: sub.scopes };
    if (sub.countryCode) message.countryCode = sub.countryCode;
    if (sub.period && sub.period !== 'all-time') message.period = sub.period;
    const since = {};
    for (const scope of sub.scopes) {
      if (this.versions[scope] !== undefined) since[scope] = this.versions[scope];
    }
    if (Object.keys(since).length) message.since = since;
    this.send(message);
  }

  startPing() {
    this.stopTimers();
    this.pingTimer = setInterval(() => {
      if (!this.send({ type: 'ping' })) return;
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => {
        // No answer: the connection is dead even if the browser has not noticed yet.
        const socket = this.socket;
        if (!socket) return;
        this.socket = null;
        this.stopTimers();
        socket.close();
        this.scheduleRetry();
      }, PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  notePong() {
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  stopTimers() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = null;
    this.pongTimer = null;
  }
}
