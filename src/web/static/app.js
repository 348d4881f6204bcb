// app.js -- the review page: index of pairs, pair view, item view, keys.
//
// One page, four routes (served by the same HTML so deep links and reload
// work): "/" the index, "/pair/ID" a pair, "/item/REPO/KEY" an item,
// "/apply" the Apply view (the queue's plan for GitHub, one confirm). The
// index's filters live in the query string and travel with every pair URL,
// so next/previous follow the filter and reload keeps the place. Each
// history entry remembers its scroll positions, so Back returns to them.
//
// Keys act in the order they were pressed: a key that loads something (the
// next pair, another index page, a verdict) holds the keys after it until
// its page is on screen (see "key queue").
//
// Safety: every string from the store is inserted as text (textContent),
// except item bodies, which the server rendered with cmark-gfm in safe mode.
// The CSP forbids inline script and style, so colours are set through CSS
// classes in a constructed stylesheet, never through style attributes.
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const FILTER_KEYS = ['relation', 'confidence', 'qstate', 'cstate', 'reviewed', 'label', 'text',
                     'sort', 'repo', 'known'];
const PAGE = 100;
const API_TIMEOUT_MS = 20000;
const VERDICT_NAMES = { duplicate: 'duplicate', related: 'related', not_related: 'not related' };
const narrow = window.matchMedia('(max-width: 899px)');

const state = {
  view: null,            // 'index' | 'pair' | 'item' | 'apply'
  filterQs: '',          // the index filter, canonical query string without offset
  offset: 0,
  after: '',             // keyset cursor of this page (the API's "next" of the one before); '' = by offset
  before: '',            // or the API's "prev" of the page after it
  next: '',              // the API's cursor of the page after this one
  prev: '',              // and of the page before it
  rows: [],              // pairs on the current index page
  sel: 0,                // selected row on the index
  lastPairId: 0,         // to select it again when returning to the index
  pair: null,            // the pair shown (API response); null while none is
  pane: 'q',
  reasoning: false,
  cache: new Map(),      // cache key -> { data, stale } or { promise }
  undo: [],              // verdicts made here: { id, old }
  gPending: false,       // `g` pressed: the next key is its second half
  indexSeq: 0,
  pairSeq: 0,
  routed: Promise.resolve(),   // settles when the latest route is on screen
};

// ---- helpers ---------------------------------------------------------------

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

async function api(path, opts = {}) {
  const res = await fetch(path, {
    credentials: 'same-origin',
    signal: AbortSignal.timeout(API_TIMEOUT_MS),   // a stuck request must not hold the keys forever
    ...opts,
    headers: { Accept: 'application/json', ...(opts.headers || {}) },
  });
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const err = new Error((body && body.error) || res.statusText || 'request failed');
    err.status = res.status;
    throw err;
  }
  return body;
}

function canonicalFilter(params) {
  const out = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const v = params.get(k);
    if (v) out.set(k, v);
  }
  return out.toString();
}

function withQs(path, qs, extra) {
  const p = new URLSearchParams(qs);
  for (const [k, v] of Object.entries(extra || {})) if (v) p.set(k, v); else p.delete(k);
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

const pairUrl = (id) => withQs(`/pair/${id}`, state.filterQs);
// The page's place: its offset (numbers the rows) and, past the first page,
// the cursor it was reached by.
const pagePlace = () => ({ offset: state.offset || '', after: state.offset ? state.after : '',
                           before: state.offset && !state.after ? state.before : '' });
const indexUrl = () => withQs('/', state.filterQs, pagePlace());

function day(iso) { return iso ? iso.slice(0, 10) : '?'; }
function plural(n, word) { return `${n} ${word}${n === 1 ? '' : 's'}`; }
function cap(s) { return s ? s[0].toUpperCase() + s.slice(1) : ''; }
/* A relation as people read it: "duplicate", "related", "not related". */
function relName(r) { return r === 'not_related' ? 'not related' : (r || ''); }
// "Issue" / "Pull request": the word the header puts before a key.
function kindWord(it) { return it && it.kind ? cap(kindName(it)) : ''; }
// The kind token of the JSON ("issue", "pull_request") in words.
function kindName(it) { return it && it.kind ? it.kind.replace(/_/g, ' ') : ''; }

let toastTimer = 0;
function toast(msg) {
  const t = $('#toast');
  t.textContent = msg;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 1600);
}

// Tells screen readers what the keys just did (a polite live region; the
// same text twice in a row is still read, thanks to the alternating space).
let announceFlip = false;
function announce(msg) {
  announceFlip = !announceFlip;
  $('#announce').textContent = msg + (announceFlip ? '' : '\u00a0');
}

function showError(e) {
  const b = $('#error');
  if (!e) { b.hidden = true; b.textContent = ''; return; }
  b.textContent = e.status === 401
    ? 'This server wants a token: open the address with ?token=… once (see `doppel serve --help`).'
    : `Error: ${e.message}`;
  b.hidden = false;
}

// Label colours: one class per colour in a constructed stylesheet (CSSOM),
// because the CSP allows no style attributes.
const labelSheet = new CSSStyleSheet();
document.adoptedStyleSheets = [...document.adoptedStyleSheets, labelSheet];
const knownColors = new Set();
function colorClass(hex) {
  if (!hex || !/^[0-9a-fA-F]{6}$/.test(hex)) return '';
  hex = hex.toLowerCase();
  if (!knownColors.has(hex)) {
    knownColors.add(hex);
    const r = parseInt(hex.slice(0, 2), 16), g = parseInt(hex.slice(2, 4), 16), b = parseInt(hex.slice(4, 6), 16);
    const fg = (0.299 * r + 0.587 * g + 0.114 * b) > 150 ? '#1f2328' : '#ffffff';
    labelSheet.insertRule(`.lc-${hex}{background-color:#${hex};color:${fg};border-color:#${hex}}`);
  }
  return `lc-${hex}`;
}

// ---- routing and history -------------------------------------------------------

function setView(name) {
  state.view = name;
  for (const v of ['index', 'pair', 'item', 'apply']) $(`#view-${v}`).hidden = v !== name;
}

// Shows the page of the current URL; the promise settles once it is on screen.
function route() {
  const u = new URL(location.href);
  state.filterQs = canonicalFilter(u.searchParams);
  state.offset = Math.max(0, parseInt(u.searchParams.get('offset'), 10) || 0);
  state.after = u.searchParams.get('after') || '';
  state.before = state.after ? '' : u.searchParams.get('before') || '';
  state.entry = entryKey();
  state.restored = false;
  showError(null);
  let m, done;
  if ((m = u.pathname.match(/^\/pair\/(\d+)$/))) done = showPair(Number(m[1]));
  else if ((m = u.pathname.match(/^\/item\/(\d+)\/(.+)$/))) done = showItem(m[1], decodeURIComponent(m[2]));
  else if (u.pathname === '/apply') done = showApply(u.searchParams.get('repo'));
  else done = showIndex();
  state.routed = done;
  return done;
}

function go(url, replace) {
  if (!replace) saveScroll();
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
  return route();
}

