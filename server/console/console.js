// Sportello operator console: the desk's open tickets and counts, kept live over the GraphQL
// WebSocket (graphql-transport-ws). Every piece of data goes into the page as text
// (textContent), never as HTML.

const TOKEN_KEY = 'sportello.console.token';
const OPEN = ['SUBMITTED', 'IN_PROGRESS', 'WAITING_FOR_CITIZEN'];
// Close codes after which reconnecting with the same token cannot help.
const FATAL_CLOSE = new Set([4400, 4401, 4403, 4406]);
const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 30000;
const ACK_TIMEOUT_MS = 10000;
const GONE_AFTER_MS = 15000; // how long a ticket that left the open statuses stays, marked

const LABELS = {
  status: {
    SUBMITTED: 'Inviata', IN_PROGRESS: 'In lavorazione', WAITING_FOR_CITIZEN: 'In attesa del cittadino',
    RESOLVED: 'Risolta', REJECTED: 'Respinta', CLOSED: 'Chiusa',
  },
  kind: {
    INFORMATION: 'Informazione', ASSISTANCE: 'Assistenza', PETITION: 'Istanza', PROPOSAL: 'Proposta',
    COMPLAINT: 'Reclamo', REPORT: 'Segnalazione', SUGGESTION: 'Suggerimento',
  },
  channel: {
    WEB: 'Web', APP: 'App', COUNTER: 'Sportello', PHONE: 'Telefono', EMAIL: 'E-mail', PEC: 'PEC',
    POST: 'Posta', SOCIAL: 'Social',
  },
};

// Why the server closed the connection, in words for the desk (the server's own reason follows).
const CLOSE_TEXT = {
  1000: 'connessione chiusa',
  1001: 'il server si sta riavviando: riprendo dall\'ultimo evento',
  1006: 'connessione interrotta',
  1011: 'errore interno del server',
  1013: 'server sovraccarico: riprendo dall\'ultimo evento',
  4400: 'richiesta non valida',
  4401: 'sessione scaduta o non autenticata',
  4403: 'accesso negato: token non valido, scaduto o senza i permessi di operatore',
  4406: 'protocollo non supportato',
  4408: 'il server non ha confermato la connessione in tempo',
  4429: 'troppe richieste di connessione',
  4500: 'errore interno del server',
};

const TICKET_FIELDS = `id protocolNumber kind channel status subject createdAt updatedAt dueAt overdue
  citizen { fullName } office { name } assignee { name }`;
const LIST_QUERY = `query ConsoleOpenTickets {
  tickets(first: 100, filter: {statuses: [SUBMITTED, IN_PROGRESS, WAITING_FOR_CITIZEN]}) {
    totalCount edges { node { ${TICKET_FIELDS} } } } }`;
// No status filter: the events of tickets leaving the open statuses are needed too.
const EVENTS_SUB = `subscription ConsoleTicketEvents($after: String) {
  ticketEvents(after: $after) { cursor type at actor { kind name } ticket { ${TICKET_FIELDS} } } }`;
const DASHBOARD_SUB = `subscription ConsoleDashboard { dashboardChanged {
  at overdue openByStatus { status count } filedToday { channel count } } }`;

const $ = (id) => document.getElementById(id);
const dateFmt = new Intl.DateTimeFormat('it-IT', { timeZone: 'Europe/Rome', day: '2-digit', month: '2-digit', year: 'numeric' });
const timeFmt = new Intl.DateTimeFormat('it-IT', { timeZone: 'Europe/Rome', hour: '2-digit', minute: '2-digit', second: '2-digit' });

const state = {
  token: '',
  ws: null,
  session: 0,        // bumped on every (re)connection and logout, to drop stale callbacks
  attempt: 0,        // consecutive failed connections, for the backoff
  cursor: null,      // the last ticket event processed: where a new subscription resumes
  liveSince: 0,
  timers: {},
  tickets: new Map(), // id -> ticket as last seen
  seenAt: new Map(),  // id -> when the page last received it (Date.now())
  listLoaded: false,
};

