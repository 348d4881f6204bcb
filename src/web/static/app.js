// app.js -- the review page: index of pairs, pair view, item view, keys.
//
// One page, three routes (served by the same HTML so deep links and reload
// work): "/" the index, "/pair/ID" a pair, "/item/REPO/KEY" an item. The
// index's filters live in the query string and travel with every pair URL,
// so next/previous follow the filter and reload keeps the place.
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
const VERDICT_NAMES = { duplicate: 'duplicate', related: 'related', not_related: 'not related' };
const narrow = window.matchMedia('(max-width: 899px)');

const state = {
  view: null,            // 'index' | 'pair' | 'item'
  filterQs: '',          // the index filter, canonical query string without offset
  offset: 0,
  rows: [],              // pairs on the current index page
  sel: 0,                // selected row on the index
  lastPairId: 0,         // to select it again when returning to the index
  pair: null,            // the pair shown (API response)
  pane: 'q',
  reasoning: false,
  cache: new Map(),      // cache key -> { data, stale } or { promise }
  undo: [],              // verdicts made here: { id, old }
  gPending: 0,
  indexSeq: 0,
  pairSeq: 0,
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
const indexUrl = () => withQs('/', state.filterQs, { offset: state.offset || '' });

function day(iso) { return iso ? iso.slice(0, 10) : '?'; }

let toastTimer = 0;
function toast(msg) {
  const t = $('#toast');
  t.textContent = msg;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 1600);
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

// ---- routing ---------------------------------------------------------------

function setView(name) {
  state.view = name;
  for (const v of ['index', 'pair', 'item']) $(`#view-${v}`).hidden = v !== name;
}

function route() {
  const u = new URL(location.href);
  state.filterQs = canonicalFilter(u.searchParams);
  state.offset = Math.max(0, parseInt(u.searchParams.get('offset'), 10) || 0);
  showError(null);
  let m;
  if ((m = u.pathname.match(/^\/pair\/(\d+)$/))) showPair(Number(m[1]));
  else if ((m = u.pathname.match(/^\/item\/(\d+)\/(.+)$/))) showItem(m[1], decodeURIComponent(m[2]));
  else showIndex();
}

function go(url, replace) {
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
  route();
}

// ---- index -------------------------------------------------------------------

function syncForm() {
  const p = new URLSearchParams(state.filterQs);
  for (const f of $('#filters').elements) if (f.name && document.activeElement !== f) f.value = p.get(f.name) || '';
}

async function showIndex() {
  setView('index');
  document.title = 'doppel';
  syncForm();
  const seq = ++state.indexSeq;
  try {
    const d = await api(withQs('/api/pairs', state.filterQs, { offset: state.offset || '', limit: PAGE }));
    if (seq !== state.indexSeq) return;
    renderIndex(d);
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
  if (withKind && it.kind) cell.append(el('span', 'kind', it.kind === 'pull request' ? 'PR' : 'issue'));
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
  $('#counts').textContent = `${d.total} pair${d.total === 1 ? '' : 's'} · ${d.reviewed} reviewed`;
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
    tr.append(v, el('td', `rel rel-${p.relation}`, p.relation), el('td', `conf conf-${p.confidence}`, p.confidence),
              itemCell(p.query, false), itemCell(p.cand, true), verdictCell(p.verdict));
    frag.append(tr);
  });
  tb.replaceChildren(frag);
  $('#empty').hidden = d.pairs.length > 0;
  const from = d.total ? d.offset + 1 : 0;
  $('#page-info').textContent = `${from}–${d.offset + d.pairs.length} of ${d.total}`;
  $('[data-action="page-prev"]').disabled = d.offset === 0;
  $('[data-action="page-next"]').disabled = d.offset + d.pairs.length >= d.total;
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

function moveSel(delta) {
  const n = state.rows.length;
  const t = state.sel + delta;
  if (t >= n && !$('[data-action="page-next"]').disabled) {
    state.lastPairId = 0;
    turnPage(PAGE);
  } else if (t < 0 && state.offset > 0) {
    state.lastPairId = 0;
    state.selAfterLoad = 'last';
    turnPage(-PAGE);
  } else {
    select(t);
  }
}

function turnPage(delta) {
  state.offset = Math.max(0, state.offset + delta);
  go(indexUrl());
}

function openSelected() {
  const p = state.rows[state.sel];
  if (p) go(pairUrl(p.id));
}

let textTimer = 0;
function filtersChanged(immediate) {
  const form = $('#filters');
  const p = new URLSearchParams();
  for (const f of form.elements) if (f.name && f.value.trim()) p.set(f.name, f.value.trim());
  clearTimeout(textTimer);
  const apply = () => {
    state.lastPairId = 0;
    go(withQs('/', canonicalFilter(p)), true);
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

function cap(s) { return s ? s[0].toUpperCase() + s.slice(1) : ''; }

function renderVerdict(v) {
  const b = $('#verdict');
  b.hidden = !v;
  b.className = `verdict-badge ${v ? `v-${v}` : ''}`;
  b.textContent = v ? `verdict: ${VERDICT_NAMES[v] || v}` : '';
  for (const btn of document.querySelectorAll('[data-action="verdict"]'))
    btn.setAttribute('aria-pressed', String(btn.dataset.verdict === v));
}

function renderPair(d) {
  const fresh = !state.pair || state.pair.pair.id !== d.pair.id;
  state.pair = d;
  const p = d.pair;
  setLink($('#q-link'), d.query);
  setLink($('#c-link'), d.cand);
  $('#pair-meta').textContent = `${cap(p.relation)} · ${p.confidence} · value ${p.value.toFixed(3)}`;
  $('#back').href = indexUrl();
  renderVerdict(p.verdict);
  $('[data-action="prev"]').disabled = !d.prev;
  $('[data-action="next"]').disabled = !d.next;
  document.title = `${d.query.display} ↔ ${d.cand.display} · doppel`;
  if (!fresh) return;
  const ev = $('#evidence');
  ev.replaceChildren(...(p.reasoning || '').split('\n').filter(Boolean).map((l) => el('li', '', l)));
  const vt = $('#value-detail tbody');
  vt.replaceChildren(...(p.value_detail || '').split('\n').filter(Boolean).map((l) => {
    const i = l.lastIndexOf(':');
    const tr = el('tr');
    tr.append(el('td', '', i > 0 ? l.slice(0, i) : l), el('td', 'num', i > 0 ? l.slice(i + 1).trim() : ''));
    return tr;
  }));
  $('#comment').textContent = p.suggested_comment || '';
  renderItem($('#pane-q'), 'query', d.query);
  renderItem($('#pane-c'), 'candidate', d.cand);
  $('#pane-q').scrollTop = 0;
  $('#pane-c').scrollTop = 0;
  showPane(state.pane, false);
}

function renderItem(pane, role, it) {
  $('.pane-head', pane).textContent = `${role} · ${it.kind || 'item'}`.toUpperCase();
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
    if (it.comments) meta.append(el('span', 'sep', '·'), el('span', '', `${it.comments} comment${it.comments === 1 ? '' : 's'}`));
    for (const [name, v] of [['type', it.type], ['priority', it.priority]])
      if (v) meta.append(el('span', 'sep', '·'), el('span', '', `${name} ${v}`));
    frag.append(meta);
    const labels = el('p', 'labels');
    for (const l of it.labels || []) {
      const s = el('span', `label ${colorClass(l.color)}`, l.name);
      labels.append(s, ' ');
    }
    for (const c of [...(it.components || []), ...(it.versions || [])]) labels.append(el('span', 'label plain', c), ' ');
    if (labels.childNodes.length) frag.append(labels);
    const body = renderedHtml(it.body_html);
    if (!body.textContent.trim()) body.replaceChildren(el('p', 'muted', 'No description.'));
    frag.append(body);
    const comments = renderComments(it);
    if (comments) frag.append(comments);
  }
  box.replaceChildren(frag);
}

// A div.md holding server-rendered HTML (cmark-gfm safe-mode output).
function renderedHtml(html) {
  const div = el('div', 'md');
  div.innerHTML = html || '';
  // cmark empties dangerous URLs; an empty href would reload this page.
  for (const img of div.querySelectorAll('img')) if (!img.getAttribute('src')) img.replaceWith(img.alt || '');
  for (const a of div.querySelectorAll('a[href]')) {
    const href = a.getAttribute('href');
    if (!href) { a.removeAttribute('href'); continue; }
    if (href.startsWith('/')) continue;
    a.target = '_blank';
    a.rel = 'noreferrer noopener nofollow';
  }
  return div;
}

// The item's comments, collapsed under the body: "N comments".
function renderComments(it) {
  const list = it.comment_list || [];
  if (!list.length) return null;
  const total = Math.max(it.comment_total || 0, list.length);
  const det = el('details', 'comments');
  det.append(el('summary', '', `${total} comment${total === 1 ? '' : 's'}`));
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

function showPane(which, focus) {
  state.pane = which;
  $('#panes').dataset.show = which;
  $('#tab-q').setAttribute('aria-selected', String(which === 'q'));
  $('#tab-c').setAttribute('aria-selected', String(which === 'c'));
  const pane = $(`#pane-${which}`);
  $('#pane-q').classList.toggle('active', which === 'q');
  $('#pane-c').classList.toggle('active', which === 'c');
  if (focus) pane.focus({ preventScroll: true });
}

function toggleReasoning(force) {
  state.reasoning = force === undefined ? !state.reasoning : force;
  $('#reasoning').hidden = !state.reasoning;
  $('[data-action="reasoning"]').setAttribute('aria-expanded', String(state.reasoning));
}

function step(dir) {
  const d = state.pair;
  if (!d) return;
  const id = dir > 0 ? d.next : d.prev;
  if (id) go(pairUrl(id));
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
  if (d.next && state.pair === d) go(pairUrl(d.next));
}

async function undo() {
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
    go(pairUrl(last.id));
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
  const d = state.pair;
  if (!d) return;
  toast(await copyText(d.pair.suggested_comment || '') ? 'copied' : 'copy failed');
}

// ---- item ------------------------------------------------------------------

async function showItem(repo, key) {
  setView('item');
  try {
    const d = await api(`/api/items/${encodeURIComponent(repo)}/${encodeURIComponent(key)}`);
    setLink($('#i-link'), d.item);
    document.title = `${d.item.display} · doppel`;
    renderItem($('#pane-i'), 'item', d.item);
  } catch (e) {
    showError(e.status === 404 ? { message: `no item ${key}` } : e);
  }
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

const PAIR_KEYS = {
  j: () => step(1), ArrowDown: () => step(1), n: () => step(1),
  k: () => step(-1), ArrowUp: () => step(-1), p: () => step(-1),
  1: () => showPane('q', true), ArrowLeft: () => showPane('q', true), h: () => showPane('q', true),
  2: () => showPane('c', true), ArrowRight: () => showPane('c', true), l: () => showPane('c', true),
  c: copyComment, r: () => toggleReasoning(),
  d: () => setVerdict('duplicate'), e: () => setVerdict('related'), x: () => setVerdict('not_related'),
  u: undo,
};
const INDEX_KEYS = {
  j: () => moveSel(1), ArrowDown: () => moveSel(1), n: () => moveSel(1),
  k: () => moveSel(-1), ArrowUp: () => moveSel(-1), p: () => moveSel(-1),
  Enter: openSelected, '/': () => $('#filters [name="text"]').focus(),
};

function onKey(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const k = ev.key;
  if (typing(ev.target)) {
    if (k === 'Escape') ev.target.blur();
    return;
  }
  if (helpOpen()) {
    if (k === 'Escape' || k === '?') { ev.preventDefault(); closeHelp(); }
    else if (k === 'Tab') trapTab(ev);
    return;
  }
  if (state.gPending) {
    state.gPending = 0;
    if (k === 'i') { ev.preventDefault(); go(indexUrl()); return; }
  }
  if (k === 'g') { state.gPending = Date.now(); setTimeout(() => { state.gPending = 0; }, 1500); return; }
  if (k === '?') { ev.preventDefault(); openHelp(); return; }
  if (k === 'Escape') return;
  const table = state.view === 'pair' ? PAIR_KEYS : state.view === 'index' ? INDEX_KEYS : {};
  if (k === 'Enter' && ev.target.closest && ev.target.closest('a, button')) return;
  const fn = table[k];
  if (!fn) return;
  ev.preventDefault();
  fn();
}

// ---- wiring ----------------------------------------------------------------

function onClick(ev) {
  const btn = ev.target.closest('[data-action]');
  if (btn) {
    const a = btn.dataset.action;
    if (a === 'help') openHelp();
    else if (a === 'close-help') closeHelp();
    else if (a === 'verdict') setVerdict(btn.dataset.verdict);
    else if (a === 'undo') undo();
    else if (a === 'reasoning') toggleReasoning();
    else if (a === 'copy') copyComment();
    else if (a === 'prev') step(-1);
    else if (a === 'next') step(1);
    else if (a === 'pane') showPane(btn.dataset.pane, true);
    else if (a === 'page-prev') turnPage(-PAGE);
    else if (a === 'page-next') turnPage(PAGE);
    return;
  }
  if (ev.target === $('#help')) { closeHelp(); return; }
  const link = ev.target.closest('a[href]');
  if (link) {
    const href = link.getAttribute('href');
    if (href.startsWith('/') && !href.startsWith('//') && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey && ev.button === 0) {
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

document.addEventListener('keydown', onKey);
document.addEventListener('click', onClick);
window.addEventListener('popstate', route);
$('#filters').addEventListener('submit', (ev) => ev.preventDefault());
$('#filters').addEventListener('change', (ev) => { if (ev.target.name !== 'text') filtersChanged(true); });
$('#filters').addEventListener('input', (ev) => { if (ev.target.name === 'text' || ev.target.name === 'label') filtersChanged(false); });
narrow.addEventListener('change', () => showPane(state.pane, false));

api('/api/meta').then((m) => {
  const dl = $('#label-list');
  const names = [...new Set(m.labels.map((l) => l.name))].sort();
  dl.replaceChildren(...names.map((n) => { const o = el('option'); o.value = n; return o; }));
}).catch(() => {});

route();
