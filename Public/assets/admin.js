// The admin console, /admin: games, announcements, moderation and flagged submissions.
// Every call needs the admin role; the server checks it, this page only hides itself.

import { api, describeError } from './api.js';
import { initAccount, onAccountChange, openAuthDialog } from './account.js';
import { h, formatScore, formatCount, formatTime, formatRelative, countryLabel, showMessage } from './ui.js';

const $ = (id) => document.getElementById(id);

let games = [];
let editingGameId = null;
/** The schedules the game form offers beside all-time (custom ones are kept as they are). */
const STANDARD_PERIODS = ['daily', 'weekly', 'monthly'];
let editingAnnouncementId = null;

// MARK: Access

function renderAccess(user) {
  const isAdmin = Boolean(user && user.role === 'admin');
  $('admin-gate').hidden = isAdmin;
  $('admin-content').hidden = !isAdmin;
  if (!user) {
    $('gate-text').textContent = 'Sign in with an account that has the admin role.';
  } else if (!isAdmin) {
    $('gate-text').textContent = `${user.displayName} (${user.username}) does not have the admin role.`;
  }
  for (const id of ['gate-sign-in', 'gate-register']) $(id).hidden = Boolean(user);
  if (isAdmin) loadAll();
}

function loadAll() {
  loadGames();
  loadAnnouncements();
  loadFlags();
}

/** Runs an admin call, showing its failure in `messageElement`. Returns undefined on failure. */
async function attempt(messageElement, work) {
  try {
    return await work();
  } catch (error) {
    showMessage(messageElement, describeError(error), 'error');
    if (error.code === 'TOKEN_EXPIRED' || error.code === 'UNAUTHORIZED') openAuthDialog('signin', describeError(error));
    return undefined;
  }
}

// MARK: Games

async function loadGames() {
  const answer = await attempt($('game-message'), () => api('/api/games'));
  if (!answer) return;
  games = answer.games;
  $('admin-games').replaceChildren(...games.map((game) => h('tr', { dataset: { gameId: game.id } },
    h('td', {}, h('a', { href: `/games/${encodeURIComponent(game.id)}` }, game.name), h('div', { class: 'muted small mono' }, game.id)),
    h('td', { class: 'hide-narrow small' }, `${game.operator}, ${game.sortOrder}, top ${game.topN}`
      + (game.maxScore != null ? `, max ${formatScore(game.maxScore)}` : '')
      + (game.maxScorePerSecond != null ? `, ${formatScore(game.maxScorePerSecond)}/s` : '')
      + (game.minScore != null ? `, min ${formatScore(game.minScore)}` : '')
      + (game.minRunMilliseconds != null ? `, runs ≥ ${formatScore(game.minRunMilliseconds)} ms` : '')
      + (game.actions && game.actions.length ? `, ${game.actions.length} actions` : '')
      + periodSummary(game.periods)),
    h('td', { class: 'num' }, formatCount(game.players)),
    h('td', {}, h('button', { type: 'button', class: 'small', 'aria-label': `Edit ${game.name}`, onclick: () => editGame(game) }, 'Edit')),
  )));
  const select = $('moderation-game');
  const chosen = select.value;
  select.replaceChildren(...games.map((game) => h('option', { value: game.id }, game.name)));
  if (chosen && games.some((g) => g.id === chosen)) select.value = chosen;
}

function actionRow(action = {}) {
  const index = actionRow.counter = (actionRow.counter || 0) + 1;
  const id = (name) => `action-${index}-${name}`;
  const row = h('div', { class: 'action-row' },
    h('div', { class: 'field' }, h('label', { for: id('id') }, 'Action id'),
      h('input', { id: id('id'), class: 'action-id', value: action.id || '', required: true, pattern: '[a-z0-9\\-]{1,64}', autocomplete: 'off' })),
    h('div', { class: 'field' }, h('label', { for: id('name') }, 'Name'),
      h('input', { id: id('name'), class: 'action-name', value: action.name || '', autocomplete: 'off' })),
    h('div', { class: 'field' }, h('label', { for: id('points') }, 'Points'),
      h('input', { id: id('points'), class: 'action-points', type: 'number', min: 1, value: action.points != null ? String(action.points) : '10', required: true })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', class: 'action-repeatable', checked: action.repeatable !== false }), 'Repeatable'),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', class: 'action-requires-run', checked: Boolean(action.requiresRun) }), 'Needs a run'),
  );
  row.append(h('button', { type: 'button', class: 'small danger', onclick: () => row.remove() }, 'Remove action'));
  return row;
}

function syncActionsVisibility() {
  $('game-actions').hidden = $('game-operator').value !== 'incr';
}