// ---- connection state --------------------------------------------------------------------------

const STATE_LABEL = {
  idle: 'Non connesso', connecting: 'Connessione…', live: 'In diretta',
  reconnecting: 'Riconnessione…', error: 'Errore',
};

function setConn(name, detail = '') {
  $('conn').dataset.state = name;
  $('conn-label').textContent = STATE_LABEL[name];
  $('conn-detail').textContent = detail;
  $('retry').hidden = name !== 'reconnecting';
}

function describeClose(ev) {
  const words = CLOSE_TEXT[ev.code] || 'connessione chiusa';
  return `${words} (${ev.code}${ev.reason ? ' ' + ev.reason : ''})`;
}

function clearTimer(name) {
  clearTimeout(state.timers[name]);
  delete state.timers[name];
}

function later(name, ms, fn) {
  clearTimer(name);
  state.timers[name] = setTimeout(fn, ms);
}

// ---- WebSocket (graphql-transport-ws) ----------------------------------------------------------

function connect() {
  disconnect();
  const session = ++state.session;
  setConn(state.attempt ? 'reconnecting' : 'connecting');
  const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;
  let ws;
  try {
    ws = new WebSocket(url, 'graphql-transport-ws');
  } catch (err) {
    scheduleReconnect(String(err));
    return;
  }
  state.ws = ws;
  const send = (msg) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg)); };
  ws.onopen = () => {
    send({ type: 'connection_init', payload: { Authorization: `Bearer ${state.token}` } });
    later('ack', ACK_TIMEOUT_MS, () => { ws.onclose({ code: 4408, reason: '' }); ws.close(); });
  };
  ws.onmessage = (e) => {
    if (session !== state.session) return;
    let msg;
    try { msg = JSON.parse(e.data); } catch { return; }
    switch (msg.type) {
      case 'connection_ack':
        clearTimer('ack');
        state.liveSince = Date.now();
        setConn('live');
        send({ id: 'events', type: 'subscribe', payload: { query: EVENTS_SUB, variables: { after: state.cursor } } });
        send({ id: 'dashboard', type: 'subscribe', payload: { query: DASHBOARD_SUB } });
        // Without a cursor, events may have been missed: load the list, once the server has
        // started the subscriptions (it answers dashboardChanged at once), or after a while.
        if (!state.cursor) later('list', 2000, () => loadTickets(session));
        break;
      case 'ping':
        send({ type: 'pong', payload: msg.payload });
        break;
      case 'next':
        if (msg.id === 'events') onTicketEvent(msg.payload, session);
        if (msg.id === 'dashboard' && onDashboard(msg.payload, session) && state.timers.list) {
          clearTimer('list');
          loadTickets(session);
        }
        break;
      case 'error':
        onSubscriptionError(msg.id, msg.payload, session);
        break;
      case 'complete':
        // The server ended a subscription on its own (after an error, the handling of the
        // error already moved to a new session): start over, resuming from the cursor.
        scheduleReconnect('il server ha chiuso l\'aggiornamento');
        break;
    }
  };
  ws.onclose = (ev) => {
    if (session !== state.session || state.ws !== ws) return;
    state.ws = null;
    clearTimer('ack');
    clearTimer('list');
    const why = describeClose(ev);
    if (FATAL_CLOSE.has(ev.code)) {
      fail(why);
      return;
    }
    if (state.liveSince && Date.now() - state.liveSince > 10000) state.attempt = 0;
    scheduleReconnect(why);
  };
  ws.onerror = () => {}; // a close event follows, with the code
}

function disconnect() {
  clearTimer('retry');
  clearTimer('ack');
  clearTimer('list');
  state.liveSince = 0;
  const ws = state.ws;
  state.ws = null;
  state.session++;
  if (ws) { try { ws.close(1000); } catch { /* already closed */ } }
}