// Scroll positions (and which comment lists are open) of the view on
// screen, per history entry: kept in memory as they change (an entry left
// by Back can no longer be written) and in the entry itself (for reload).
const scrollMemo = new Map();   // entry key -> positions
let entrySeq = 0;
let scrollTimer = 0;

function entryKey() {
  let k = history.state && history.state.key;
  if (!k) {
    k = `${Date.now().toString(36)}.${++entrySeq}`;
    history.replaceState({ ...(history.state || {}), key: k }, '');
  }
  return k;
}

function scrollers() {
  if (state.view === 'pair') return { q: $('#pane-q'), c: $('#pane-c') };
  if (state.view === 'item') return { i: $('#pane-i') };
  if (state.view === 'index') return { t: $('#view-index .table-wrap') };
  if (state.view === 'apply') return { a: $('#apply-body') };
  return {};
}

function capture() {
  const pos = { view: state.view };
  for (const [k, e] of Object.entries(scrollers())) {
    const det = $(':scope > .item > details.comments', e);
    pos[k] = { top: e.scrollTop, open: !!(det && det.open) };
  }
  return pos;
}

function saveScroll() {
  clearTimeout(scrollTimer);
  if (!state.view || !state.restored) return;
  const pos = capture();
  scrollMemo.set(state.entry, pos);
  if (scrollMemo.size > 200) scrollMemo.delete(scrollMemo.keys().next().value);
  if (history.state && history.state.key === state.entry) history.replaceState({ ...history.state, scroll: pos }, '');
}

// Scroll events: remembered at once, written to the entry when they pause.
function scrolled() {
  if (!state.restored) return;   // the view is still being put in place
  scrollMemo.set(state.entry, capture());
  clearTimeout(scrollTimer);
  scrollTimer = setTimeout(saveScroll, 250);
}

// Puts the view back where its history entry was left; at the top when the
// entry is new.
function restoreScroll() {
  const saved = scrollMemo.get(state.entry) || (history.state && history.state.scroll);
  const mine = saved && saved.view === state.view ? saved : null;
  for (const [k, e] of Object.entries(scrollers())) {
    const p = mine && mine[k];
    const det = $(':scope > .item > details.comments', e);
    if (det && p) det.open = !!p.open;
    e.scrollTop = p ? p.top : 0;
  }
  state.restored = true;
}

// ---- key queue ---------------------------------------------------------------

// Each press becomes one action, run one after the other; an action that
// returns a promise (a page to load) holds the next until it settles. So
// ten quick `j` visit ten pairs with one history entry each, and `j d`
// judges the pair `j` went to. Esc drops what is still waiting.
const KEY_QUEUE_MAX = 50;
const keyQueue = [];
let keysBusy = false;

function enqueue(fn) {
  if (keyQueue.length >= KEY_QUEUE_MAX) return;
  keyQueue.push(fn);
  if (!keysBusy) drainKeys();
}

async function drainKeys() {
  keysBusy = true;
  document.documentElement.dataset.keys = 'busy';
  while (keyQueue.length) {
    const fn = keyQueue.shift();
    try { await fn(); } catch (e) { /* each action reports its own failure */ }
  }
  keysBusy = false;
  document.documentElement.dataset.keys = 'idle';
}

// ---- index -------------------------------------------------------------------

function syncForm() {
  const p = new URLSearchParams(state.filterQs);
  for (const f of $('#filters').elements) if (f.name && document.activeElement !== f) f.value = p.get(f.name) || '';
}

async function showIndex() {
  setView('index');
  state.pair = null;
  document.title = 'doppel';
  refreshQueueCount();
  syncForm();
  const seq = ++state.indexSeq;
  try {
    // A page after the first is a keyset seek from the cursor of the page
    // before it or after it (the offset only numbers its rows); OFFSET
    // walks every pair before the page.
    const d = await api(withQs('/api/pairs', state.filterQs, { ...pagePlace(), limit: PAGE }));
    if (seq !== state.indexSeq) return;
    renderIndex(d);
    restoreScroll();
    announceRow();
  } catch (e) {
    if (seq === state.indexSeq) showError(e);
  }
}

function stateBadge(it) {
  if (!it || it.missing) return el('span', 'state missing', 'missing');
  const s = el('span', `state ${it.state === 'open' ? 'open' : 'closed'}`, it.state);
  if (it.state_reason) s.title = it.state_reason;
  return s;
}

function itemCell(it, withKind) {
  const td = el('td', 'item-cell');
  const cell = el('div', 'cell');
  cell.append(el('span', 'key', it.display), el('span', 'title', it.missing ? '(not in the store)' : it.title));
  if (withKind && it.kind) cell.append(el('span', 'kind', it.kind === 'pull_request' ? 'PR' : 'issue'));
  cell.append(stateBadge(it));
  td.append(cell);
  td.title = `${it.display} ${it.title || ''}`;
  return td;
}

function verdictCell(v) {
  const td = el('td', 'verdict-cell');
  if (v) td.append(el('span', `verdict-badge v-${v}`, VERDICT_NAMES[v] || v));
  return td;
}

function renderIndex(d) {
  state.rows = d.pairs;
  state.total = d.total;
  state.next = d.next || '';
  state.prev = d.prev || '';
  $('#counts').textContent = `${plural(d.total, 'pair')} · ${d.reviewed} reviewed`;
  const tb = $('#pairs tbody');
  const frag = document.createDocumentFragment();
  d.pairs.forEach((p, i) => {
    const tr = el('tr');
    tr.dataset.index = String(i);
    tr.dataset.id = String(p.id);
    const v = el('td', 'num');
    const a = el('a', 'value', p.value.toFixed(3));
    a.href = pairUrl(p.id);
    v.append(a);
    tr.append(v, el('td', `rel rel-${p.relation}`, relName(p.relation)), el('td', `conf conf-${p.confidence}`, p.confidence),
              itemCell(p.query_item, false), itemCell(p.candidate_item, true), verdictCell(p.verdict));
    frag.append(tr);
  });
  tb.replaceChildren(frag);
  $('#empty').hidden = d.pairs.length > 0;
  const from = d.total ? d.offset + 1 : 0;
  $('#page-info').textContent = `${from}–${d.offset + d.pairs.length} of ${d.total}`;
  $('[data-action="page-prev"]').disabled = $('[data-action="page-first"]').disabled = d.offset === 0;
  $('[data-action="page-next"]').disabled = $('[data-action="page-last"]').disabled =
    d.offset + d.pairs.length >= d.total;
  let sel = state.rows.findIndex((p) => p.id === state.lastPairId);
  if (sel < 0) sel = state.selAfterLoad === 'last' ? state.rows.length - 1 : 0;
  state.selAfterLoad = null;
  select(sel);
}

function select(i) {
  const rows = $('#pairs tbody').children;
  if (!rows.length) return;
  i = Math.max(0, Math.min(rows.length - 1, i));
  const old = rows[state.sel];
  if (old) { old.classList.remove('sel'); old.removeAttribute('aria-selected'); }
  state.sel = i;
  rows[i].classList.add('sel');
  rows[i].setAttribute('aria-selected', 'true');
  rows[i].scrollIntoView({ block: 'nearest' });
}

