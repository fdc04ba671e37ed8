// Small DOM and formatting helpers shared by the pages.

/** Creates an element: h('td', {class: 'num', dataset: {x: 1}}, 'text', childNode). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

const numberFormat = new Intl.NumberFormat();
export function formatScore(score) {
  if (typeof score === 'bigint' || typeof score === 'number') return numberFormat.format(score);
  return String(score ?? '');
}

/** Milliseconds as seconds: 3000 → "3 s", 1500 → "1.5 s". */
export function formatSeconds(milliseconds) {
  return `${new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 }).format(Number(milliseconds) / 1000)} s`;
}

export function formatCount(n) {
  return numberFormat.format(n ?? 0);
}

export function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatRelative(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}

/** The assigned ISO 3166-1 alpha-2 codes. */
export const COUNTRY_CODES = (
  'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ '
  + 'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR '
  + 'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO '
  + 'JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR '
  + 'MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO '
  + 'RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV '
  + 'TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'
).split(' ');

let regionNames;
export function countryName(code) {
  if (!code) return '';
  try {
    regionNames ??= new Intl.DisplayNames(undefined, { type: 'region' });
    return regionNames.of(code) || code;
  } catch {
    return code;
  }
}

/** The flag emoji of a country code (regional indicator letters). */
export function flag(code) {
  if (!code || !/^[A-Z]{2}$/.test(code)) return '';
  return String.fromCodePoint(...[...code].map((c) => 0x1f1e6 + c.charCodeAt(0) - 65));
}

/** A `<select>` of every country, sorted by name, with `selected` chosen. */
export function countrySelect(attributes, selected = 'GB') {
  const select = h('select', attributes);
  const options = COUNTRY_CODES.map((code) => ({ code, name: countryName(code) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const { code, name } of options) {
    select.append(h('option', { value: code, selected: code === selected }, `${name} (${code})`));
  }
  return select;
}

/** The country cell content: flag and code, with the name for screen readers. */
export function countryLabel(code) {
  if (!code) return h('span', { class: 'muted' }, '—');
  return h('span', { title: countryName(code) },
    h('span', { class: 'flag', 'aria-hidden': 'true' }, flag(code)),
    h('span', { 'aria-hidden': 'true' }, code),
    h('span', { class: 'visually-hidden' }, countryName(code)));
}

/** Shows `text` in a message element (class ok, error or info); empty text hides it. */
export function showMessage(element, text, kind = 'info') {
  if (!element) return;
  element.className = `message ${kind}`;
  element.textContent = text || '';
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