// fail stops for a reason that the same token cannot overcome, and asks for a new token; the
// table stays, as it was last seen.
function fail(why) {
  disconnect();
  setConn('error', why);
  $('login-error').textContent = `Connessione rifiutata: ${why}. Incolla un token valido.`;
  $('login').hidden = false;
  $('dashboard').hidden = !$('dashboard').dataset.ready;
  $('queue').hidden = !state.listLoaded;
}

// Reconnects after an exponential backoff with full jitter, so that a restarted server is not
// hit by every desk at the same instant.
function scheduleReconnect(why) {
  disconnect();
  const cap = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** state.attempt);
  const delay = Math.round(cap / 2 + Math.random() * cap / 2);
  state.attempt++;
  setConn('reconnecting', `${why} — nuovo tentativo tra ${Math.ceil(delay / 1000)} s`);
  later('retry', delay, connect);
}

function onSubscriptionError(id, errors, session) {
  const list = Array.isArray(errors) ? errors : [];
  const code = list[0]?.extensions?.code;
  const message = list.map((e) => e.message).join('; ') || 'errore';
  if (id === 'events' && state.cursor && code === 'BAD_USER_INPUT') {
    // The cursor is no longer valid: start afresh from the current list.
    state.cursor = null;
    state.attempt = 0;
    scheduleReconnect('ricarico l\'elenco');
    return;
  }
  if (code === 'FORBIDDEN' || code === 'UNAUTHENTICATED') {
    const words = code === 'FORBIDDEN' ? 'il token non è di un operatore' : 'token non valido o scaduto';
    fail(`${words} (${code}: ${message})`);
    return;
  }
  if (session === state.session) scheduleReconnect(`${message}${code ? ` (${code})` : ''}`);
}

// ---- data --------------------------------------------------------------------------------------