// "Row 3 of 7: duplicate, high, value 1.512. #5001 Dark mode … ↔ issue #5002 …"
function announceRow() {
  const p = state.rows[state.sel];
  if (!p) { announce('No pairs match these filters.'); return; }
  const side = (it) => `${it.display} ${it.missing ? '(not in the store)' : it.title}, ${it.missing ? 'missing' : it.state}`;
  announce(`Row ${state.offset + state.sel + 1} of ${state.total}: ${p.relation}, ${p.confidence}, value ` +
           `${p.value.toFixed(3)}. ${side(p.query_item)} ↔ ${kindName(p.candidate_item)} ${side(p.candidate_item)}` +
           `${p.verdict ? `. Verdict: ${VERDICT_NAMES[p.verdict] || p.verdict}` : ''}`);
}

// Moves the selection by delta rows, across pages; the promise settles once
// the row is selected (after loading its page, if it is on another).
function moveSel(delta) {
  const n = state.rows.length;
  const t = state.sel + delta;
  if (t >= n && !$('[data-action="page-next"]').disabled) {
    state.lastPairId = 0;
    return turnPage(PAGE);
  }
  if (t < 0 && state.offset > 0) {
    state.lastPairId = 0;
    state.selAfterLoad = 'last';
    return turnPage(-PAGE);
  }
  select(t);
  announceRow();
  return undefined;
}

// PageDown / PageUp: a screenful of rows; at the last (first) row, the next
// (previous) page.
function pageSel(dir) {
  const wrap = $('#view-index .table-wrap');
  const row = $('#pairs tbody tr');
  const per = row ? Math.max(1, Math.floor(wrap.clientHeight / row.offsetHeight) - 1) : 1;
  const last = state.rows.length - 1;
  if ((dir > 0 && state.sel === last) || (dir < 0 && state.sel === 0)) return moveSel(dir);
  select(Math.max(0, Math.min(last, state.sel + dir * per)));
  announceRow();
  return undefined;
}

function turnPage(delta) {
  state.offset = Math.max(0, state.offset + delta);
  // Forward from a full page: its cursor; backward: the cursor of its first
  // row (none to the first page, which is offset 0).
  state.after = delta > 0 ? state.next : '';
  state.before = delta < 0 && state.offset ? state.prev : '';
  return go(indexUrl());
}

// The first or the last page (dir < 0 / > 0), by offset: the server finds
// a deep page's place by the sort index alone, so the last of 725k pairs
// loads as fast as the first. Pages stay aligned to PAGE, as when paging.
function endPage(dir) {
  state.offset = dir > 0 && state.total > 0 ? Math.floor((state.total - 1) / PAGE) * PAGE : 0;
  state.after = '';
  state.before = '';
  state.lastPairId = 0;
  return go(indexUrl());
}

function openSelected() {
  const p = state.rows[state.sel];
  return p ? go(pairUrl(p.id)) : undefined;
}

let textTimer = 0;
function filtersChanged(immediate) {
  const form = $('#filters');
  const p = new URLSearchParams();
  for (const f of form.elements) if (f.name && f.value.trim()) p.set(f.name, f.value.trim());
  clearTimeout(textTimer);
  const apply = () => {
    const qs = canonicalFilter(p);
    if (qs === state.filterQs && state.view === 'index') return;   // nothing changed: keep page and selection
    state.lastPairId = 0;
    go(withQs('/', qs), true);
  };
  if (immediate) apply(); else textTimer = setTimeout(apply, 250);
}

// ---- pair ----------------------------------------------------------------------

function cacheKey(id) { return `${id}?${state.filterQs}`; }

function loadPair(id) {
  const key = cacheKey(id);
  const hit = state.cache.get(key);
  if (hit && hit.promise) return hit.promise;
  const promise = api(withQs(`/api/pairs/${id}`, state.filterQs)).then((data) => {
    state.cache.set(key, { data, stale: false });
    if (state.cache.size > 64) state.cache.delete(state.cache.keys().next().value);
    return data;
  }, (err) => { state.cache.delete(key); throw err; });
  state.cache.set(key, { promise, data: hit && hit.data, stale: true });
  return promise;
}

function prefetch(id) {
  if (!id) return;
  const hit = state.cache.get(cacheKey(id));
  if (!hit || (hit.stale && !hit.promise)) loadPair(id).catch(() => {});
}

async function showPair(id) {
  setView('pair');
  state.lastPairId = id;
  const seq = ++state.pairSeq;
  const hit = state.cache.get(cacheKey(id));
  if (hit && hit.data) {
    renderPair(hit.data);
    if (!hit.stale) { prefetch(hit.data.next); prefetch(hit.data.prev); return; }
  } else {
    state.pair = null;   // keys wait for this pair, not act on the last one
    $('#view-pair').classList.add('loading');
  }
  try {
    const data = await loadPair(id);
    if (seq !== state.pairSeq) return;
    $('#view-pair').classList.remove('loading');
    renderPair(data);
    prefetch(data.next);
    prefetch(data.prev);
  } catch (e) {
    if (seq !== state.pairSeq) return;
    $('#view-pair').classList.remove('loading');
    showError(e.status === 404 ? { message: `no pair ${id}` } : e);
  }
}

function setLink(a, it) {
  a.textContent = it.display;
  if (it.url) a.href = it.url; else a.removeAttribute('href');
}

function renderVerdict(v) {
  const b = $('#verdict');
  b.hidden = !v;
  b.className = `verdict-badge ${v ? `v-${v}` : ''}`;
  b.textContent = v ? `verdict: ${VERDICT_NAMES[v] || v}` : '';
  for (const btn of document.querySelectorAll('[data-action="verdict"]'))
    btn.setAttribute('aria-pressed', String(btn.dataset.verdict === v));
}

// How the page names an item of this pair's repository by its key: the
// display and link of the query or candidate, else "#N" (GitHub) or the key.
function itemRef(d, key) {
  for (const it of [d.query_item, d.candidate_item]) if (it.key === key) return { display: it.display, url: it.url };
  const r = d.repo || {};
  const jira = r.kind === 'jira';
  const display = !jira && /^\d+$/.test(key) ? `#${key}` : key;
  let url = null;
  if (r.url && /^https?:\/\//.test(r.url)) {
    const base = r.url.replace(/\/$/, '');
    url = jira ? `${base}/browse/${encodeURIComponent(key)}` : `${base}/issues/${encodeURIComponent(key)}`;
  }
  return { display, url };
}

// The item the suggested comment is meant to be posted on: the pair's
// "comment_on" when the API names it, else the query.
function commentTarget(d) {
  return itemRef(d, d.pair.comment_on || d.pair.query);
}

function refLink(ref) {
  const a = el('a', 'key', ref.display);
  if (ref.url) { a.href = ref.url; a.target = '_blank'; a.rel = 'noreferrer noopener'; }
  return a;
}

