/* idgraph explorer: search a component, draw it with Cytoscape.js, explain why two aliases are linked, and
 * act on the profile's merge suggestions (merge with a reason, or dismiss).
 *
 * Everything shown comes from the admin query API with the token from sessionStorage as a bearer header.
 * Data is put into the page with textContent only (aliases and event properties are user input).
 */
(function () {
  'use strict';

  const TOKEN_KEY = 'idgraph.explorer.token';
  const GRAPH_LIMIT = 500; // nodes asked of /profiles/{id}/graph by default; the API says when it truncated
  const MAX_LIMIT = 2000; // the most a #limit= in the address may ask for
  const COSE_MAX_NODES = 150; // above this, a concentric layout (linear time) instead of the force layout
  const EVENT_PAGES = 10; // pages of /profiles/{id}/events read when listing one session's events
  const SUGGESTION_LIMIT = 50; // suggestions listed for one profile; the panel says when there are more
  const ALIAS_TYPES = ['email', 'phone', 'customer_id', 'user_id', 'anonymous_id', 'device_id'];

  const $ = (id) => document.getElementById(id);
  const state = { profile: null, graph: null, pick: [], cy: null, loadSeq: 0, limit: GRAPH_LIMIT };

  // ---------------------------------------------------------------- DOM helpers (no innerHTML with data)
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }
  function status(message, isError) {
    const box = $('status');
    box.textContent = message || '';
    box.classList.toggle('error', Boolean(isError));
  }
  function fmtTime(value) {
    if (!value) return '—';
    const d = new Date(value);
    return isNaN(d) ? String(value) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }
  function fmtValue(value) {
    if (value === null || value === undefined) return '—';
    if (typeof value === 'object') return JSON.stringify(value);
    return String(value);
  }
  function shorten(text, max) {
    text = String(text || '');
    return text.length > max ? text.slice(0, max - 1) + '…' : text;
  }

  // ---------------------------------------------------------------- API
  class ApiError extends Error {
    constructor(status, detail) {
      super(detail || 'HTTP ' + status);
      this.status = status;
    }
  }
  const enc = encodeURIComponent;
  // A URN goes in the path (/aliases/{urn:path}); keep ':' readable, escape everything else that matters.
  const encUrn = (urn) => enc(urn).replace(/%3A/gi, ':').replace(/%40/g, '@');

  // GET by default; `write` ({method, body}) for the few calls that change something (body sent as JSON).
  async function api(path, token, write) {
    const bearer = token || sessionStorage.getItem(TOKEN_KEY);
    const headers = { Authorization: 'Bearer ' + bearer, Accept: 'application/json' };
    const init = { headers, credentials: 'omit', cache: 'no-store' };
    if (write) {
      init.method = write.method;
      if (write.body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(write.body);
      }
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      throw new ApiError(0, 'the server did not answer (' + err.message + ')');
    }
    if (!response.ok) {
      let detail = response.statusText;
      try {
        const body = await response.json();
        detail = body.detail || body.title || detail;
        const fields = (body.errors || []).map((e) => [e.path, e.message].filter(Boolean).join(' ')).filter(Boolean);
        if (fields.length) detail += ' (' + fields.join('; ') + ')';
      } catch (_) { /* not JSON */ }
      if (response.status === 401 && !token) signOut('The token was refused; sign in again.');
      throw new ApiError(response.status, detail);
    }
    if (response.status === 204) return null;
    return response.json();
  }
  const apiWrite = (method, path, body) => api(path, null, { method, body });

  // ---------------------------------------------------------------- sign-in
  function signedIn() {
    return Boolean(sessionStorage.getItem(TOKEN_KEY));
  }
  function showSignIn(message) {
    $('search-form').hidden = true;
    $('account').hidden = true;
    $('workspace').hidden = true;
    $('signin-error').textContent = message || '';
    const dialog = $('signin');
    if (!dialog.open) dialog.showModal();
    $('token').focus();
  }
  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (state.cy) state.cy.elements().remove();
    showSignIn(message);
  }
  function enterApp() {
    const dialog = $('signin');
    if (dialog.open) dialog.close();
    $('search-form').hidden = false;
    $('account').hidden = false;
    $('workspace').hidden = false;
    ensureCy();
    $('search').focus();
    // The page's address keeps the search: #q=<alias, profile or session>[&limit=<max nodes>].
    const params = new URLSearchParams(location.hash.slice(1));
    const limit = parseInt(params.get('limit') || '', 10);
    if (limit > 0) state.limit = Math.min(limit, MAX_LIMIT);
    const fromHash = params.get('q');
    if (fromHash) {
      $('search').value = fromHash;
      search(fromHash);
    }
  }
  async function onSignIn(event) {
    event.preventDefault();
    const token = $('token').value.trim();
    if (!token) return;
    $('signin-btn').disabled = true;
    $('signin-error').textContent = '';
    try {
      await api('/sources', token); // any guarded endpoint: 200 means the token is right
      sessionStorage.setItem(TOKEN_KEY, token);
      $('token').value = '';
      enterApp();
    } catch (err) {
      $('signin-error').textContent = err.status === 401 ? 'That token is not the admin token.' : err.message;
    } finally {
      $('signin-btn').disabled = false;
    }
  }

  // ---------------------------------------------------------------- Cytoscape
  const STYLE = [
    {
      selector: 'node',
      style: {
        label: 'data(label)', 'font-size': 9, color: '#333', 'text-valign': 'bottom', 'text-margin-y': 3,
        width: 18, height: 18, 'border-width': 1, 'border-color': '#fff', 'min-zoomed-font-size': 7,
        'text-background-color': '#fff', 'text-background-opacity': 0.7, 'text-background-padding': 1,
      },
    },
    { selector: 'node.profile', style: { shape: 'hexagon', width: 36, height: 36, 'background-color': '#1d2430', 'font-size': 10, 'font-weight': 'bold' } },
    { selector: 'node.session', style: { shape: 'round-rectangle', width: 24, height: 16, 'background-color': '#f2c14e', 'border-color': '#b68a1c' } },
    { selector: 'node.profile_id', style: { shape: 'diamond', width: 13, height: 13, 'background-color': '#c7ccd4', 'font-size': 7 } },
    { selector: 'node.event', style: { width: 8, height: 8, 'background-color': '#aab', label: '' } },
    { selector: 'node.t-email', style: { 'background-color': '#1f77b4' } },
    { selector: 'node.t-phone', style: { 'background-color': '#2ca02c' } },
    { selector: 'node.t-customer_id', style: { 'background-color': '#ff7f0e' } },
    { selector: 'node.t-user_id', style: { 'background-color': '#9467bd' } },
    { selector: 'node.t-anonymous_id', style: { 'background-color': '#8c8c8c' } },
    { selector: 'node.t-device_id', style: { 'background-color': '#8c564b' } },
    { selector: 'node.t-other', style: { 'background-color': '#17becf' } },
    // A shared alias (a weak id seen with different people, such as a kiosk's device id): a dashed ring.
    { selector: 'node.shared', style: { width: 22, height: 22, 'border-width': 2.5, 'border-style': 'dashed', 'border-color': '#d62728' } },
    { selector: 'edge', style: { width: 1.5, 'line-color': '#98a2b3', 'curve-style': 'straight', opacity: 0.9 } },
    { selector: 'edge.BELONGS_TO', style: { width: 1, 'line-color': '#c9ced6', 'line-style': 'dashed', opacity: 0.6 } },
    { selector: 'edge.HAS_ALIAS', style: { width: 2, 'line-color': '#6b7686' } },
    { selector: 'edge.CLAIMED', style: { 'line-color': '#9467bd', 'line-style': 'dotted' } },
    { selector: 'edge.REFUSED_ALIAS', style: { width: 2, 'line-color': '#d62728', 'line-style': 'dashed' } },
    { selector: 'edge.BOUND_TO', style: { width: 1, 'line-color': '#d5d9e0' } },
    { selector: 'edge.MERGED_WITH', style: { width: 3, 'line-color': '#1b6e20' } }, // an operator's manual merge
    { selector: 'node.picked', style: { 'border-width': 3, 'border-color': '#2458d3' } },
    { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#2458d3' } },
    { selector: '.faded', style: { opacity: 0.15 } },
    // Big components draw alias labels only on the chain, the selection and the picks (legible, and faster).
    { selector: 'node.quiet', style: { label: '' } },
    { selector: 'node.quiet.path, node.quiet:selected, node.quiet.picked', style: { label: 'data(label)' } },
    { selector: 'node.path', style: { 'border-width': 4, 'border-color': '#e0007a', opacity: 1, 'z-index': 10, 'font-weight': 'bold' } },
    { selector: 'edge.path', style: { width: 5, 'line-color': '#e0007a', 'line-style': 'solid', opacity: 1, 'z-index': 10 } },
  ];

  function ensureCy() {
    if (state.cy) return state.cy;
    if (typeof window.cytoscape !== 'function') {
      status('The graph library is missing from this build: run `make explorer-assets` and reload.', true);
      return null;
    }
    state.cy = window.cytoscape({
      container: $('graph'),
      style: STYLE,
      minZoom: 0.05,
      maxZoom: 4,
      boxSelectionEnabled: false,
    });
    window.cy = state.cy; // for tests and for the curious in the console
    state.cy.on('tap', 'node', (evt) => onNodeTap(evt.target));
    return state.cy;
  }

  function aliasBucket(type) {
    return ALIAS_TYPES.includes(type) ? type : 'other';
  }
  function urnType(urn) {
    const m = /^urn:([a-z0-9_]+):/.exec(urn || '');
    return m ? m[1] : null;
  }
  function rawId(nodeId) {
    const i = nodeId.indexOf(':');
    return i < 0 ? nodeId : nodeId.slice(i + 1);
  }
  function nodeLabel(n) {
    const label = n.label || rawId(n.id);
    if (n.kind === 'alias') return shorten(label.replace(/^urn:[a-z0-9_]+:/, ''), 28);
    if (n.kind === 'profile') return 'profile ' + shorten(rawId(n.id), 10);
    if (n.kind === 'session') return shorten(label, 22);
    return shorten(label, 14);
  }

  function toElements(graph) {
    const ids = new Set();
    const elements = [];
    for (const n of graph.nodes || []) {
      if (!n || !n.id || ids.has(n.id)) continue;
      ids.add(n.id);
      const classes = [n.kind];
      let type = n.type || null;
      if (n.kind === 'alias') {
        type = type || urnType(n.label || rawId(n.id));
        classes.push('t-' + aliasBucket(type));
        if (n.shared) classes.push('shared');
      }
      elements.push({
        group: 'nodes',
        data: { id: n.id, kind: n.kind, type: type, label: nodeLabel(n), full: n.label || rawId(n.id),
          shared: Boolean(n.shared) },
        classes: classes.join(' '),
      });
    }
    let dangling = 0;
    (graph.edges || []).forEach((e, i) => {
      if (!ids.has(e.source) || !ids.has(e.target)) {
        dangling += 1; // the other end was cut by the node cap
        return;
      }
      elements.push({
        group: 'edges',
        data: { id: 'e' + i, source: e.source, target: e.target, kind: e.kind },
        classes: e.kind,
      });
    });
    return { elements, dangling };
  }

  function layoutOptions(cy) {
    const count = cy.nodes().length;
    if (count <= COSE_MAX_NODES) {
      return {
        name: 'cose', animate: false, randomize: true, fit: true, padding: 40, numIter: 1500,
        nodeRepulsion: () => 9000, idealEdgeLength: (edge) => (edge.data('kind') === 'BELONGS_TO' ? 90 : 55),
        edgeElasticity: (edge) => (edge.data('kind') === 'BELONGS_TO' ? 200 : 80), nodeDimensionsIncludeLabels: true,
      };
    }
    return { name: 'preset', positions: clusterPositions(cy), fit: true, padding: 30, animate: false };
  }

  // Big components: a linear-time layout that still shows the structure. The profile in the middle, sessions
  // on a ring around it, each session's own aliases and id handles in a small sunflower disc around it, and
  // aliases shared by several sessions between them (at the mean of their sessions).
  function clusterPositions(cy) {
    const GOLDEN = Math.PI * (3 - Math.sqrt(5));
    const STEP = 13;
    const disc = (center, j) => ({
      x: center.x + STEP * Math.sqrt(j + 1) * Math.cos(j * GOLDEN),
      y: center.y + STEP * Math.sqrt(j + 1) * Math.sin(j * GOLDEN),
    });
    const positions = {};
    const owners = new Map(); // node id -> session ids it hangs off
    const sessions = cy.nodes('.session').map((n) => n.id());
    for (const sid of sessions) {
      cy.getElementById(sid).connectedEdges().not('.BELONGS_TO').connectedNodes().forEach((n) => {
        if (n.id() === sid || n.hasClass('session') || n.hasClass('profile')) return;
        if (!owners.has(n.id())) owners.set(n.id(), []);
        owners.get(n.id()).push(sid);
      });
    }
    const own = new Map(sessions.map((sid) => [sid, []]));
    for (const [id, sids] of owners) if (sids.length === 1) own.get(sids[0]).push(id);
    const radius = (sid) => STEP * Math.sqrt(own.get(sid).length + 1) + 30;
    const circumference = sessions.reduce((sum, sid) => sum + 2 * radius(sid), 0);
    const ring = Math.max(160, circumference / (2 * Math.PI));
    let angle = 0;
    for (const sid of sessions) {
      const r = radius(sid);
      angle += r / ring;
      const center = { x: ring * Math.cos(angle), y: ring * Math.sin(angle) };
      positions[sid] = center;
      own.get(sid).forEach((id, j) => { positions[id] = disc(center, j + 2); });
      angle += r / ring;
    }
    let loose = 0;
    cy.nodes().forEach((n) => {
      const id = n.id();
      if (positions[id]) return;
      if (n.hasClass('profile')) {
        positions[id] = { x: 0, y: 0 };
        return;
      }
      const sids = owners.get(id) || [];
      if (sids.length > 1) {
        const mean = sids.reduce((m, sid) => ({ x: m.x + positions[sid].x / sids.length, y: m.y + positions[sid].y / sids.length }), { x: 0, y: 0 });
        positions[id] = disc(mean, (loose += 1) % 7); // a little jitter so shared aliases do not pile up
      } else {
        positions[id] = disc({ x: 0, y: 0 }, 4 + (loose += 1)); // no session: around the profile
      }
    });
    return positions;
  }

  function drawGraph(graph) {
    const cy = ensureCy();
    if (!cy) return;
    const { elements, dangling } = toElements(graph);
    const shown = elements.filter((x) => x.group === 'nodes').length;
    cy.startBatch();
    cy.elements().remove();
    cy.add(elements);
    if (shown > COSE_MAX_NODES) cy.nodes('.alias, .profile_id').addClass('quiet');
    cy.endBatch();
    cy.layout(layoutOptions(cy)).run();
    $('empty-hint').hidden = shown > 0;

    const notice = $('truncated');
    if (graph.truncated) {
      const total = graph.node_count ? ' of ' + graph.node_count : '';
      notice.textContent = 'Truncated: showing the first ' + shown + total + ' nodes of this component' +
        (dangling ? ' (' + dangling + ' links to nodes not shown are hidden)' : '') + '.';
      notice.hidden = false;
    } else {
      notice.hidden = true;
      notice.textContent = '';
    }
    $('graph').dataset.profile = graph.profile && graph.profile.id ? graph.profile.id : '';
    $('graph').dataset.nodes = String(shown);
  }

  // ---------------------------------------------------------------- search and load
  async function resolve(query) {
    if (/^urn:/i.test(query)) {
      const alias = await api('/aliases/' + encUrn(query));
      return { profileId: alias.profile && alias.profile.id, focus: 'alias:' + alias.urn, what: 'alias ' + alias.urn };
    }
    try {
      const profile = await api('/profiles/' + enc(query));
      return { profileId: profile.id, focus: 'profile:' + profile.id, what: 'profile ' + profile.id };
    } catch (err) {
      if (err.status !== 404) throw err;
    }
    try {
      const session = await api('/sessions/' + enc(query));
      if (!session.profile || !session.profile.id) {
        throw new ApiError(404, 'session ' + query + ' is profile-less: it belongs to no profile');
      }
      return { profileId: session.profile.id, focus: 'session:' + session.id, what: 'session ' + session.id };
    } catch (err) {
      if (err.status === 404 && !/profile-less/.test(err.message)) {
        throw new ApiError(404, 'no alias, profile or session “' + query + '”');
      }
      throw err;
    }
  }

  // `note`: what the status line says once the profile is shown (it is cleared otherwise).
  async function search(query, note) {
    query = (query || '').trim();
    if (!query) return;
    const seq = ++state.loadSeq;
    $('search-btn').disabled = true;
    status('Looking up ' + query + ' …');
    try {
      const found = await resolve(query);
      if (seq !== state.loadSeq) return;
      history.replaceState(null, '', '#q=' + enc(query) + (state.limit !== GRAPH_LIMIT ? '&limit=' + state.limit : ''));
      await loadProfile(found.profileId, found.focus, seq, note);
    } catch (err) {
      if (seq === state.loadSeq && err.status !== 401) status(err.message, true);
    } finally {
      if (seq === state.loadSeq) $('search-btn').disabled = false;
    }
  }

  // Open a profile (or anything the search box takes) as if it had been searched.
  function openProfile(id, note) {
    $('search').value = id;
    return search(id, note);
  }

  async function loadProfile(profileId, focus, seq, note) {
    status('Loading profile ' + profileId + ' …');
    const profile = await api('/profiles/' + enc(profileId));
    const pid = profile.id; // a merged-away id answers with the survivor
    // Everything the side panel shows is asked for at once and drawn in one go, so nothing moves under a click.
    const [graph, merges, suggestions] = await Promise.allSettled([
      api('/profiles/' + enc(pid) + '/graph?events=false&limit=' + state.limit),
      api('/profiles/' + enc(pid) + '/merges'),
      api('/merge-suggestions?limit=' + SUGGESTION_LIMIT + '&profile_id=' + enc(pid)),
    ]);
    if (seq !== state.loadSeq) return;
    state.profile = profile;
    state.graph = graph.status === 'fulfilled' ? graph.value : null;
    state.pick = [];
    renderProfile(profile);
    renderSuggestions(suggestions, pid);
    renderTraits(profile.traits || {});
    renderAudit(merges);
    renderWhyOptions(profile, state.graph);
    resetSelection();
    clearPath();
    if (state.graph) {
      status('Laying out ' + (state.graph.nodes || []).length + ' nodes …');
      // Let the browser paint the panels before the layout runs.
      await new Promise((resolveFrame) => requestAnimationFrame(() => setTimeout(resolveFrame, 0)));
      if (seq !== state.loadSeq) return;
      drawGraph(state.graph);
      const target = state.cy && focus ? state.cy.getElementById(focus) : null;
      if (target && target.nonempty()) target.select();
      status(note || '');
    } else {
      if (state.cy) state.cy.elements().remove();
      $('truncated').hidden = true;
      status('Could not load the graph: ' + graph.reason.message + (note ? ' — ' + note : ''), true);
    }
    $('graph').dataset.loaded = pid;
  }

  // ---------------------------------------------------------------- side panel
  function renderProfile(profile) {
    const facts = clear($('profile-facts'));
    const rows = [
      ['id', profile.id],
      ['aliases', (profile.aliases || []).length],
      ['sessions', profile.session_count],
      ['events', profile.event_count],
      ['first seen', fmtTime(profile.first_seen)],
      ['last seen', fmtTime(profile.last_seen)],
    ];
    for (const [k, v] of rows) facts.append(el('dt', { text: k }), el('dd', { text: fmtValue(v) }));
    const merged = clear($('merged-ids'));
    const ids = profile.merged_ids || [];
    if (!ids.length) merged.append(el('li', { class: 'muted', text: 'none' }));
    for (const id of ids) merged.append(el('li', { text: id }));
  }

  function renderTraits(traits) {
    const body = clear($('traits').tBodies[0]);
    const keys = Object.keys(traits).sort();
    if (!keys.length) body.append(el('tr', {}, el('td', { class: 'muted', text: 'no traits' })));
    for (const key of keys) {
      let value = traits[key];
      if (/(^|_)(seen|at|time)$/.test(key) && typeof value === 'string') value = fmtTime(value);
      body.append(el('tr', {}, el('td', { text: key }), el('td', { text: fmtValue(value) })));
    }
  }

  function renderAudit(result) {
    const list = clear($('audit'));
    if (result.status !== 'fulfilled') {
      list.append(el('li', { class: 'error', text: 'audit unavailable: ' + result.reason.message }));
      return;
    }
    const items = result.value.items || [];
    if (!items.length) list.append(el('li', { class: 'muted', text: 'no merges or refusals' }));
    for (const item of items) {
      const props = Object.entries(item.properties || {}).map(([k, v]) => k + ': ' + fmtValue(v)).join(' · ');
      list.append(el('li', { dataset: { type: item.type } },
        el('span', { class: 'badge ' + item.type, text: item.type }), ' ',
        el('span', { class: 'muted small', text: fmtTime(item.time) }),
        props ? el('div', { class: 'props', text: props }) : null));
    }
  }

  // ---------------------------------------------------------------- merge suggestions
  function renderSuggestions(result, pid) {
    const list = clear($('suggestions'));
    if (result.status !== 'fulfilled') {
      $('suggestion-count').textContent = '';
      list.append(el('li', { class: 'error', text: 'suggestions unavailable: ' + result.reason.message }));
      $('suggestions-box').open = true;
      list.dataset.loaded = pid;
      return;
    }
    const items = result.value.items || [];
    // Open when there is something to decide (set here, as the panel is drawn, never later under a click).
    $('suggestions-box').open = items.length > 0;
    for (const suggestion of items) list.append(suggestionRow(suggestion, pid));
    if (result.value.next_cursor) {
      list.append(el('li', { class: 'muted small more', text: 'only the first ' + items.length + ' are listed' }));
    }
    updateSuggestionCount();
    list.dataset.loaded = pid;
  }

  function updateSuggestionCount() {
    const list = $('suggestions');
    const rows = list.querySelectorAll('li.suggestion').length;
    $('suggestion-count').textContent = rows ? '(' + rows + (list.querySelector('li.more') ? '+' : '') + ')' : '(none)';
    const none = list.querySelector('li.none');
    if (!rows && !none) list.prepend(el('li', { class: 'muted none', text: 'none' }));
    if (rows && none) none.remove();
  }

  function suggestionRow(suggestion, pid) {
    const other = suggestion.profile_a === pid ? suggestion.profile_b : suggestion.profile_a;
    const refusals = suggestion.refusals || 0;
    const row = el('li', { class: 'suggestion', dataset: { other } });
    const reason = el('input', {
      type: 'text', class: 'reason', required: true, maxlength: 1000, spellcheck: 'false',
      placeholder: 'Reason (required): why they are one person', 'aria-label': 'Reason for merging with ' + other,
    });
    const actions = el('div', { class: 'actions' });
    const form = el('form', { class: 'merge-form', autocomplete: 'off', hidden: true },
      reason,
      el('div', { class: 'actions' },
        el('button', { type: 'submit', class: 'confirm-merge', text: 'Merge' }),
        el('button', { type: 'button', class: 'link cancel-merge', text: 'Cancel',
          onclick: () => { form.hidden = true; actions.hidden = false; } })));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      mergeWith(pid, other, reason, row);
    });
    actions.append(
      el('button', { type: 'button', class: 'merge', text: 'Merge…', title: 'Merge this profile with ' + other,
        onclick: () => { actions.hidden = true; form.hidden = false; reason.focus(); } }),
      el('button', { type: 'button', class: 'link dismiss', text: 'Dismiss', title: 'Never suggest this pair again',
        onclick: () => dismissSuggestion(pid, other, row) }));
    row.append(
      el('div', {}, 'with profile ',
        el('button', { type: 'button', class: 'profile-link', text: other, title: 'Open profile ' + other,
          onclick: () => openProfile(other) })),
      el('div', { class: 'small' }, el('span', { class: 'muted', text: 'linking aliases: ' }),
        ...(suggestion.aliases || []).flatMap((urn, i) => [i ? ', ' : '', el('code', { class: 'urn', text: urn })])),
      el('div', { class: 'small muted' },
        refusals + ' refused link' + (refusals === 1 ? '' : 's') + ' · last seen ' + fmtTime(suggestion.last_seen)),
      actions, form);
    return row;
  }

  function busy(row, on) {
    for (const node of row.querySelectorAll('button, input')) node.disabled = on;
    row.classList.toggle('busy', on);
  }

  async function mergeWith(pid, other, input, row) {
    const reason = input.value.trim();
    if (!reason) {
      status('A merge needs a reason: say why the two profiles are one person.', true);
      input.focus();
      return;
    }
    busy(row, true);
    delete $('graph').dataset.loaded; // set again once the surviving profile is shown
    status('Merging profile ' + other + ' with ' + pid + ' …');
    let merged;
    try {
      merged = await apiWrite('POST', '/profiles/' + enc(pid) + '/merge', { with: other, reason });
    } catch (err) {
      busy(row, false);
      if (state.profile) $('graph').dataset.loaded = state.profile.id;
      if (err.status !== 401) status('Merge failed: ' + err.message, true);
      return;
    }
    const note = merged.merged_id
      ? 'Merged profile ' + merged.merged_id + ' into ' + merged.survivor_id + ' (audit event ' + merged.audit_event_id + ').'
      : 'Already one profile: ' + merged.survivor_id + '.';
    await openProfile(merged.survivor_id, note);
  }

  async function dismissSuggestion(pid, other, row) {
    busy(row, true);
    try {
      await apiWrite('DELETE', '/merge-suggestions/' + enc(pid) + '/' + enc(other));
    } catch (err) {
      busy(row, false);
      if (err.status !== 401) status('Dismiss failed: ' + err.message, true);
      return;
    }
    const stillShown = row.isConnected;
    row.remove();
    if (stillShown) updateSuggestionCount();
    status('Dismissed: profile ' + other + ' will not be suggested with ' + pid + ' again.');
  }

  function aliasUrns(profile, graph) {
    const urns = new Set(profile.aliases || []);
    for (const n of (graph && graph.nodes) || []) if (n.kind === 'alias') urns.add(n.label || rawId(n.id));
    return Array.from(urns).sort();
  }

  function renderWhyOptions(profile, graph) {
    const urns = aliasUrns(profile, graph);
    for (const id of ['why-from', 'why-to']) {
      const select = clear($(id));
      select.append(el('option', { value: '', text: urns.length ? '— pick an alias —' : 'no aliases' }));
      for (const urn of urns) select.append(el('option', { value: urn, text: urn }));
    }
    clear($('why-result'));
    delete $('why-result').dataset.status;
    updateWhyButton();
  }

  function updateWhyButton() {
    const a = $('why-from').value;
    const b = $('why-to').value;
    $('why-btn').disabled = !(a && b && a !== b);
  }

  function resetSelection(title) {
    $('selection-title').textContent = title || 'Selection';
    return clear($('selection'));
  }

  function onNodeTap(node) {
    const kind = node.data('kind');
    const id = rawId(node.id());
    if (kind === 'session') showSession(id);
    else if (kind === 'alias') pickAlias(node.data('full'), node);
    else if (kind === 'event') showEvent(id, resetSelection('Event'));
    else if (kind === 'profile' || kind === 'profile_id') {
      const box = resetSelection(kind === 'profile' ? 'Profile node' : 'Profile id handle');
      box.append(el('p', { class: 'small' }, el('code', { text: id }),
        kind === 'profile_id' ? ' — an id this profile was issued or absorbed in a merge; it resolves here.' : ''));
    }
  }

  // ---------------------------------------------------------------- aliases and "why linked?"
  function pickAlias(urn, node) {
    // Click one alias, then another: the two become "from" and "to", and the chain is asked for.
    if (state.pick.length >= 2) state.pick = [];
    state.pick.push(urn);
    if (state.cy) {
      state.cy.nodes('.picked').removeClass('picked');
      for (const u of state.pick) state.cy.getElementById('alias:' + u).addClass('picked');
    }
    $('why-from').value = state.pick[0] || '';
    $('why-to').value = state.pick[1] || '';
    updateWhyButton();
    showAlias(urn);
    if (state.pick.length === 2 && state.pick[0] !== state.pick[1]) whyLinked();
    return node;
  }

  async function showAlias(urn) {
    const box = resetSelection('Alias');
    const head = el('p', {}, el('code', { text: urn }));
    box.append(head);
    try {
      const alias = await api('/aliases/' + encUrn(urn));
      if (alias.shared) {
        head.append(' ', el('span', { class: 'badge shared', text: 'shared' }));
        box.append(el('p', { class: 'small muted', text: 'A weak id seen with different people (a kiosk, a family ' +
          'tablet): it keeps the links it has and makes no new ones.' }));
      }
      const dl = el('dl');
      for (const [k, v] of [['type', alias.type], ['value', alias.value], ['profile', alias.profile && alias.profile.id],
        ['shared', alias.shared ? 'yes' : 'no'],
        ['first seen', fmtTime(alias.first_seen)], ['last seen', fmtTime(alias.last_seen)]]) {
        dl.append(el('dt', { text: k }), el('dd', { text: fmtValue(v) }));
      }
      box.append(dl);
    } catch (err) {
      if (err.status !== 401) box.append(el('p', { class: 'error', text: err.message }));
    }
  }

  function clearPath() {
    if (state.cy) {
      state.cy.remove('.path-extra');
      state.cy.elements().removeClass('path faded');
    }
    $('clear-path').disabled = true;
  }

  function isLink(item) {
    return item && typeof item === 'object' && 'source' in item && 'target' in item;
  }

  function highlightPath(path) {
    // Highlight the chain; steps the drawn graph lacks (cut by the node cap, or evidence the component view
    // does not draw, such as one event holding both aliases) are added for as long as the chain is shown.
    const cy = state.cy;
    if (!cy) return { added: 0 };
    clearPath();
    const steps = path.filter((item) => !isLink(item) && item && item.id);
    let added = 0;
    steps.forEach((item, i) => {
      if (cy.getElementById(item.id).nonempty()) return;
      const near = [steps[i - 1], steps[i + 1]]
        .map((s) => s && cy.getElementById(s.id))
        .filter((n) => n && n.nonempty());
      const pos = near.length
        ? { x: near.reduce((a, n) => a + n.position('x'), 0) / near.length + 25,
            y: near.reduce((a, n) => a + n.position('y'), 0) / near.length + 25 }
        : { x: 0, y: 0 };
      const kind = item.kind || 'other';
      cy.add({ group: 'nodes', position: pos, classes: kind + ' path-extra',
        data: { id: item.id, kind: kind, label: nodeLabel(item), full: item.label || rawId(item.id) } });
      added += 1;
    });
    let chain = cy.collection();
    for (const item of steps) chain = chain.union(cy.getElementById(item.id));
    path.filter(isLink).forEach((link, i) => {
      const between = cy.edges().filter((e) =>
        (e.data('source') === link.source && e.data('target') === link.target) ||
        (e.data('source') === link.target && e.data('target') === link.source));
      const sameKind = between.filter((e) => e.data('kind') === link.kind);
      let edges = sameKind.nonempty() ? sameKind : between;
      if (edges.empty() && cy.getElementById(link.source).nonempty() && cy.getElementById(link.target).nonempty()) {
        edges = cy.add({ group: 'edges', classes: link.kind + ' path-extra',
          data: { id: 'path-link-' + i, source: link.source, target: link.target, kind: link.kind } });
        added += 1;
      }
      chain = chain.union(edges);
    });
    cy.elements().not(chain).addClass('faded');
    chain.addClass('path');
    $('clear-path').disabled = false;
    if (cy.nodes().length > 60 || added) cy.fit(cy.nodes().length > 60 ? chain : undefined, 40);
    return { added };
  }

  async function whyLinked() {
    const from = $('why-from').value;
    const to = $('why-to').value;
    const out = clear($('why-result'));
    delete out.dataset.status;
    if (!from || !to || from === to) return;
    $('why-btn').disabled = true;
    out.append(el('p', { class: 'muted', text: 'Asking the graph …' }));
    try {
      const answer = await api('/paths?from=' + enc(from) + '&to=' + enc(to));
      clear(out);
      if (!answer.connected) {
        clearPath();
        out.append(el('p', { class: 'bad', text: 'Not linked: these aliases are in no common profile.' }));
        if (answer.reason) out.append(el('p', { class: 'small muted', text: answer.reason }));
        out.dataset.status = 'not-connected';
        return;
      }
      const path = answer.path || [];
      const { added } = highlightPath(path);
      const hops = path.filter(isLink).length;
      out.append(el('p', { class: 'ok', text: 'Linked in ' + hops + ' hop' + (hops === 1 ? '' : 's') + ':' }));
      // One numbered step per node; the link to the next node is written under it.
      const list = el('ol');
      let step = null;
      for (const item of path) {
        if (isLink(item)) {
          if (step) step.append(el('div', { class: 'link-kind', text: '↓ ' + item.kind }));
        } else {
          step = el('li', { dataset: { node: item.id } },
            el('span', { class: 'muted small', text: item.kind + ' ' }), item.label || rawId(item.id));
          list.append(step);
        }
      }
      out.append(list);
      if (added) {
        out.append(el('p', { class: 'small muted', text: added + ' element(s) of the chain were not on the graph and are drawn for now.' }));
      }
      out.dataset.status = 'connected';
    } catch (err) {
      clear(out);
      if (err.status !== 401) out.append(el('p', { class: 'error', text: err.message }));
      out.dataset.status = 'error';
    } finally {
      updateWhyButton();
    }
  }

  // ---------------------------------------------------------------- sessions and events
  async function sessionEvents(profileId, sessionId, expected) {
    // No per-session listing in the API: page through the profile's events (newest first) and keep this session's.
    const found = [];
    let cursor = null;
    for (let page = 0; page < EVENT_PAGES; page++) {
      const url = '/profiles/' + enc(profileId) + '/events?limit=100' + (cursor ? '&cursor=' + enc(cursor) : '');
      const body = await api(url);
      for (const ev of body.items || []) {
        const sid = (ev.session && ev.session.id) || ev.session_id;
        if (sid === sessionId) found.push(ev);
      }
      cursor = body.next_cursor;
      if (!cursor || (expected && found.length >= expected)) return { events: found, complete: true };
    }
    return { events: found, complete: false };
  }

  async function showSession(sessionId) {
    const box = resetSelection('Session');
    box.append(el('p', {}, el('code', { text: sessionId })));
    const seq = state.loadSeq;
    try {
      const session = await api('/sessions/' + enc(sessionId));
      const dl = el('dl');
      for (const [k, v] of [['source', session.source_id], ['events', session.event_count],
        ['aliases', (session.aliases || []).join(', ') || 'none (anonymous)'],
        ['first seen', fmtTime(session.first_seen)], ['last seen', fmtTime(session.last_seen)]]) {
        dl.append(el('dt', { text: k }), el('dd', { text: fmtValue(v) }));
      }
      box.append(dl, el('h3', { text: 'Events' }));
      const list = el('ol', { id: 'events' }, el('li', { class: 'muted', text: 'loading …' }));
      box.append(list);
      const pid = (session.profile && session.profile.id) || (state.profile && state.profile.id);
      let result;
      try {
        result = await sessionEvents(pid, sessionId, session.event_count);
      } catch (err) {
        if (err.status === 401) return;
        clear(list).append(el('li', { class: 'error', text: 'events unavailable: ' + err.message }));
        return;
      }
      if (seq !== state.loadSeq) return;
      clear(list);
      if (!result.events.length) list.append(el('li', { class: 'muted', text: 'no events stored' }));
      for (const ev of result.events) {
        const detail = el('div');
        list.append(el('li', { dataset: { eventId: ev.id } },
          el('button', { class: 'event', type: 'button', text: ev.type, onclick: () => showEvent(ev.id, detail) }),
          ' ', el('span', { class: 'muted small', text: fmtTime(ev.time) }), detail));
      }
      if (!result.complete) list.append(el('li', { class: 'muted small', text: 'only the most recent events are listed' }));
      list.dataset.loaded = sessionId;
    } catch (err) {
      if (err.status !== 401) box.append(el('p', { class: 'error', text: err.message }));
    }
  }

  async function showEvent(eventId, target) {
    if (target.firstChild) {
      clear(target); // a second click folds it
      return;
    }
    target.append(el('p', { class: 'muted small', text: 'loading …' }));
    try {
      const ev = await api('/events/' + enc(eventId));
      clear(target).append(el('pre', { class: 'json',
        text: JSON.stringify({ id: ev.id, type: ev.type, time: ev.time, aliases: ev.aliases,
          properties: ev.properties, context: ev.context }, null, 2) }));
    } catch (err) {
      clear(target).append(el('p', { class: 'error', text: err.message }));
    }
  }

  // ---------------------------------------------------------------- wiring
  function init() {
    $('signin-form').addEventListener('submit', onSignIn);
    $('signin').addEventListener('cancel', (e) => e.preventDefault()); // no Escape past the sign-in
    $('sign-out').addEventListener('click', () => signOut(''));
    $('search-form').addEventListener('submit', (e) => {
      e.preventDefault();
      search($('search').value);
    });
    $('why-from').addEventListener('change', () => { state.pick = []; updateWhyButton(); });
    $('why-to').addEventListener('change', () => { state.pick = []; updateWhyButton(); });
    $('why-btn').addEventListener('click', whyLinked);
    $('fit').addEventListener('click', () => state.cy && state.cy.fit(undefined, 30));
    $('clear-path').addEventListener('click', () => {
      clearPath();
      clear($('why-result'));
      delete $('why-result').dataset.status;
    });
    updateWhyButton();
    if (signedIn()) enterApp();
    else showSignIn('');
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
