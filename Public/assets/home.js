// The home page, /: every game with its current leader, and the announcements.

import { api, describeError } from './api.js';
import { initAccount } from './account.js';
import { h, formatScore, formatCount, formatTime, formatRelative, countryLabel, showMessage } from './ui.js';

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 15000;

function gameCard(game) {
  const leader = game.leader;
  return h('li', { class: 'card game-card', dataset: { gameId: game.id } },
    h('h3', {}, h('a', { href: `/games/${encodeURIComponent(game.id)}` }, game.name)),
    h('ul', { class: 'chips', 'aria-label': 'Rules' },
      h('li', { class: 'chip' }, game.sortOrder === 'asc' ? 'Lower is better' : 'Higher is better'),
      h('li', { class: 'chip' }, { best: 'Best score', incr: 'Points add up', set: 'Latest score' }[game.operator] || game.operator),
      h('li', { class: 'chip' }, `${formatCount(game.players)} ${game.players === 1 ? 'player' : 'players'}`)),
    leader
      ? h('p', { class: 'leader' },
        h('span', { class: 'muted small' }, 'Leader: '),
        h('strong', { class: 'leader-name' }, leader.displayName), ' ',
        countryLabel(leader.countryCode), ' · ',
        h('span', { class: 'leader-score' }, formatScore(leader.score)))
      : h('p', { class: 'leader muted' }, 'No scores yet.'),
  );
}

function announcementItem(announcement) {
  const edited = announcement.updatedAt && announcement.updatedAt !== announcement.createdAt;
  return h('li', { class: 'announcement', dataset: { announcementId: announcement.id } },
    h('h3', {}, announcement.title),
    h('p', { class: 'muted small' },
      h('time', { datetime: announcement.createdAt, title: formatTime(announcement.createdAt) }, formatRelative(announcement.createdAt)),
      edited ? ' · edited' : ''),
    announcement.body ? h('p', { class: 'body' }, announcement.body) : null);
}

async function load() {
  const [games, announcements] = await Promise.allSettled([api('/api/games'), api('/api/announcements')]);
  const errors = [];
  if (games.status === 'fulfilled') {
    const list = games.value.games;
    $('games').replaceChildren(...(list.length ? list.map(gameCard) : [h('li', { class: 'card muted' }, 'No games yet.')]));
    $('games').removeAttribute('aria-busy');
  } else errors.push(games.reason);
  if (announcements.status === 'fulfilled') {
    const list = announcements.value.announcements;
    $('announcements').replaceChildren(...(list.length ? list.map(announcementItem) : [h('li', { class: 'muted' }, 'No announcements.')]));
    $('announcements').removeAttribute('aria-busy');
  } else errors.push(announcements.reason);
  showMessage($('page-error'), errors.length ? describeError(errors[0]) : '', 'error');
}

initAccount();
load();
setInterval(() => { if (document.visibilityState === 'visible') load(); }, REFRESH_MS);
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') load(); });