function renderComment(d) {
  const p = d.pair;
  const target = commentTarget(d);
  $('#comment-for').replaceChildren('for ', refLink(target));
  const can = $('#canonical');
  const canon = p.canonical && p.canonical !== p.query && p.canonical !== p.candidate ? p.canonical : null;
  can.hidden = !canon;
  if (canon) can.replaceChildren('Canonical item of this duplicate cluster: ', refLink(itemRef(d, canon)));
  $('#comment').textContent = p.suggested_comment || '';
}

function pairHeadline(d) {
  return `${d.query_item.display} ↔ ${kindWord(d.candidate_item)} ${d.candidate_item.display}`.replace(/\s+/g, ' ');
}

function renderPair(d) {
  const fresh = !state.pair || state.pair.pair.id !== d.pair.id;
  state.pair = d;
  const p = d.pair;
  setLink($('#q-link'), d.query_item);
  setLink($('#c-link'), d.candidate_item);
  $('#c-kind').textContent = kindWord(d.candidate_item);
  $('#pair-meta').textContent = `${cap(relName(p.relation))} · ${p.confidence} · value ${p.value.toFixed(3)}`;
  $('#back').href = indexUrl();
  renderVerdict(p.verdict);
  renderQueued(p.queued);
  $('[data-action="prev"]').disabled = !d.prev;
  $('[data-action="next"]').disabled = !d.next;
  document.title = `${pairHeadline(d)} · doppel`;
  if (!fresh) {
    if (!state.restored) restoreScroll();   // the same pair again: its entry's place
    return;
  }
  const ev = $('#evidence');
  ev.replaceChildren(...(p.reasoning || []).map((l) => el('li', '', l)));
  const vt = $('#value-detail tbody');
  vt.replaceChildren(...(p.value_detail || []).map((l) => {
    const i = l.lastIndexOf(':');
    const tr = el('tr');
    tr.append(el('td', '', i > 0 ? l.slice(0, i) : l), el('td', 'num', i > 0 ? l.slice(i + 1).trim() : ''));
    return tr;
  }));
  renderComment(d);
  renderItem($('#pane-q'), 'query', d.query_item);
  renderItem($('#pane-c'), 'candidate', d.candidate_item);
  showPane(state.pane, false);
  restoreScroll();
  announce(`${pairHeadline(d)}. ${$('#pair-meta').textContent}${p.verdict ? `. Verdict: ${VERDICT_NAMES[p.verdict]}` : ''}`);
}

// "17 comments", "17 comments (16 stored)", "4 comments on the tracker,
// none stored": the tracker's count and what the store holds can differ.
function commentCount(it) {
  const tracker = it.comments || 0, stored = it.comment_total || 0;
  if (stored >= tracker) return stored ? plural(stored, 'comment') : '';
  if (!stored) return `${plural(tracker, 'comment')} on the tracker, none stored`;
  return `${plural(tracker, 'comment')} (${stored} stored)`;
}

// Labels, then Jira components and affected versions, each group named so
// that they can be told apart.
function renderChips(it) {
  const box = el('div', 'chips');
  const group = (name, cls, values, render) => {
    if (!values || !values.length) return;
    const g = el('p', `chip-group ${cls}`);
    g.append(el('span', 'chip-name', name));
    for (const v of values) g.append(render(v), ' ');
    box.append(g);
  };
  group('Labels', 'labels', it.labels, (l) => el('span', `label ${colorClass((it.label_colors || {})[l])}`, l));
  group('Components', 'components', it.components, (c) => el('span', 'chip component', c));
  group('Affects versions', 'versions', it.versions, (v) => el('span', 'chip version', v));
  return box.childNodes.length ? box : null;
}

function renderItem(pane, role, it) {
  $('.pane-head', pane).textContent = `${role} · ${kindName(it) || 'item'}`.toUpperCase();
  const box = $('.item', pane);
  const frag = document.createDocumentFragment();
  const h = el('h2', 'item-title');
  h.append(el('span', '', it.missing ? '(not in the store)' : it.title), ' ');
  const k = el('a', 'key', it.display);
  if (it.url) { k.href = it.url; k.target = '_blank'; k.rel = 'noreferrer noopener'; }
  h.append(k);
  frag.append(h);
  if (!it.missing) {
    const meta = el('p', 'item-meta');
    const st = stateBadge(it);
    if (it.state_reason) st.textContent = `${it.state} · ${it.state_reason.replace(/_/g, ' ')}`;
    meta.append(st, ' ');
    meta.append(el('span', '', `opened ${day(it.created_at)}${it.author ? ` by ${it.author}` : ''}`));
    meta.append(el('span', 'sep', '·'), el('span', '', `updated ${day(it.updated_at)}`));
    if (it.closed_at && it.state !== 'open') meta.append(el('span', 'sep', '·'), el('span', '', `closed ${day(it.closed_at)}`));
    const count = commentCount(it);
    if (count) meta.append(el('span', 'sep', '·'), el('span', 'comment-count', count));
    for (const [name, v] of [['type', it.type], ['priority', it.priority]])
      if (v) meta.append(el('span', 'sep', '·'), el('span', '', `${name} ${v}`));
    frag.append(meta);
    const chips = renderChips(it);
    if (chips) frag.append(chips);
    const body = renderedHtml(it.body_html);
    if (!body.textContent.trim()) body.replaceChildren(el('p', 'muted', 'No description.'));
    frag.append(body);
    const comments = renderComments(it);
    if (comments) frag.append(comments);
  }
  box.replaceChildren(frag);
  markScrollable(pane);
}

// Whether href stays on this origin: a path with one leading '/'. Read as
// the browser reads it -- leading spaces and control characters dropped,
// tabs and newlines ignored, '\' taken for '/' -- so "//host", "/\host"
// and " //host" are other sites. The server's link allowlist already drops
// these; this is the second fence.
function internalHref(href) {
  const h = href.replace(/^[\u0000-\u0020]+/, '').replace(/[\t\n\r]/g, '').replace(/\\/g, '/');
  return h.startsWith('/') && !h.startsWith('//');
}

// A div.md holding server-rendered HTML (cmark-gfm safe-mode output).
function renderedHtml(html) {
  const div = el('div', 'md');
  div.innerHTML = html || '';
  // cmark empties dangerous URLs; an empty href would reload this page.
  for (const img of div.querySelectorAll('img')) if (!img.getAttribute('src')) img.replaceWith(img.alt || '');
  // Task-list boxes are named by their item's text (they have no <label>).
  for (const box of div.querySelectorAll('li > input[type="checkbox"]'))
    box.setAttribute('aria-label', box.parentElement.textContent.trim().slice(0, 120) || 'task');
  for (const a of div.querySelectorAll('a[href]')) {
    const href = a.getAttribute('href');
    if (!href) { a.removeAttribute('href'); continue; }
    if (internalHref(href)) continue;
    a.target = '_blank';
    a.rel = 'noreferrer noopener nofollow';
  }
  return div;
}