async function loadTickets(session) {
  $('list-error').textContent = '';
  const requestedAt = Date.now();
  let body;
  try {
    const res = await fetch('/graphql', {
      method: 'POST', cache: 'no-store', credentials: 'omit',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${state.token}` },
      body: JSON.stringify({ query: LIST_QUERY }),
    });
    body = await res.json().catch(() => ({ errors: [{ message: `HTTP ${res.status}` }] }));
    if (res.status === 401 || res.status === 403) {
      if (session === state.session) fail(`${body.errors?.[0]?.message || 'accesso negato'} (HTTP ${res.status})`);
      return;
    }
  } catch (err) {
    body = { errors: [{ message: String(err) }] };
  }
  if (session !== state.session) return;
  const nodes = body.data?.tickets?.edges?.map((e) => e.node);
  if (!nodes) {
    const e = body.errors?.[0];
    $('list-error').textContent = `Impossibile caricare le pratiche: ${e?.message || 'errore'}${e?.extensions?.code ? ` (${e.extensions.code})` : ''}. Nuovo tentativo tra poco.`;
    later('list', 5000, () => loadTickets(session));
    return;
  }
  // The list replaces whatever was received before it was asked for; what events brought since
  // stays, and applyTicket keeps the newer of two snapshots of a ticket.
  const listed = new Set(nodes.map((t) => t.id));
  for (const id of [...state.tickets.keys()]) {
    if (!listed.has(id) && state.seenAt.get(id) < requestedAt) removeTicket(id);
  }
  for (const t of nodes) applyTicket(t, null);
  state.listLoaded = true;
  $('tickets-count').textContent = body.data.tickets.totalCount > nodes.length
    ? `(le ${nodes.length} più recenti di ${body.data.tickets.totalCount})` : '';
  updateEmpty();
}

function onTicketEvent(payload, session) {
  const ev = payload?.data?.ticketEvents;
  if (!ev) {
    if (payload?.errors) onSubscriptionError('events', payload.errors, session);
    return;
  }
  state.cursor = ev.cursor;
  applyTicket(ev.ticket, ev.type);
}

// applyTicket puts a ticket, from the list or an event, into the table. Snapshots older than
// the one shown are ignored, so that replays and overlaps never undo newer data.
function applyTicket(t, eventType) {
  const old = state.tickets.get(t.id);
  if (old && Date.parse(t.updatedAt) < Date.parse(old.updatedAt)) return;
  const open = OPEN.includes(t.status);
  if (!open && !old) return;
  state.tickets.set(t.id, t);
  state.seenAt.set(t.id, Date.now());
  const row = renderRow(t);
  if (!open) {
    row.classList.add('gone');
    announce(`Pratica ${t.protocolNumber}: ${LABELS.status[t.status] || t.status}`);
    later(`gone-${t.id}`, GONE_AFTER_MS, () => {
      const cur = state.tickets.get(t.id);
      if (cur && !OPEN.includes(cur.status)) removeTicket(t.id);
    });
  } else {
    row.classList.remove('gone');
    clearTimer(`gone-${t.id}`);
    if (eventType && !old) {
      flash(row, 'is-new');
      announce(`Nuova pratica ${t.protocolNumber}: ${t.subject}`);
    } else if (eventType && old && (old.status !== t.status || old.office?.name !== t.office?.name ||
        old.assignee?.name !== t.assignee?.name)) {
      flash(row, 'is-changed');
    }
  }
  updateEmpty();
}

function removeTicket(id) {
  state.tickets.delete(id);
  state.seenAt.delete(id);
  clearTimer(`gone-${id}`);
  rowFor(id)?.remove();
  updateEmpty();
}

// onDashboard shows the counts; it reports whether the payload had them.
function onDashboard(payload, session) {
  const d = payload?.data?.dashboardChanged;
  if (!d) {
    if (payload?.errors) onSubscriptionError('dashboard', payload.errors, session);
    return false;
  }
  $('dash-at').textContent = `· aggiornata alle ${timeFmt.format(new Date(d.at))}`;
  const status = $('dash-status');
  status.replaceChildren(...d.openByStatus.map((s) => pair(LABELS.status[s.status] || s.status, s.count, s.status)));
  const total = d.openByStatus.reduce((n, s) => n + s.count, 0);
  status.prepend(pair('Aperte', total, 'OPEN'));
  $('dash-overdue').textContent = String(d.overdue);
  $('dash-overdue').closest('.card').classList.toggle('alert', d.overdue > 0);
  const today = d.filedToday.filter((c) => c.count > 0);
  $('dash-today-total').textContent = String(d.filedToday.reduce((n, c) => n + c.count, 0));
  $('dash-today').replaceChildren(...(today.length ? today.map((c) => {
    const li = el('li', '', `${LABELS.channel[c.channel] || c.channel} `);
    li.append(el('strong', '', String(c.count)));
    return li;
  }) : [el('li', 'muted', 'nessuna')]));
  $('dashboard').dataset.ready = 'true';
  return true;
}

// ---- rendering ---------------------------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function pair(label, value, key) {
  const div = el('div');
  div.dataset.key = key;
  div.append(el('dt', '', label), el('dd', '', String(value)));
  return div;
}

function rowFor(id) {
  for (const tr of $('tickets').tBodies[0].rows) if (tr.dataset.ticketId === id) return tr;
  return null;
}

function isOverdue(t) {
  return OPEN.includes(t.status) && (t.overdue || Date.parse(t.dueAt) < Date.now());
}

// The deadline is the end of its last day; a millisecond earlier names that day whether the
// server writes it as 23:59:59.999 or as the next midnight.
function dueDay(t) {
  return dateFmt.format(new Date(Date.parse(t.dueAt) - 1));
}

// The column headers, repeated on each cell for the narrow layout, where rows become cards.
const COLUMN_LABEL = {
  protocol: 'Protocollo', kind: 'Tipo', channel: 'Canale', status: 'Stato', subject: 'Oggetto',
  citizen: 'Cittadino', office: 'Ufficio', assignee: 'Assegnata a', due: 'Scadenza',
};

function renderRow(t) {
  let tr = rowFor(t.id);
  if (!tr) {
    tr = document.createElement('tr');
    tr.dataset.ticketId = t.id;
    // Newest first: insert before the first row filed earlier.
    const created = Date.parse(t.createdAt);
    const before = [...$('tickets').tBodies[0].rows].find((r) => Number(r.dataset.created) < created);
    $('tickets').tBodies[0].insertBefore(tr, before || null);
  }
  tr.dataset.created = String(Date.parse(t.createdAt));
  tr.dataset.status = t.status;
  const overdue = isOverdue(t);
  tr.classList.toggle('overdue', overdue);

  const status = cell('status');
  status.dataset.status = t.status;
  status.append(el('span', `badge s-${t.status.toLowerCase()}`, LABELS.status[t.status] || t.status));

  const due = cell('due');
  due.append(el('time', '', dueDay(t)));
  due.firstChild.dateTime = t.dueAt;
  if (overdue) due.append(' ', el('span', 'badge late', 'Scaduta'));

  const cells = [
    cell('protocol', t.protocolNumber),
    cell('kind', LABELS.kind[t.kind] || t.kind),
    cell('channel opt', LABELS.channel[t.channel] || t.channel),
    status,
    cell('subject', t.subject),
    t.citizen ? cell('citizen', t.citizen.fullName) : cell('citizen anon', 'anonimo'),
    t.office ? cell('office', t.office.name) : cell('office muted', 'non assegnata'),
    t.assignee ? cell('assignee opt', t.assignee.name) : cell('assignee opt muted', '—'),
    due,
  ];
  tr.replaceChildren(...cells);
  return tr;
}

function cell(className, text) {
  const td = el('td', className, text);
  td.dataset.col = className.split(' ')[0];
  td.dataset.label = COLUMN_LABEL[td.dataset.col];
  return td;
}

function flash(row, cls) {
  row.classList.remove('is-new', 'is-changed');
  void row.offsetWidth; // restart the animation
  row.classList.add(cls);
  setTimeout(() => row.classList.remove(cls), 6000);
}

function announce(text) {
  $('announce').textContent = text;
}

function updateEmpty() {
  $('tickets-empty').hidden = !state.listLoaded || state.tickets.size > 0;
}

// Deadlines pass while the page is open: refresh the overdue markers every minute.
setInterval(() => { for (const t of state.tickets.values()) renderRow(t); }, 60000);

// ---- sign-in -----------------------------------------------------------------------------------

function start(token) {
  state.token = token;
  state.attempt = 0;
  state.cursor = null;
  state.listLoaded = false;
  for (const id of [...state.tickets.keys()]) removeTicket(id);
  $('login').hidden = true;
  $('login-error').textContent = '';
  delete $('dashboard').dataset.ready;
  $('dashboard').hidden = false;
  $('queue').hidden = false;
  $('logout').hidden = false;
  connect();
}

function logout() {
  disconnect();
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = '';
  for (const id of [...state.tickets.keys()]) removeTicket(id);
  $('login').hidden = false;
  $('dashboard').hidden = true;
  $('queue').hidden = true;
  $('logout').hidden = true;
  setConn('idle');
  $('token').value = '';
  $('token').focus();
}

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const token = $('token').value.trim().replace(/^Bearer\s+/i, '');
  if (!token) {
    $('login-error').textContent = 'Incolla un token.';
    return;
  }
  $('login-error').textContent = '';
  $('token').value = '';
  sessionStorage.setItem(TOKEN_KEY, token);
  start(token);
});
$('logout').addEventListener('click', logout);
$('retry').addEventListener('click', () => { state.attempt = 0; connect(); });
window.addEventListener('online', () => { if (state.timers.retry) { state.attempt = 0; connect(); } });

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) start(saved);
