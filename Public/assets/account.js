// The account area of the header: who is signed in, and the sign-in / register dialog.

import { api, session, describeError } from './api.js';
import { h, countrySelect, showMessage, flag } from './ui.js';

let user = null;
const listeners = new Set();
let dialog;

export function currentUser() {
  return user;
}

/** Calls `listener(user)` whenever someone signs in or out. */
export function onAccountChange(listener) {
  listeners.add(listener);
}

function setUser(next) {
  user = next;
  renderAccount();
  for (const listener of listeners) listener(user);
}

/** Loads the signed-in user (if a token is kept) and renders the header's account area. */
export async function initAccount() {
  window.addEventListener('podium:signed-out', (event) => {
    const reason = event.detail && event.detail.reason;
    if (reason === 'expired') {
      showMessage(document.getElementById('session-banner'), 'Your sign-in has expired. Please sign in again.', 'error');
    } else if (reason === 'invalid') {
      showMessage(document.getElementById('session-banner'), 'Your sign-in is no longer accepted by the server. Please sign in again.', 'error');
    }
    if (user) setUser(null);
  });
  window.addEventListener('storage', (event) => {
    if (event.key === 'podium.accessToken') refreshUser();
  });
  await refreshUser();
  return user;
}

async function refreshUser() {
  if (!session.token) {
    if (user) setUser(null); else renderAccount();
    return;
  }
  try {
    setUser(await api('/api/me'));
  } catch (error) {
    if (error.code === 'OFFLINE') {
      // Keep the token: the server may come back. Render as signed out meanwhile.
      renderAccount();
      showMessage(document.getElementById('session-banner'), describeError(error), 'error');
    } else {
      session.clear('invalid');
      setUser(null);
    }
  }
}

function renderAccount() {
  const area = document.getElementById('account');
  if (!area) return;
  area.replaceChildren();
  if (user) {
    area.append(
      h('span', { class: 'who', id: 'signed-in-as' }, 'Signed in as ', h('strong', {}, user.displayName),
        user.countryCode ? h('span', { 'aria-hidden': 'true' }, ` ${flag(user.countryCode)}`) : null,
        user.role === 'admin' ? ' (admin)' : null),
      h('button', { type: 'button', class: 'small', id: 'sign-out', onclick: signOut }, 'Sign out'),
    );
  } else {
    area.append(
      h('button', { type: 'button', class: 'small', id: 'open-sign-in', onclick: () => openAuthDialog('signin') }, 'Sign in'),
      h('button', { type: 'button', class: 'small primary', id: 'open-register', onclick: () => openAuthDialog('register') }, 'Register'),
    );
  }
}

function signOut() {
  session.clear('signed-out');
  setUser(null);
}

/** Opens the sign-in (or register) dialog; `note` explains why, e.g. "Sign in to submit a score." */
export function openAuthDialog(mode = 'signin', note = '') {
  dialog ??= buildDialog();
  dialog.setMode(mode);
  showMessage(dialog.querySelector('#auth-note'), note, 'info');
  showMessage(dialog.querySelector('#auth-error'), '');
  if (!dialog.open) dialog.showModal();
  dialog.querySelector(mode === 'register' ? '#register-username' : '#signin-username').focus();
}

function buildDialog() {
  const title = h('h2', { id: 'auth-title' }, 'Sign in');
  const errorBox = h('p', { id: 'auth-error', class: 'message', role: 'alert' });
  const note = h('p', { id: 'auth-note', class: 'message' });

  const signInForm = h('form', { id: 'sign-in-form', novalidate: true },
    field('signin-username', 'Username', h('input', { id: 'signin-username', name: 'username', autocomplete: 'username', required: true })),
    field('signin-password', 'Password', h('input', { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('div', { class: 'actions-row' },
      h('button', { type: 'submit', class: 'primary', id: 'sign-in-submit' }, 'Sign in'),
      h('button', { type: 'button', class: 'link', onclick: () => element.setMode('register') }, 'Create an account')),
  );

  const registerForm = h('form', { id: 'register-form', novalidate: true, hidden: true },
    field('register-username', 'Username', h('input', { id: 'register-username', name: 'username', autocomplete: 'username', required: true, minlength: 3, maxlength: 32, pattern: '[A-Za-z0-9_.\\-]{3,32}' }),
      '3–32 letters, digits, dots, dashes or underscores'),
    field('register-password', 'Password', h('input', { id: 'register-password', name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 128 }),
      'At least 8 characters'),
    field('register-display-name', 'Display name', h('input', { id: 'register-display-name', name: 'displayName', autocomplete: 'nickname', required: true, maxlength: 64 }),
      'Shown on the leaderboards'),
    field('register-country', 'Country', countrySelect({ id: 'register-country', name: 'countryCode' }, guessCountry())),
    h('div', { class: 'actions-row' },
      h('button', { type: 'submit', class: 'primary', id: 'register-submit' }, 'Create account'),
      h('button', { type: 'button', class: 'link', onclick: () => element.setMode('signin') }, 'I have an account')),
  );

  const element = h('dialog', { id: 'auth-dialog', 'aria-labelledby': 'auth-title' },
    h('div', { class: 'dialog-body' },
      h('div', { class: 'dialog-head' }, title,
        h('button', { type: 'button', class: 'small', 'aria-label': 'Close', onclick: () => element.close() }, '✕')),
      note, errorBox, signInForm, registerForm));

  element.setMode = (mode) => {
    const register = mode === 'register';
    registerForm.hidden = !register;
    signInForm.hidden = register;
    title.textContent = register ? 'Create an account' : 'Sign in';
    showMessage(errorBox, '');
  };

  async function submit(event, path, body, button) {
    event.preventDefault();
    showMessage(errorBox, '');
    const form = event.currentTarget;
    const invalid = [...form.elements].find((input) => input.willValidate && !input.checkValidity());
    if (invalid) {
      const label = form.querySelector(`label[for="${invalid.id}"]`);
      showMessage(errorBox, `${label ? label.firstChild.textContent : invalid.name}: ${invalid.validationMessage}`, 'error');
      invalid.focus();
      return;
    }
    button.disabled = true;
    try {
      const answer = await api(path, { method: 'POST', body });
      session.store(answer.accessToken, answer.expiresIn);
      showMessage(document.getElementById('session-banner'), '');
      setUser(await api('/api/me'));
      element.close();
      form.reset();
    } catch (error) {
      showMessage(errorBox, describeError(error), 'error');
    } finally {
      button.disabled = false;
    }
  }

  signInForm.addEventListener('submit', (event) => submit(event, '/api/auth/login', {
    username: signInForm.username.value.trim(),
    password: signInForm.password.value,
  }, signInForm.querySelector('button[type=submit]')));

  registerForm.addEventListener('submit', (event) => submit(event, '/api/auth/register', {
    username: registerForm.username.value.trim(),
    password: registerForm.password.value,
    displayName: registerForm.displayName.value.trim(),
    countryCode: registerForm.countryCode.value,
  }, registerForm.querySelector('button[type=submit]')));

  document.body.append(element);
  return element;
}

function field(id, text, input, hint) {
  return h('div', { class: 'field' },
    h('label', { for: id }, text, hint ? h('span', { class: 'hint' }, ` — ${hint}`) : null),
    input);
}

/** The visitor's country from the browser's language (en-GB → GB), else GB. */
export function guessCountry() {
  for (const language of navigator.languages || [navigator.language]) {
    const match = /-([A-Z]{2})$/i.exec(language || '');
    if (match) return match[1].toUpperCase();
  }
  return 'GB';
}