// The item's stored comments, collapsed under the body: "N comments".
function renderComments(it) {
  const list = it.comment_list || [];
  if (!list.length) return null;
  const total = Math.max(it.comment_total || 0, list.length);
  const det = el('details', 'comments');
  det.append(el('summary', '', plural(total, 'comment')));
  for (const c of list) {
    const sec = el('section', 'comment-item');
    const head = el('p', 'comment-head');
    head.append(el('span', 'comment-author', c.author || 'unknown'), el('span', 'sep', '·'),
                el('span', 'muted', day(c.created_at)));
    sec.append(head, renderedHtml(c.body_html));
    det.append(sec);
  }
  if (total > list.length) det.append(el('p', 'muted more', `The first ${list.length} of ${total} are shown; the rest are on the tracker.`));
  return det;
}

// Code blocks and tables wider than their pane can take the focus, so ←/→
// scroll them (and a screen reader can reach what is cut off).
function markScrollable(root) {
  for (const b of root.querySelectorAll('.md pre, .md table')) {
    if (!b.offsetParent) continue;   // not laid out (a hidden pane): measured when shown
    const wide = b.scrollWidth > b.clientWidth + 1;
    if (wide && !b.hasAttribute('tabindex')) {
      b.tabIndex = 0;
      b.classList.add('scroll-x');
      if (!b.hasAttribute('aria-label')) b.setAttribute('aria-label', b.tagName === 'PRE' ? 'code, scrolls sideways' : 'table, scrolls sideways');
    } else if (!wide && b.classList.contains('scroll-x')) {
      b.removeAttribute('tabindex');
      b.removeAttribute('aria-label');
      b.classList.remove('scroll-x');
    }
  }
}

// The pane keys scroll: the active one of a pair, the only one of an item.
function activePane() {
  if (state.view === 'pair') return $(`#pane-${state.pane}`);
  if (state.view === 'item') return $('#pane-i');
  if (state.view === 'apply') return $('#apply-body');
  return null;
}

function scrollPane(key, shift) {
  const pane = activePane();
  if (!pane) return;
  const page = Math.max(40, pane.clientHeight - 40);
  if (key === 'Home') pane.scrollTop = 0;
  else if (key === 'End') pane.scrollTop = pane.scrollHeight;
  else pane.scrollTop += (key === 'PageUp' || (key === ' ' && shift)) ? -page : page;
}

// Shift+←/→: the wide blocks in sight in the active pane move sideways.
function scrollSideways(dir) {
  const pane = activePane();
  if (!pane) return;
  const view = pane.getBoundingClientRect();
  for (const b of pane.querySelectorAll('.md pre, .md table')) {
    if (b.scrollWidth <= b.clientWidth + 1) continue;
    const r = b.getBoundingClientRect();
    if (r.bottom <= view.top || r.top >= view.bottom) continue;
    b.scrollLeft += dir * Math.max(60, Math.round(b.clientWidth * 0.5));
  }
}

// Which pane shows (narrow screens: tabs with tab panels) or is active
// (wide: both show, the active one takes the scroll keys).
function showPane(which, focus) {
  state.pane = which;
  $('#panes').dataset.show = which;
  const tabbed = narrow.matches;
  for (const w of ['q', 'c']) {
    const tab = $(`#tab-${w}`), pane = $(`#pane-${w}`), on = w === which;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    pane.classList.toggle('active', on);
    if (tabbed) {
      pane.setAttribute('role', 'tabpanel');
      pane.setAttribute('aria-labelledby', `tab-${w}`);
    } else {
      pane.removeAttribute('role');
      pane.setAttribute('aria-labelledby', `pane-${w}-head`);
    }
  }
  const pane = $(`#pane-${which}`);
  markScrollable(pane);
  if (focus) pane.focus({ preventScroll: true });
}

function toggleReasoning(force) {
  state.reasoning = force === undefined ? !state.reasoning : force;
  const panel = $('#reasoning');
  const btn = $('[data-action="reasoning"]');
  if (!state.reasoning && panel.contains(document.activeElement)) btn.focus({ preventScroll: true });
  panel.hidden = !state.reasoning;
  btn.setAttribute('aria-expanded', String(state.reasoning));
}

// Next (dir 1) or previous (-1) pair; settles once it is on screen.
async function step(dir) {
  await state.routed;
  const d = state.pair;
  if (!d || state.view !== 'pair') return;
  const id = dir > 0 ? d.next : d.prev;
  if (id) await go(pairUrl(id));
  else toast(dir > 0 ? 'last pair' : 'first pair');
}

function markStale() {
  for (const [k, v] of state.cache) {
    if (v.promise && !v.data) state.cache.delete(k);
    else state.cache.set(k, { data: v.data, stale: true });
  }
}

async function postVerdict(id, verdict) {
  return api(`/api/pairs/${id}/verdict`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Doppel': '1' },
    body: JSON.stringify({ verdict: verdict || null }),
  });
}

async function setVerdict(v) {
  await state.routed;
  const d = state.pair;
  if (!d) return;
  const id = d.pair.id, old = d.pair.verdict || null;
  try {
    await postVerdict(id, v);
  } catch (e) {
    toast(`not saved: ${e.message}`);
    return;
  }
  state.undo.push({ id, old });
  d.pair.verdict = v;
  markStale();
  if (state.pair === d) renderVerdict(v);
  toast(`saved: ${VERDICT_NAMES[v]}`);
  if (d.next && state.pair === d) await go(pairUrl(d.next));
}

async function undo() {
  await state.routed;
  let last = state.undo.pop();
  const cur = state.pair;
  if (!last) {
    if (!cur || !cur.pair.verdict) { toast('nothing to undo'); return; }
    last = { id: cur.pair.id, old: null };
  }
  try {
    await postVerdict(last.id, last.old);
  } catch (e) {
    state.undo.push(last);
    toast(`not undone: ${e.message}`);
    return;
  }
  markStale();
  toast(last.old ? `restored: ${VERDICT_NAMES[last.old]}` : 'verdict removed');
  if (cur && cur.pair.id === last.id) {
    cur.pair.verdict = last.old;
    renderVerdict(last.old);
  } else {
    await go(pairUrl(last.id));
  }
}

// ---- copy ------------------------------------------------------------------

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) { /* fall back */ }
  }
  // http on a non-loopback address has no Clipboard API: copy the old way.
  const ta = $('#copy-buffer');
  const prev = document.activeElement;
  ta.value = text;
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
  ta.value = '';
  if (prev && prev.focus) prev.focus({ preventScroll: true });
  return ok;
}

async function copyComment() {
  await state.routed;
  const d = state.pair;
  if (!d) return;
  const ok = await copyText(d.pair.suggested_comment || '');
  toast(ok ? `copied: comment for ${commentTarget(d).display}` : 'copy failed');
}

// ---- item ------------------------------------------------------------------

async function showItem(repo, key) {
  setView('item');
  state.pair = null;
  try {
    const d = await api(`/api/items/${encodeURIComponent(repo)}/${encodeURIComponent(key)}`);
    setLink($('#i-link'), d.item);
    $('#i-kind').textContent = kindWord(d.item);
    document.title = `${d.item.display} · doppel`;
    renderItem($('#pane-i'), 'item', d.item);
    restoreScroll();
  } catch (e) {
    showError(e.status === 404 ? { message: `no item ${key}` } : e);
  }
}

