// The game page, /games/{gameId}: the live leaderboard (Global, Local, Personal best),
// the Live indicator, and the "Submit test score" button outside production.

import { api, session, describeError, getConfig } from './api.js';
import { initAccount, onAccountChange, openAuthDialog } from './account.js';
import { LiveClient } from './live.js';
import { h, flag, formatScore, formatCount, formatRelative, formatSeconds, formatTime, countryLabel, countryName, countrySelect, showMessage, sleep } from './ui.js';

const COUNTRY_KEY = 'podium.localCountry';
const BADGE_MS = 5000;

const gameId = decodeURIComponent(location.pathname.replace(/^\/games\//, '').split('/')[0] || '');
const $ = (id) => document.getElementById(id);

let game = null;
let user = null;
/** The board shown: `all-time` or the name of one of the game's period schedules. */
let period = new URLSearchParams(location.search).get('period') || 'all-time';
const boards = {
  global: { rows: new Map(), state: null },
  local: { rows: new Map(), state: null },
  personal: { state: null },
};

const live = new LiveClient({
  getToken: () => session.token,
  onStatus: renderLiveStatus,
  onState: (payload, isUpdate) => {
    // A state of another board than the one shown (sent before a switch took effect).
    if ((payload.period !== undefined) !== (period !== 'all-time')) return;
    if (payload.period) renderPeriodEnd(payload.periodEndsAt);
    if (payload.scope === 'personal') renderPersonal(payload);
    else if (boards[payload.scope]) renderBoard(payload.scope, payload, isUpdate);
  },
  onError: ({ code, message }) => showMessage($('page-error'), `Live updates: ${message}${code ? ` (${code})` : ''}`, 'error'),
});

// MARK: Live indicator

let countdownTimer = null;
function renderLiveStatus(status, detail = {}) {
  const element = $('live-status');
  element.dataset.state = status;
  clearInterval(countdownTimer);
  $('retry-now').hidden = !(status === 'offline' || status === 'reconnecting');
  const text = { connecting: 'Connecting…', connected: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' }[status] || status;
  $('live-text').textContent = text;
  const detailElement = $('live-detail');
  detailElement.textContent = '';
  if (detail.retryAt && (status === 'reconnecting' || status === 'offline')) {
    const tick = () => {
      const seconds = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
      detailElement.textContent = seconds > 0 ? ` · retry in ${seconds} s` : ' · retrying';
    };
    tick();
    countdownTimer = setInterval(tick, 1000);
  }
  if ((status === 'reconnecting' || status === 'offline') && detail.attempt >= 2 && session.token) {
    // The server refuses the upgrade of a socket whose token it no longer accepts (expired,
    // or signed with another key), and a browser cannot see why: ask /api/me, which
    // signs the page out on 401 so that the next attempt goes anonymous.
    api('/api/me').catch(() => {});
  }
  if (status === 'connected') {
    showMessage($('page-error'), '');
  } else if ((status === 'reconnecting' || status === 'offline') && !boards.global.state) {
    loadSnapshot();
  }
}

// MARK: Boards

function localCountry() {
  if (user && user.countryCode) return user.countryCode;
  return localStorage.getItem(COUNTRY_KEY) || 'GB';
}

function scopes() {
  return user ? ['global', 'local', 'personal'] : ['global', 'local'];
}

function subscribe() {
  live.subscribe({ gameId, scopes: scopes(), countryCode: localCountry(), period });
}

// MARK: Periods

const PERIOD_LABELS = { 'all-time': 'All-time', daily: 'Today', weekly: 'This week', monthly: 'This month' };

/** The period buttons, when the game keeps more boards than all-time. */
function renderPeriods() {
  const names = ['all-time', ...(game.periods || []).map((p) => (typeof p === 'string' ? p : p.name)).filter((n) => n !== 'all-time')];
  if (!names.includes(period)) {
    period = 'all-time';
    subscribe();
  }
  $('period-row').hidden = names.length < 2;
  $('period-buttons').replaceChildren(...names.map((name) => h('button', {
    type: 'button', 'aria-pressed': String(name === period), dataset: { period: name },
    onclick: () => selectPeriod(name),
  }, PERIOD_LABELS[name] || name)));
  if (period === 'all-time') renderPeriodEnd(null);
}

function selectPeriod(name) {
  if (name === period) return;
  period = name;
  const url = new URL(location.href);
  if (name === 'all-time') url.searchParams.delete('period'); else url.searchParams.set('period', name);
  history.replaceState(null, '', url);
  for (const button of $('period-buttons').children) button.setAttribute('aria-pressed', String(button.dataset.period === name));
  resetBoard('global');
  resetBoard('local');
  boards.personal = { state: null };
  renderPersonalPanel();
  renderPeriodEnd(null);
  subscribe();
}

let periodEndsAt = null;
let periodTimer = null;
/** "Resets in 3 h 12 min" for the current period (nothing for all-time). */
function renderPeriodEnd(endsAt) {
  periodEndsAt = endsAt ? new Date(endsAt).getTime() : null;
  clearInterval(periodTimer);
  const tick = () => {
    if (periodEndsAt == null) { $('period-resets').textContent = ''; return; }
    const minutes = Math.max(0, Math.ceil((periodEndsAt - Date.now()) / 60000));
    const days = Math.floor(minutes / 1440);
    const hours = Math.floor((minutes % 1440) / 60);
    const parts = days ? [`${days} d`, `${hours} h`] : hours ? [`${hours} h`, `${minutes % 60} min`] : [`${minutes} min`];
    $('period-resets').textContent = `Resets in ${parts.join(' ')}`;
  };
  tick();
  if (periodEndsAt != null) periodTimer = setInterval(tick, 30000);
}

let snapshotLoading = false;
/** Reads the boards over HTTP while the live connection is down (shown, not live). */
async function loadSnapshot() {
  if (snapshotLoading) return;
  snapshotLoading = true;
  try {
    const [global, local] = await Promise.all([
      api(`/api/leaderboards/${encodeURIComponent(gameId)}?scope=global&period=${period}&limit=${game ? Math.min(game.topN, 100) : 10}`),
      api(`/api/leaderboards/${encodeURIComponent(gameId)}?scope=local&period=${period}&country=${localCountry()}&limit=${game ? Math.min(game.topN, 100) : 10}`),
    ]);
    if (!boards.global.state) renderBoard('global', global, false);
    if (!boards.local.state) renderBoard('local', local, false);
  } catch (error) {
    if (!boards.global.state) showMessage($('page-error'), describeError(error), 'error');
  } finally {
    snapshotLoading = false;
  }
}

function resetBoard(scope) {
  const board = boards[scope];
  board.state = null;
  board.rows.clear();
  $(`rows-${scope}`).replaceChildren(h('tr', { class: 'placeholder' }, h('td', { colspan: 5, class: 'empty' }, 'Loading…')));
  $(`summary-${scope}`).textContent = '';
}

function renderBoard(scope, state, isUpdate) {
  const board = boards[scope];
  if (scope === 'local' && state.countryCode && state.countryCode !== localCountry()) return;
  const animate = board.state !== null;
  board.state = state;
  const tbody = $(`rows-${scope}`);
  for (const placeholder of tbody.querySelectorAll('.placeholder')) placeholder.remove();
  const seen = new Set();
  state.entries.forEach((entry, index) => {
    let row = board.rows.get(entry.userId);
    const isNew = !row;
    if (isNew) {
      row = h('tr', { dataset: { userId: entry.userId } });
      board.rows.set(entry.userId, row);
    }
    const previousRank = isNew ? null : Number(row.dataset.rank);
    const previousScore = isNew ? null : row.dataset.score;
    fillRow(row, entry);
    if (animate) {
      if (isNew) markRow(row, 'new');
      else if (previousRank !== entry.rank) markRow(row, previousRank - entry.rank);
      else if (previousScore !== String(entry.score)) markRow(row, 0);
    }
    if (tbody.children[index] !== row) tbody.insertBefore(row, tbody.children[index] || null);
    seen.add(entry.userId);
  });
  for (const [userId, row] of board.rows) {
    if (!seen.has(userId)) {
      row.remove();
      board.rows.delete(userId);
    }
  }
  if (state.entries.length === 0) {
    tbody.append(h('tr', { class: 'placeholder' }, h('td', { colspan: 5, class: 'empty' },
      scope === 'local' ? `No scores from ${countryName(localCountry())} yet.` : 'No scores yet. Be the first!')));
  }
  const total = state.total ?? state.entries.length;
  const where = scope === 'local' ? ` in ${countryName(state.countryCode || localCountry())}` : '';
  const shown = state.entries.length < total ? `top ${formatCount(state.entries.length)} of ` : '';
  $(`summary-${scope}`).textContent = `Showing ${shown}${formatCount(total)} ${total === 1 ? 'player' : 'players'}${where}`
    + (state.updatedAt ? ` · updated ${new Date(state.updatedAt).toLocaleTimeString()}` : '');
}

function fillRow(row, entry) {
  const mine = user && entry.userId === user.userId;
  row.dataset.rank = String(entry.rank);
  row.dataset.score = String(entry.score);
  row.classList.toggle('me', Boolean(mine));
  const badge = row.querySelector('.move');
  const rankCell = h('td', { class: 'rank' }, `#${entry.rank}`);
  if (badge) rankCell.append(badge);
  row.replaceChildren(
    rankCell,
    h('td', { class: 'player' },
      entry.countryCode ? h('span', { class: 'flag show-narrow', 'aria-hidden': 'true', title: countryName(entry.countryCode) }, flag(entry.countryCode)) : null,
      entry.displayName, mine ? h('span', { class: 'you' }, 'You') : null),
    h('td', { class: 'hide-narrow' }, countryLabel(entry.countryCode)),
    h('td', { class: 'num score' }, formatScore(entry.score)),
    h('td', { class: 'hide-narrow muted small' }, h('time', { datetime: entry.achievedAt, title: formatTime(entry.achievedAt) }, formatRelative(entry.achievedAt))),
  );
}

/** Shows a rank move on a row: `delta` places up (>0), down (<0), 0 (score only), or 'new'. */
function markRow(row, delta) {
  row.querySelector('.move')?.remove();
  clearTimeout(row._badgeTimer);
  let badge = null;
  if (delta === 'new') badge = h('span', { class: 'move new', title: 'New on this board' }, 'NEW');
  else if (delta > 0) badge = h('span', { class: 'move up', title: `Up ${delta}` }, `▲${delta}`);
  else if (delta < 0) badge = h('span', { class: 'move down', title: `Down ${-delta}` }, `▼${-delta}`);
  if (badge) {
    row.querySelector('td.rank').append(badge);
    row._badgeTimer = setTimeout(() => {
      badge.classList.add('fading');
      setTimeout(() => badge.remove(), 700);
    }, BADGE_MS);
  }
  row.classList.remove('flash');
  void row.offsetWidth; // restart the animation
  row.classList.add('flash');
}

// MARK: Personal

/** The personal state carries the entry, both ranks and both totals: nothing to fetch. */
function renderPersonal(payload) {
  boards.personal.state = payload;
  renderPersonalPanel();
}

function renderPersonalPanel() {
  const body = $('personal-body');
  if (!user) {
    body.replaceChildren(
      h('p', {}, 'Sign in to follow your personal best and your rank, live.'),
      h('div', { class: 'actions-row' },
        h('button', { type: 'button', class: 'primary', onclick: () => openAuthDialog('signin', 'Sign in to see your personal best.') }, 'Sign in'),
        h('button', { type: 'button', onclick: () => openAuthDialog('register') }, 'Register')),
    );
    return;
  }
  const state = boards.personal.state;
  const entry = state && state.entries && state.entries[0];
  if (!entry) {
    body.replaceChildren(h('p', { id: 'personal-empty' }, state ? `You have no score on ${game ? game.name : 'this game'} yet.` : 'Loading…'));
    return;
  }
  const stats = [
    ['Personal best', formatScore(entry.score), 'personal-score'],
    ['Global rank', `#${state.globalRank ?? entry.rank}${state.globalTotal != null ? ` of ${formatCount(state.globalTotal)}` : ''}`, 'personal-global-rank'],
  ];
  if (state.localRank != null) {
    stats.push([`Rank in ${entry.countryCode || ''}`.trim(), `#${state.localRank} of ${formatCount(state.localTotal)}`, 'personal-local-rank']);
  }
  body.replaceChildren(
    h('div', { class: 'stat-grid', id: 'personal-stats' },
      stats.map(([label, value, id]) => h('div', { class: 'stat' }, h('div', { class: 'label' }, label), h('div', { class: 'value', id }, value)))),
    h('p', { class: 'muted small' }, 'Set ', h('time', { datetime: entry.achievedAt }, formatTime(entry.achievedAt)), ` as ${entry.displayName}.`),
  );
}

// MARK: Tabs

function selectTab(scope, focus = false) {
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab.dataset.scope === scope;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(tab.getAttribute('aria-controls')).hidden = !selected;
    if (selected && focus) tab.focus();
  }
}

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  for (const tab of tabs) {
    tab.addEventListener('click', () => selectTab(tab.dataset.scope));
    tab.addEventListener('keydown', (event) => {
      const index = tabs.indexOf(tab);
      let next = null;
      if (event.key === 'ArrowRight') next = tabs[(index + 1) % tabs.length];
      else if (event.key === 'ArrowLeft') next = tabs[(index - 1 + tabs.length) % tabs.length];
      else if (event.key === 'Home') next = tabs[0];
      else if (event.key === 'End') next = tabs[tabs.length - 1];
      if (next) {
        event.preventDefault();
        selectTab(next.dataset.scope, true);
      }
    });
  }
}

function renderLocalTools() {
  const field = $('country-picker-field');
  const country = localCountry();
  if (user && user.countryCode) {
    field.hidden = true;
    $('local-country-text').textContent = `Players from ${countryName(country)}, your country.`;
  } else {
    field.hidden = false;
    $('local-country-text').textContent = `Players from ${countryName(country)}.`;
    let picker = $('country-picker');
    if (!picker) {
      picker = countrySelect({ id: 'country-picker' }, country);
      picker.addEventListener('change', () => {
        localStorage.setItem(COUNTRY_KEY, picker.value);
        resetBoard('local');
        renderLocalTools();
        subscribe();
      });
      field.append(picker);
    }
    picker.value = country;
  }
}

// MARK: Test score

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function randomInt(min, max) {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** The action the test button completes, if the game has a catalogue. */
function testAction() {
  const actions = game.actions || [];
  return actions.find((a) => a.repeatable && !a.requiresRun) || actions.find((a) => a.repeatable) || actions[0] || null;
}

function describeTestScore() {
  const help = $('test-score-help');
  const action = testAction();
  if (action) {
    help.textContent = `Test mode: completes “${action.name || action.id}” (+${formatScore(action.points)} points)${action.requiresRun ? ' in a new run' : ''}.`;
  } else {
    const max = game.maxScore != null ? formatScore(game.maxScore) : formatScore(100000);
    const rules = [];
    if (game.maxScorePerSecond) rules.push(`at most ${formatScore(game.maxScorePerSecond)} points per second of play, so it plays for a second`);
    if (game.minRunMilliseconds) rules.push(`no run shorter than ${formatSeconds(game.minRunMilliseconds)}, so it plays that long`);
    const min = game.minScore != null ? ` from ${formatScore(game.minScore)}` : '';
    help.textContent = `Test mode: starts a run and submits a random score${min} up to ${max}`
      + (rules.length ? ` (${rules.join('; ')}).` : '.');
  }
}

async function submitTestScore() {
  const result = $('submit-result');
  if (!user) {
    openAuthDialog('signin', 'Sign in (or register) to submit a score.');
    return;
  }
  const button = $('submit-test-score');
  button.disabled = true;
  try {
    // Games with an action catalogue earn points from actions only; others take runs.
    const action = testAction();
    if (action) {
      const body = { actionId: action.id, gameId };
      if (action.requiresRun) {
        showMessage(result, 'Starting a run…', 'info');
        body.sessionToken = (await api('/api/game-sessions', { method: 'POST', body: { gameId } })).token;
      }
      showMessage(result, `Completing “${action.name || action.id}”…`, 'info');
      const answer = await api('/api/actions/complete', { method: 'POST', body });
      showMessage(result, `+${formatScore(answer.pointsEarned)} points for “${action.name || action.id}”: `
        + `your total is ${formatScore(answer.newScore)}${answer.rank ? `, rank #${answer.rank}` : ''}.`, 'ok');
    } else {
      showMessage(result, 'Starting a run…', 'info');
      const run = await api('/api/game-sessions', { method: 'POST', body: { gameId } });
      const issuedAt = performance.now();
      let cap = game.maxScore != null ? Math.min(Number(game.maxScore), Number.MAX_SAFE_INTEGER) : 100000;
      const floor = game.minScore != null ? Number(game.minScore) : 1;
      // A run must last as long as the game's rules need: a second to earn points at
      // maxScorePerSecond, and at least minRunMilliseconds (the server measures it).
      const playFor = Math.max(game.maxScorePerSecond ? 1000 : 0, Number(game.minRunMilliseconds || 0));
      if (playFor > 0) {
        showMessage(result, `Playing for ${formatSeconds(playFor)}…`, 'info');
        await sleep(playFor + 100);
      }
      if (game.maxScorePerSecond) {
        const seconds = (performance.now() - issuedAt) / 1000;
        cap = Math.min(cap, Math.floor(Number(game.maxScorePerSecond) * seconds));
      }
      const score = cap >= floor ? randomInt(floor, cap) : floor;
      showMessage(result, `Submitting ${formatScore(score)}…`, 'info');
      const answer = await api('/api/scores/submit', {
        method: 'POST',
        body: { gameId, score, runId: uuid(), sessionToken: run.token },
      });
      const standing = answer.standing;
      if (answer.applied) {
        showMessage(result, `Submitted ${formatScore(score)}`
          + (standing ? `: you are #${standing.globalRank} of ${formatCount(standing.globalTotal)}.` : '.'), 'ok');
      } else {
        const best = standing && standing.entry ? ` of ${formatScore(standing.entry.score)}` : '';
        showMessage(result, `Submitted ${formatScore(score)}: it does not beat your best${best}, so the board is unchanged.`, 'info');
      }
    }
  } catch (error) {
    showMessage(result, describeError(error), 'error');
    if (error.code === 'TOKEN_EXPIRED' || error.code === 'UNAUTHORIZED') openAuthDialog('signin', describeError(error));
  } finally {
    button.disabled = false;
  }
}

// MARK: Start

function renderGame() {
  document.title = `${game.name} · Podium`;
  $('game-name').textContent = game.name;
  const facts = [
    game.sortOrder === 'asc' ? 'Lower is better' : 'Higher is better',
    { best: 'Best score counts', incr: 'Points add up', set: 'Latest score counts' }[game.operator] || game.operator,
    game.minScore != null ? `Min ${formatScore(game.minScore)}` : null,
    game.maxScore != null ? `Max ${formatScore(game.maxScore)}` : null,
    game.minRunMilliseconds ? `Runs of ${formatSeconds(game.minRunMilliseconds)} or more` : null,
    `Top ${game.topN} live`,
  ].filter(Boolean);
  $('game-facts').replaceChildren(...facts.map((fact) => h('li', { class: 'chip' }, fact)));
  renderPeriods();
}

function onUserChanged(next) {
  const before = user ? user.userId : null;
  user = next;
  renderLocalTools();
  renderPersonalPanel();
  const countryChanged = boards.local.state && boards.local.state.countryCode && boards.local.state.countryCode !== localCountry();
  if (countryChanged) resetBoard('local');
  for (const scope of ['global', 'local']) {
    for (const row of boards[scope].rows.values()) row.classList.toggle('me', Boolean(user && row.dataset.userId === user.userId));
  }
  if ((user ? user.userId : null) !== before) {
    boards.personal = { state: null };
    live.forgetScope('personal');
    subscribe();
    live.connect();
  }
}

async function main() {
  setupTabs();
  $('retry-now').addEventListener('click', () => live.reconnectNow());
  $('submit-test-score').addEventListener('click', submitTestScore);
  if (!gameId) {
    $('game-name').textContent = 'No game';
    showMessage($('page-error'), 'No game was named in the address.', 'error');
    return;
  }
  user = await initAccount();
  onAccountChange(onUserChanged);
  renderLocalTools();
  renderPersonalPanel();
  subscribe();
  live.connect();

  try {
    const [config, loaded] = await Promise.all([getConfig(), api(`/api/games/${encodeURIComponent(gameId)}`)]);
    game = loaded;
    renderGame();
    if (!config.production) {
      $('test-score-area').hidden = false;
      describeTestScore();
    }
  } catch (error) {
    if (error.code === 'GAME_NOT_FOUND' || error.status === 404) {
      live.stop();
      $('game-name').textContent = 'Game not found';
      showMessage($('page-error'), `There is no game “${gameId}”.`, 'error');
      renderLiveStatus('offline');
      $('retry-now').hidden = true;
    } else {
      showMessage($('page-error'), describeError(error), 'error');
    }
  }
}

main();