/** `, daily and weekly boards` for a game's schedules beside all-time ('' when none). */
function periodSummary(periods) {
  const names = (periods || []).filter((period) => period !== 'all-time').map((period) => (typeof period === 'string' ? period : period.name));
  if (!names.length) return '';
  return `, ${names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0]} boards`;
}

function resetGameForm() {
  editingGameId = null;
  const form = $('game-form');
  form.reset();
  $('game-id').readOnly = false;
  $('action-rows').replaceChildren();
  $('game-form-title').textContent = 'New game';
  $('game-submit').textContent = 'Create game';
  $('game-cancel').hidden = true;
  syncActionsVisibility();
}

function editGame(game) {
  editingGameId = game.id;
  $('game-id').value = game.id;
  $('game-id').readOnly = true;
  $('game-name').value = game.name;
  $('game-sort').value = game.sortOrder;
  $('game-operator').value = game.operator;
  $('game-topn').value = String(game.topN);
  $('game-max-score').value = game.maxScore != null ? String(game.maxScore) : '';
  $('game-max-per-second').value = game.maxScorePerSecond != null ? String(game.maxScorePerSecond) : '';
  $('game-min-score').value = game.minScore != null ? String(game.minScore) : '';
  $('game-min-run').value = game.minRunMilliseconds != null ? String(game.minRunMilliseconds) : '';
  $('action-rows').replaceChildren(...(game.actions || []).map(actionRow));
  for (const name of STANDARD_PERIODS) $(`game-period-${name}`).checked = (game.periods || []).includes(name);
  $('game-keep-archives').value = String(game.keepArchives ?? 7);
  $('game-form-title').textContent = `Edit ${game.name}`;
  $('game-submit').textContent = 'Save changes';
  $('game-cancel').hidden = false;
  showMessage($('game-message'), '');
  syncActionsVisibility();
  $('game-name').focus();
}