// ---- the GitHub queue (pair page) ----------------------------------------------

function renderQueued(q) {
  const b = $('[data-action="queue"]');
  b.setAttribute('aria-pressed', String(!!q));
}

// "Apply on GitHub (2)": the queue's length on the index.
function showQueueCount(repos) {
  const n = (repos || []).reduce((t, r) => t + (r.queued || 0), 0);
  $('#apply-count').textContent = n ? ` (${n} queued)` : '';
}
function refreshQueueCount() {
  api('/api/meta').then((m) => showQueueCount(m.repos)).catch(() => {});
}

function queueRequest(id, add) {
  return api(`/api/pairs/${id}/queue`, {
    method: add ? 'POST' : 'DELETE',
    headers: { 'Content-Type': 'application/json', 'X-Doppel': '1' },
    body: '{}',
  });
}

// `a`: the verdict on screen goes to the queue the Apply view carries out
// (or leaves it). A pair without a verdict has nothing to carry out.
async function toggleQueue() {
  await state.routed;
  const d = state.pair;
  if (!d || state.view !== 'pair') return;
  const p = d.pair, add = !p.queued;
  if (add && !p.verdict) { toast('no verdict to queue yet: give one (d, e or x), then press a on it'); return; }
  try {
    await queueRequest(p.id, add);
  } catch (e) {
    toast(`${add ? 'not queued' : 'not removed'}: ${e.message}`);
    return;
  }
  p.queued = add;
  markStale();
  if (state.pair === d) renderQueued(add);
  refreshQueueCount();
  toast(add ? `queued for GitHub: ${VERDICT_NAMES[p.verdict]} (see Apply, g a)` : 'taken out of the GitHub queue');
}

// ---- the Apply view --------------------------------------------------------------

const UNIT_STATES = { todo: 'to do', done: 'done already', skipped: 'skipped', failed: 'failed' };
const RUN_STATES = { idle: '', running: 'running', done: 'done', stopped: 'stopped', failed: 'failed' };
const apply = { data: null, seq: 0, polling: false, sending: false };

// An item of the plan, linked to its page on the tracker.
function applyRef(side) { return refLink({ display: side.display, url: side.url }); }

function sideOf(u, key) { return u.query.key === key ? u.query : u.cand.key === key ? u.cand : { display: `#${key}`, url: null }; }

// One request of a unit: what it does, in words, then the exact request.
function renderStep(u, s) {
  const li = el('li', `step step-${s.kind} step-${s.state}`);
  const what = el('p', 'step-what');
  const strong = el('strong');
  const t = s.target ? applyRef(sideOf(u, s.target)) : null;
  if (s.kind === 'comment') strong.append('Comment on ', t);
  else if (s.kind === 'close') strong.append('Close ', t, ' as a duplicate of ', applyRef(sideOf(u, s.arg)));
  else if (s.kind === 'label') strong.append('Add label ', el('span', 'label', s.arg), ' to ', t);
  else if (s.kind === 'decided') strong.append('Record the decision: nothing is sent to GitHub');
  else strong.append(`${s.kind} `, t || '');
  what.append(strong);
  if (s.state === 'done') what.append(' ', el('span', 'step-state', `done (action #${s.action})`));
  else if (s.state === 'pending') what.append(' ', el('span', 'step-state', 'recorded without an answer: GitHub is checked first'));
  li.append(what);
  if (s.method) li.append(el('p', 'request', `${s.method} ${s.path}${s.body && !s.text ? ` ${s.body}` : ''}`));
  if (s.text) {
    const pre = el('pre', 'comment', s.text);
    pre.setAttribute('aria-label', `the comment on ${t ? t.textContent : ''}, as it will read`);
    li.append(pre);
  }
  return li;
}

function renderUnit(u) {
  const li = el('li', `apply-unit unit-${u.state}`);
  li.dataset.key = u.key;
  const h = el('h2', 'unit-title');
  const pairLink = el('a', 'key', `${u.query.display} ↔ ${u.cand.display}`);
  if (u.pair_id) pairLink.href = `/pair/${u.pair_id}`;
  h.append(pairLink, ' ', el('span', `verdict-badge v-${u.verdict}`, VERDICT_NAMES[u.verdict] || u.verdict),
           ' ', el('span', `unit-state s-${u.state}`, UNIT_STATES[u.state] || u.state));
  li.append(h);
  const titles = el('p', 'unit-titles muted');
  titles.append(`${u.query.display} ${u.query.title || ''}`, el('br'), `${u.cand.display} ${u.cand.title || ''}`);
  li.append(titles);
  const why = el('p', 'unit-why');
  if (u.dup && u.state === 'todo') {
    why.append('Keep ', applyRef(sideOf(u, u.canonical)), ', act on ', applyRef(sideOf(u, u.dup)), `: ${u.why || ''}`);
  } else {
    why.textContent = u.why || '';
  }
  li.append(why);
  if (u.state === 'todo' || u.state === 'failed') {
    const steps = el('ol', 'steps');
    for (const s of u.steps) steps.append(renderStep(u, s));
    li.append(steps);
  }
  if (u.pair_id) {
    const b = el('button', 'unqueue', 'Take out of the queue');
    b.type = 'button';
    b.dataset.action = 'unqueue';
    b.dataset.pair = String(u.pair_id);
    b.setAttribute('aria-label', `Take out of the queue: ${u.query.display} ↔ ${u.cand.display}`);
    li.append(b);
  }
  return li;
}

function renderApply(d) {
  apply.data = d;
  const r = d.repo;
  $('#apply-repo').textContent = r ? r.name : '';
  document.title = 'Apply on GitHub · doppel';
  const pick = $('#apply-repo-pick');
  pick.hidden = d.repos.length < 2;
  if (!pick.hidden) {
    const sel = $('select', pick);
    sel.replaceChildren(...d.repos.map((x) => { const o = el('option', '', `${x.name} (${x.queued} queued)`); o.value = String(x.id); return o; }));
    if (r) sel.value = String(r.id);
  }
  const mode = $('#apply-mode');
  mode.className = `apply-mode ${d.write ? 'write-on' : 'write-off'}`;
  mode.textContent = !r ? 'No GitHub repository in this store: only GitHub issues can be acted on.'
    : d.write ? 'Writing to GitHub is on: “Apply” sends exactly the requests below, once each, and records them (doppel apply --log).'
      : d.write_hint;
  const c = d.counts;
  const parts = [`${plural(c.todo, 'pair')} to do: ${plural(c.requests, 'request')}` +
                 ` (${plural(c.comments, 'comment')}, ${plural(c.closures, 'closure')}, ${plural(c.labels, 'label')})`];
  if (c.skipped) parts.push(`${c.skipped} skipped`);
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.done) parts.push(`${c.done} done already`);
  $('#apply-summary').textContent = d.units.length ? parts.join(' · ') : '';
  $('#apply-empty').hidden = d.units.length > 0 || !r;
  $('#apply-units').replaceChildren(...d.units.map(renderUnit));
  $('#apply-text').textContent = d.text || '(nothing to do)';
  const go = $('#apply-go');
  const running = d.run && d.run.state === 'running';
  go.disabled = !d.write || !c.todo || running || apply.sending;
  go.textContent = c.todo ? `Apply ${plural(c.requests, 'request')} on GitHub` : 'Apply on GitHub';
  $('#apply-go-note').textContent = !d.write ? 'writing is off (read-only)' : running ? 'a run is in flight'
    : !c.todo ? 'nothing to do' : `plan ${d.hash.slice(0, 8)}`;
  renderRun(d.run);
}