/** An optional integer field: '' → undefined; exact beyond 2^53 (BigInt). */
function integerField(input, label) {
  const text = input.value.trim();
  if (text === '') return undefined;
  if (!/^\d+$/.test(text)) throw new Error(`${label} must be a whole number.`);
  const big = BigInt(text);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function gameFromForm() {
  const form = $('game-form');
  const invalid = [...form.elements].find((input) => input.willValidate && !input.checkValidity() && !input.closest('[hidden]'));
  if (invalid) {
    invalid.focus();
    const label = form.querySelector(`label[for="${invalid.id}"]`);
    throw new Error(`${label ? label.firstChild.textContent.trim() : invalid.name}: ${invalid.validationMessage}`);
  }
  const game = {
    id: $('game-id').value.trim(),
    name: $('game-name').value.trim(),
    sortOrder: $('game-sort').value,
    operator: $('game-operator').value,
    topN: Number($('game-topn').value),
    actions: [],
  };
  // A save replaces the whole definition: custom schedules, which the form does not show,
  // go back as they were, or the game would lose their boards.
  const edited = editingGameId && games.find((known) => known.id === editingGameId);
  const custom = ((edited && edited.periods) || []).filter((period) => typeof period !== 'string');
  game.periods = ['all-time', ...STANDARD_PERIODS.filter((name) => $(`game-period-${name}`).checked), ...custom];
  game.keepArchives = Number($('game-keep-archives').value);
  const maxScore = integerField($('game-max-score'), 'Max score');
  if (maxScore !== undefined) game.maxScore = maxScore;
  const maxPerSecond = integerField($('game-max-per-second'), 'Max score per second');
  if (maxPerSecond !== undefined) game.maxScorePerSecond = maxPerSecond;
  const minScore = integerField($('game-min-score'), 'Min score');
  if (minScore !== undefined) game.minScore = minScore;
  const minRun = integerField($('game-min-run'), 'Shortest run');
  if (minRun !== undefined) game.minRunMilliseconds = minRun;
  if (game.operator === 'incr') {
    for (const row of $('action-rows').querySelectorAll('.action-row')) {
      const action = {
        id: row.querySelector('.action-id').value.trim(),
        points: Number(row.querySelector('.action-points').value),
        repeatable: row.querySelector('.action-repeatable').checked,
        requiresRun: row.querySelector('.action-requires-run').checked,
      };
      const name = row.querySelector('.action-name').value.trim();
      if (name) action.name = name;
      game.actions.push(action);
    }
  }
  return game;
}

async function submitGame(event) {
  event.preventDefault();
  const message = $('game-message');
  let game;
  try {
    game = gameFromForm();
  } catch (error) {
    showMessage(message, error.message, 'error');
    return;
  }
  const button = $('game-submit');
  button.disabled = true;
  const editing = editingGameId;
  const saved = await attempt(message, () => (editing
    ? api(`/api/admin/games/${encodeURIComponent(editing)}`, { method: 'PUT', body: game })
    : api('/api/admin/games', { method: 'POST', body: game })));
  button.disabled = false;
  if (!saved) return;
  resetGameForm();
  showMessage(message, editing ? `Saved ${saved.name || game.name}.` : `Created ${saved.name || game.name} (${saved.id || game.id}).`, 'ok');
  loadGames();
}

// MARK: Announcements

async function loadAnnouncements() {
  const answer = await attempt($('announcement-message'), () => api('/api/announcements'));
  if (!answer) return;
  const list = answer.announcements;
  $('admin-announcements').replaceChildren(...(list.length ? list.map((a) => h('li', { class: 'announcement', dataset: { announcementId: a.id } },
    h('h3', {}, a.title),
    h('p', { class: 'muted small' }, h('time', { datetime: a.createdAt, title: formatTime(a.createdAt) }, formatRelative(a.createdAt)),
      a.updatedAt && a.updatedAt !== a.createdAt ? ' · edited' : ''),
    a.body ? h('p', { class: 'body' }, a.body) : null,
    h('div', { class: 'actions-row' },
      h('button', { type: 'button', class: 'small', 'aria-label': `Edit “${a.title}”`, onclick: () => editAnnouncement(a) }, 'Edit'),
      h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete “${a.title}”`, onclick: () => deleteAnnouncement(a) }, 'Delete')),
  )) : [h('li', { class: 'muted' }, 'No announcements.')]));
}

function resetAnnouncementForm() {
  editingAnnouncementId = null;
  $('announcement-form').reset();
  $('announcement-form-title').textContent = 'New announcement';
  $('announcement-submit').textContent = 'Publish';
  $('announcement-cancel').hidden = true;
}

function editAnnouncement(announcement) {
  editingAnnouncementId = announcement.id;
  $('announcement-title').value = announcement.title;
  $('announcement-body').value = announcement.body || '';
  $('announcement-form-title').textContent = 'Edit announcement';
  $('announcement-submit').textContent = 'Save changes';
  $('announcement-cancel').hidden = false;
  showMessage($('announcement-message'), '');
  $('announcement-title').focus();
}

async function submitAnnouncement(event) {
  event.preventDefault();
  const message = $('announcement-message');
  const body = { title: $('announcement-title').value.trim(), body: $('announcement-body').value };
  if (!body.title) {
    showMessage(message, 'Title: please fill in a title.', 'error');
    $('announcement-title').focus();
    return;
  }
  const button = $('announcement-submit');
  button.disabled = true;
  const editing = editingAnnouncementId;
  const saved = await attempt(message, () => (editing
    ? api(`/api/admin/announcements/${encodeURIComponent(editing)}`, { method: 'PUT', body })
    : api('/api/admin/announcements', { method: 'POST', body })));
  button.disabled = false;
  if (!saved) return;
  resetAnnouncementForm();
  showMessage(message, editing ? 'Announcement saved.' : 'Announcement published.', 'ok');
  loadAnnouncements();
}

async function deleteAnnouncement(announcement) {
  if (!window.confirm(`Delete the announcement “${announcement.title}”?`)) return;
  const message = $('announcement-message');
  const done = await attempt(message, async () => {
    await api(`/api/admin/announcements/${encodeURIComponent(announcement.id)}`, { method: 'DELETE' });
    return true;
  });
  if (!done) return;
  if (editingAnnouncementId === announcement.id) resetAnnouncementForm();
  showMessage(message, `Deleted “${announcement.title}”.`, 'ok');
  loadAnnouncements();
}

// MARK: Moderation

async function loadModerationBoard(event) {
  if (event) event.preventDefault();
  const gameId = $('moderation-game').value;
  if (!gameId) return;
  const message = $('moderation-message');
  const state = await attempt(message, () => api(`/api/leaderboards/${encodeURIComponent(gameId)}?scope=global&limit=100`));
  if (!state) return;
  const rows = $('moderation-rows');
  if (!state.entries.length) {
    rows.replaceChildren(h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No players on this board.')));
    return;
  }
  rows.replaceChildren(...state.entries.map((entry) => h('tr', { dataset: { userId: entry.userId } },
    h('td', { class: 'rank' }, `#${entry.rank}`),
    h('td', {}, entry.displayName, ' ', countryLabel(entry.countryCode)),
    h('td', { class: 'num' }, formatScore(entry.score)),
    h('td', { class: 'hide-narrow mono small' }, entry.userId),
    h('td', {}, h('div', { class: 'actions-row' },
      h('button', { type: 'button', class: 'small danger', 'aria-label': `Remove ${entry.displayName}'s entry`, onclick: () => removeEntry(gameId, entry.userId, entry.displayName) }, 'Remove'),
      h('button', { type: 'button', class: 'small danger', 'aria-label': `Ban ${entry.displayName}`, onclick: () => banPlayer(entry.userId, entry.displayName) }, 'Ban'))),
  )));
  if (state.nextCursor) {
    rows.append(h('tr', {}, h('td', { colspan: 5, class: 'muted small' }, `Showing the top ${state.entries.length} of ${formatCount(state.total)}; use the user id form below for others.`)));
  }
}

async function removeEntry(gameId, userId, name = userId) {
  if (!window.confirm(`Remove ${name}'s entry from ${gameId}?`)) return;
  const message = $('moderation-message');
  const done = await attempt(message, () => api(`/api/admin/players/${encodeURIComponent(gameId)}/${encodeURIComponent(userId)}`, { method: 'DELETE' }));
  if (done === undefined) return;
  showMessage(message, `Removed ${name}'s entry from ${gameId}.`, 'ok');
  loadModerationBoard();
  loadGames();
}

async function banPlayer(userId, name = userId) {
  if (!window.confirm(`Ban ${name}? They leave every board and cannot submit again.`)) return;
  const message = $('moderation-message');
  const done = await attempt(message, () => api(`/api/admin/users/${encodeURIComponent(userId)}/ban`, { method: 'POST' }));
  if (done === undefined) return;
  showMessage(message, `Banned ${name}.`, 'ok');
  loadModerationBoard();
  loadGames();
}

function manualTarget() {
  const userId = $('moderation-user').value.trim();
  if (!userId) {
    showMessage($('moderation-message'), 'User id: enter the id of a player.', 'error');
    $('moderation-user').focus();
  }
  return userId;
}

// MARK: Flags

async function loadFlags() {
  const message = $('flags-message');
  const answer = await attempt(message, () => api('/api/admin/flags'));
  if (!answer) {
    $('flag-rows').replaceChildren(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'Flags could not be loaded.')));
    return;
  }
  showMessage(message, '');
  const flags = answer.flags;
  $('flag-rows').replaceChildren(...(flags.length ? flags.map((flag) => h('tr', {},
    h('td', { class: 'small' }, h('time', { datetime: flag.flaggedAt, title: formatTime(flag.flaggedAt) }, formatRelative(flag.flaggedAt))),
    h('td', {}, flag.gameId),
    h('td', { class: 'hide-narrow mono small' }, flag.userId),
    h('td', { class: 'num' }, formatScore(flag.score)),
    h('td', { class: 'small' }, flag.reason),
    h('td', {}, h('div', { class: 'actions-row' },
      h('button', { type: 'button', class: 'small danger', 'aria-label': `Remove ${flag.userId}'s entry from ${flag.gameId}`, onclick: () => removeEntry(flag.gameId, flag.userId) }, 'Remove'),
      h('button', { type: 'button', class: 'small danger', 'aria-label': `Ban ${flag.userId}`, onclick: () => banPlayer(flag.userId) }, 'Ban'))),
  )) : [h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No flagged submissions.'))]));
}

// MARK: Start

function main() {
  $('gate-sign-in').addEventListener('click', () => openAuthDialog('signin', 'Sign in with an admin account.'));
  $('gate-register').addEventListener('click', () => openAuthDialog('register'));
  $('game-form').addEventListener('submit', submitGame);
  $('game-operator').addEventListener('change', syncActionsVisibility);
  $('add-action').addEventListener('click', () => {
    const row = actionRow();
    $('action-rows').append(row);
    row.querySelector('input').focus();
  });
  $('game-cancel').addEventListener('click', () => { resetGameForm(); showMessage($('game-message'), ''); });
  $('announcement-form').addEventListener('submit', submitAnnouncement);
  $('announcement-cancel').addEventListener('click', () => { resetAnnouncementForm(); showMessage($('announcement-message'), ''); });
  $('moderation-form').addEventListener('submit', loadModerationBoard);
  $('moderation-game').addEventListener('change', () => loadModerationBoard());
  $('moderation-remove').addEventListener('click', () => {
    const userId = manualTarget();
    if (userId) removeEntry($('moderation-game').value, userId);
  });
  $('moderation-ban').addEventListener('click', () => {
    const userId = manualTarget();
    if (userId) banPlayer(userId);
  });
  $('flags-refresh').addEventListener('click', loadFlags);
  syncActionsVisibility();
  onAccountChange(renderAccess);
  initAccount().then(renderAccess);
}

main();