function renderRun(run) {
  const sec = $('#apply-run');
  sec.hidden = !run || run.state === 'idle';
  if (sec.hidden) return;
  const st = RUN_STATES[run.state] || run.state;
  const s = run.stats;
  let msg = `${cap(st)}: ${run.sent} of ${plural(run.planned, 'request')} reported`;
  if (run.state !== 'running') msg += ` · ${plural(s.writes, 'write')} sent, ${s.reconciled} found done, ` +
    `${s.done} done, ${s.skipped} skipped, ${s.failed} failed`;
  if (run.error) msg += `. ${run.error}`;
  $('#apply-run-state').textContent = msg;
  sec.dataset.state = run.state;
  const prog = $('#apply-progress');
  prog.max = Math.max(1, run.planned);
  prog.value = Math.min(run.sent, prog.max);
  $('#apply-events').replaceChildren(...run.events.map((e) => el('li', `event e-${e.state}`, e.line)));
}

async function showApply(repo) {
  setView('apply');
  state.pair = null;
  document.title = 'Apply on GitHub · doppel';
  const seq = ++apply.seq;
  try {
    const d = await api(repo ? `/api/apply?repo=${encodeURIComponent(repo)}` : '/api/apply');
    if (seq !== apply.seq) return;
    renderApply(d);
    restoreScroll();
    if (d.run && d.run.state === 'running') pollRun();
  } catch (e) {
    if (seq === apply.seq) showError(e);
  }
}

function reloadApply() {
  const repo = apply.data && apply.data.repo ? String(apply.data.repo.id) : null;
  return showApply(repo);
}

// Follows the run until it ends, then shows the plan as it is now.
async function pollRun() {
  if (apply.polling) return;
  apply.polling = true;
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, 400));
      if (state.view !== 'apply') break;
      const d = await api('/api/apply/run');
      renderRun(d.run);
      if (d.run.state !== 'running') {
        announce(`Apply ${RUN_STATES[d.run.state]}: ${plural(d.run.stats.writes, 'write')} sent`);
        await reloadApply();
        break;
      }
    }
  } catch (e) {
    showError(e);
  } finally {
    apply.polling = false;
  }
}

// The one confirm: the plan's hash goes back with it, so the server runs
// exactly the plan on screen or nothing (409 when it changed meanwhile).
async function applyGo() {
  const d = apply.data;
  if (!d || !d.repo || !d.write || apply.sending) return;
  apply.sending = true;
  $('#apply-go').disabled = true;
  showError(null);
  try {
    const r = await api('/api/apply', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Doppel': '1' },
      body: JSON.stringify({ repo: d.repo.id, confirm: d.hash }),
    });
    renderRun(r.run);
    toast('applying on GitHub');
    apply.sending = false;
    pollRun();
  } catch (e) {
    apply.sending = false;
    showError(e.status === 409 ? { message: `${e.message}` } : e);
    await reloadApply();
  }
}

async function unqueue(id, btn) {
  btn.disabled = true;
  try {
    await queueRequest(id, false);
  } catch (e) {
    btn.disabled = false;
    toast(`not removed: ${e.message}`);
    return;
  }
  markStale();
  toast('taken out of the GitHub queue');
  await reloadApply();
  $('#apply-body').focus({ preventScroll: true });
}

// ---- help overlay ----------------------------------------------------------

// A modal dialog: while it is open the page behind it is inert (no focus,
// no clicks), Tab and Shift+Tab cycle inside it, and closing returns focus
// to where it was.
let helpReturn = null;
const helpOpen = () => !$('#help').hidden;
const behindHelp = () => [...document.body.children].filter((e) => e.id !== 'help' && e.tagName !== 'SCRIPT');
function openHelp() {
  if (helpOpen()) return;
  helpReturn = document.activeElement;
  for (const e of behindHelp()) e.inert = true;
  $('#help').hidden = false;
  $('#help .dialog').focus();
}
function closeHelp() {
  if (!helpOpen()) return;
  $('#help').hidden = true;
  for (const e of behindHelp()) e.inert = false;
  const back = helpReturn;
  helpReturn = null;
  if (back && back !== document.body && back.isConnected && back.focus) back.focus({ preventScroll: true });
}
function trapTab(ev) {
  const dlg = $('#help .dialog');
  const items = [...dlg.querySelectorAll('a[href], button:not([disabled]), input, select, textarea, [tabindex]:not([tabindex="-1"])')]
    .filter((e) => !e.hidden);
  if (!items.length) { ev.preventDefault(); dlg.focus(); return; }
  const first = items[0], last = items[items.length - 1], cur = document.activeElement;
  const inside = dlg.contains(cur);
  if (ev.shiftKey && (!inside || cur === first || cur === dlg)) { ev.preventDefault(); last.focus(); }
  else if (!ev.shiftKey && (!inside || cur === last)) { ev.preventDefault(); first.focus(); }
}

// ---- keys ------------------------------------------------------------------

function typing(t) {
  if (!t || t.id === 'copy-buffer') return false;
  if (t.isContentEditable) return true;
  if (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT') return true;
  return t.tagName === 'INPUT' && !['button', 'checkbox', 'radio', 'submit', 'reset'].includes(t.type);
}

// Esc in a filter field: the search box empties, and the list follows the
// form at once (no waiting for the typing pause); then the field lets go.
function escapeFilter(t) {
  if (!t.closest('#filters')) { t.blur(); return; }
  if (t.name === 'text' && t.value) t.value = '';
  filtersChanged(true);
  t.blur();
}

const PAIR_KEYS = {
  j: () => step(1), ArrowDown: () => step(1), n: () => step(1),
  k: () => step(-1), ArrowUp: () => step(-1), p: () => step(-1),
  1: () => showPane('q', true), ArrowLeft: () => showPane('q', true), h: () => showPane('q', true),
  2: () => showPane('c', true), ArrowRight: () => showPane('c', true), l: () => showPane('c', true),
  c: copyComment, r: () => toggleReasoning(),
  d: () => setVerdict('duplicate'), e: () => setVerdict('related'), x: () => setVerdict('not_related'),
  u: undo, a: toggleQueue,
};
const INDEX_KEYS = {
  j: () => moveSel(1), ArrowDown: () => moveSel(1), n: () => moveSel(1),
  k: () => moveSel(-1), ArrowUp: () => moveSel(-1), p: () => moveSel(-1),
  PageDown: () => pageSel(1), ' ': () => pageSel(1), PageUp: () => pageSel(-1),
  Home: () => { select(0); announceRow(); }, End: () => { select(state.rows.length - 1); announceRow(); },
  Enter: openSelected, '/': () => $('#filters [name="text"]').focus(),
};
const SCROLL_KEYS = new Set([' ', 'PageDown', 'PageUp', 'Home', 'End']);
const MODIFIERS = new Set(['Shift', 'Control', 'Alt', 'Meta', 'AltGraph', 'CapsLock']);

// The view's action for key k (shift: whether Shift is down), or null.
function keyAction(k, shift) {
  if (state.view === 'index') {
    if (k === ' ' && shift) return () => pageSel(-1);
    return INDEX_KEYS[k] || null;
  }
  if (SCROLL_KEYS.has(k)) return () => scrollPane(k, shift);
  if (shift && (k === 'ArrowLeft' || k === 'ArrowRight')) return () => scrollSideways(k === 'ArrowLeft' ? -1 : 1);
  return state.view === 'pair' ? PAIR_KEYS[k] || null : null;
}

// Keys the focused element handles itself: buttons and links take Enter and
// Space, <summary> opens on them, a focused wide block scrolls with ←/→,
// a pane or anything in it scrolls with the scroll keys, tabs move with ←/→.
function ownKey(t, k) {
  if (!t || !t.closest) return false;
  if ((k === 'Enter' || k === ' ') && t.closest('a, button, summary')) return true;
  if ((k === 'ArrowLeft' || k === 'ArrowRight') && t.closest('.scroll-x')) return true;
  if (SCROLL_KEYS.has(k) && t.closest('.pane, .reasoning, .dialog')) return true;
  return false;
}

function onTabKey(ev) {
  const k = ev.key;
  if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(k)) return false;
  ev.preventDefault();
  const cur = ev.target.dataset.pane;
  const to = k === 'Home' ? 'q' : k === 'End' ? 'c' : cur === 'q' ? 'c' : 'q';
  showPane(to, false);
  $(`#tab-${to}`).focus();
  return true;
}

function onKey(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const k = ev.key;
  if (MODIFIERS.has(k)) return;
  // Whatever key follows `g` completes or cancels it; no timer, so a slow
  // machine (or a stale timer of an earlier `g`) cannot drop `g i`.
  const g = state.gPending;
  state.gPending = false;
  if (typing(ev.target)) {
    if (k === 'Escape') { ev.preventDefault(); escapeFilter(ev.target); }
    return;
  }
  if (helpOpen()) {
    if (k === 'Escape' || k === '?') { ev.preventDefault(); closeHelp(); }
    else if (k === 'Tab') trapTab(ev);
    return;
  }
  if (k === 'Escape') {
    keyQueue.length = 0;
    if (state.reasoning && state.view === 'pair') { ev.preventDefault(); toggleReasoning(false); }
    return;
  }
  if (ev.target.getAttribute && ev.target.getAttribute('role') === 'tab' && onTabKey(ev)) return;
  if (g && k === 'i') { ev.preventDefault(); enqueue(() => go(indexUrl())); return; }
  if (g && k === 'a') { ev.preventDefault(); enqueue(() => go('/apply')); return; }
  if (k === 'g') { state.gPending = true; return; }
  if (k === '?') { ev.preventDefault(); openHelp(); return; }
  if (ownKey(ev.target, k)) return;
  if (!keyAction(k, ev.shiftKey)) return;
  ev.preventDefault();
  // Typed ahead: the key acts on the view on screen when its turn comes
  // (Enter j on the index opens a pair, then goes to the next one).
  const shift = ev.shiftKey;
  enqueue(() => { const fn = keyAction(k, shift); return fn ? fn() : undefined; });
}

// ---- wiring ----------------------------------------------------------------

function onClick(ev) {
  const btn = ev.target.closest('[data-action]');
  if (btn) {
    const a = btn.dataset.action;
    if (a === 'help') openHelp();
    else if (a === 'close-help') closeHelp();
    else if (a === 'verdict') enqueue(() => setVerdict(btn.dataset.verdict));
    else if (a === 'undo') enqueue(undo);
    else if (a === 'queue') enqueue(toggleQueue);
    else if (a === 'apply-go') applyGo();
    else if (a === 'unqueue') unqueue(Number(btn.dataset.pair), btn);
    else if (a === 'reasoning') toggleReasoning();
    else if (a === 'copy') enqueue(copyComment);
    else if (a === 'prev') enqueue(() => step(-1));
    else if (a === 'next') enqueue(() => step(1));
    else if (a === 'pane') showPane(btn.dataset.pane, !narrow.matches);
    else if (a === 'page-prev') turnPage(-PAGE);
    else if (a === 'page-next') turnPage(PAGE);
    else if (a === 'page-first') endPage(-1);
    else if (a === 'page-last') endPage(1);
    return;
  }
  if (ev.target === $('#help')) { closeHelp(); return; }
  const link = ev.target.closest('a[href]');
  if (link) {
    const href = link.getAttribute('href');
    if (internalHref(href) && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey && ev.button === 0) {
      ev.preventDefault();
      go(href);
    }
    return;
  }
  const tr = ev.target.closest('#pairs tbody tr');
  if (tr) {
    select(Number(tr.dataset.index));
    openSelected();
  }
}

history.scrollRestoration = 'manual';
document.documentElement.dataset.keys = 'idle';
document.addEventListener('keydown', onKey);
document.addEventListener('click', onClick);
window.addEventListener('popstate', route);
window.addEventListener('pagehide', saveScroll);
for (const e of [$('#pane-q'), $('#pane-c'), $('#pane-i'), $('#view-index .table-wrap'), $('#apply-body')])
  e.addEventListener('scroll', scrolled, { passive: true });
// A click or Tab into a pane makes it the active one (the scroll keys' pane).
for (const w of ['q', 'c']) $(`#pane-${w}`).addEventListener('focusin', () => { if (state.pane !== w) showPane(w, false); });
$('#filters').addEventListener('submit', (ev) => ev.preventDefault());
$('#filters').addEventListener('change', (ev) => { if (ev.target.name !== 'text') filtersChanged(true); });
$('#filters').addEventListener('input', (ev) => { if (ev.target.name === 'text' || ev.target.name === 'label') filtersChanged(false); });
narrow.addEventListener('change', () => showPane(state.pane, false));
// Wide blocks inside comments are measured once their list opens.
document.addEventListener('toggle', (ev) => { if (ev.target.matches && ev.target.matches('details.comments')) markScrollable(ev.target); }, true);
let resizeTimer = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => { const p = activePane(); if (p) markScrollable(p); }, 150);
});

api('/api/meta').then((m) => {
  const dl = $('#label-list');
  const names = [...new Set(m.labels.map((l) => l.name))].sort();
  dl.replaceChildren(...names.map((n) => { const o = el('option'); o.value = n; return o; }));
  showQueueCount(m.repos);
}).catch(() => {});
$('#apply-repo-pick select').addEventListener('change', (ev) => go(`/apply?repo=${encodeURIComponent(ev.target.value)}`));

route();
