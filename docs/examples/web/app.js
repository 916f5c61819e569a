// A small chat view over `mtproto2json serve --http`: sign in, the dialogs, a chat's history,
// live messages through EventSource and a send box. No framework and no build step: every call is
// a fetch of POST /v1/{method}, and the account handle is an HttpOnly cookie, so the page's own
// script never holds it and EventSource (which cannot send headers) carries it too.

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
$("api").value = params.get("api") ?? "http://127.0.0.1:8080";
$("api-id").value = params.get("api_id") ?? "";
$("api-hash").value = params.get("api_hash") ?? "";

/** serve's address, as typed (no trailing slash). */
const api = () => $("api").value.replace(/\/+$/, "");
/** `user:1000002` → what the dialog list and the history know of that peer. */
const peers = new Map();
/** The open chat's key, and the ids of the messages it shows (a live copy is not shown twice). */
let open;
let shown = new Set();
let phoneCodeHash;

/** A call of the line protocol: the method's parameters in, its result out; errors thrown. */
async function call(method, params = {}) {
  const response = await fetch(`${api()}/v1/${method}`, {
    method: "POST",
    credentials: "include", // the handle cookie, from serve's other port
    headers: { "content-type": "application/json" },
    body: JSON.stringify(params),
  });
  const value = await response.json();
  if (!response.ok) {
    const error = new Error(value.error_message ?? value.msg ?? `${method}: ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return value;
}

function showError(error) {
  $("error").textContent = error ? String(error.message ?? error) : "";
}

/** The key of a peer (`peerUser`, `inputPeerUser`, …) as the page's maps use it. */
function keyOf(peer) {
  if (peer.user_id !== undefined) return `user:${peer.user_id}`;
  if (peer.chat_id !== undefined) return `chat:${peer.chat_id}`;
  return `channel:${peer.channel_id}`;
}

/** Remembers the users and chats an answer or an update carries, with what addresses them. */
function learn({ users = [], chats = [] }) {
  for (const user of users) {
    const known = peers.get(`user:${user.id}`) ?? {};
    peers.set(`user:${user.id}`, {
      ...known,
      name: [user.first_name, user.last_name].filter(Boolean).join(" ") || `user ${user.id}`,
      input: { _cons: "inputPeerUser", user_id: user.id, access_hash: user.access_hash ?? "0" },
    });
  }
  for (const chat of chats) {
    const key = chat._cons.startsWith("channel") ? `channel:${chat.id}` : `chat:${chat.id}`;
    peers.set(key, {
      ...(peers.get(key) ?? {}),
      name: chat.title,
      input: key.startsWith("channel")
        ? { _cons: "inputPeerChannel", channel_id: chat.id, access_hash: chat.access_hash ?? "0" }
        : { _cons: "inputPeerChat", chat_id: chat.id },
    });
  }
}

/** Signs in with the phone and the code; the handle becomes a cookie on serve's address. */
async function signIn(event) {
  event.preventDefault();
  showError();
  try {
    const phone = $("phone").value.trim();
    const line = $("session").value.trim();
    if (line !== "") {
      // A session line as signin prints it: the account is signed in already.
      await newHandle(line);
      await setOptions();
      const [me] = await call("users.getUsers", { id: [{ _cons: "inputUserSelf" }] });
      await start(me);
      return;
    }
    if (phoneCodeHash === undefined) {
      await newHandle("");
      await setOptions();
      const sent = await call("auth.sendCode", {
        phone_number: phone,
        api_id: Number($("api-id").value),
        api_hash: $("api-hash").value,
        settings: { _cons: "codeSettings" },
      });
      phoneCodeHash = sent.phone_code_hash;
      $("code-label").hidden = false;
      $("signin-button").textContent = "Sign in";
      $("code").focus();
      return;
    }
    const signed = await call("auth.signIn", {
      phone_number: phone,
      phone_code_hash: phoneCodeHash,
      phone_code: $("code").value.trim(),
    });
    await start(signed.user);
  } catch (error) {
    showError(error);
  }
}

/** A new account handle, as a cookie on serve's address; `line`: a session line, or nothing. */
async function newHandle(line) {
  const made = await fetch(`${api()}/v1/sessions?cookie=1`, {
    method: "POST",
    credentials: "include",
    headers: { "content-type": "application/json" },
    body: line,
  });
  if (!made.ok) {
    const refused = await made.json().catch(() => ({}));
    throw new Error(refused.msg ?? refused.error ?? `POST /v1/sessions: ${made.status}`);
  }
}

/** 64-bit integers as strings: JavaScript's numbers would round an access hash. */
function setOptions() {
  return fetch(`${api()}/v1/call`, {
    method: "POST",
    credentials: "include",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ options: { longs_as_strings: true } }),
  });
}

/** Signed in: shows the dialogs and starts listening. */
async function start(me) {
  $("signin").hidden = true;
  $("app").hidden = false;
  $("me").textContent = [me.first_name, me.last_name].filter(Boolean).join(" ");
  await loadDialogs();
  listen();
}

async function loadDialogs() {
  const answer = await call("messages.getDialogs", {
    offset_date: 0,
    offset_id: 0,
    offset_peer: { _cons: "inputPeerEmpty" },
    limit: 50,
    hash: 0,
  });
  learn(answer);
  const tops = new Map(answer.messages.map((message) => [
    `${keyOf(message.peer_id)}:${message.id}`,
    message,
  ]));
  $("dialogs").replaceChildren();
  for (const dialog of answer.dialogs) {
    const key = keyOf(dialog.peer);
    const top = tops.get(`${key}:${dialog.top_message}`);
    $("dialogs").append(dialogItem(key, top?.message ?? ""));
  }
}

function dialogItem(key, last) {
  const item = document.createElement("li");
  item.dataset.peer = key;
  const name = document.createElement("div");
  name.className = "name";
  name.textContent = peers.get(key)?.name ?? key;
  const text = document.createElement("div");
  text.className = "last";
  text.textContent = last;
  item.append(name, text);
  item.classList.toggle("open", key === open);
  item.onclick = () => openChat(key).catch(showError);
  return item;
}

async function openChat(key) {
  open = key;
  shown = new Set();
  for (const item of $("dialogs").children) {
    item.classList.toggle("open", item.dataset.peer === key);
  }
  $("title").textContent = peers.get(key).name;
  $("compose").hidden = false;
  $("history").replaceChildren();
  const answer = await call("messages.getHistory", {
    peer: peers.get(key).input,
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: 30,
    max_id: 0,
    min_id: 0,
    hash: 0,
  });
  learn(answer);
  // Newest first on the wire; oldest first on the screen.
  for (const message of [...answer.messages].reverse()) show(message);
  $("text").focus();
}

/** Adds a message to the open chat (once), scrolled into view. */
function show(message) {
  if (message._cons !== "message" || shown.has(message.id)) return;
  shown.add(message.id);
  const bubble = document.createElement("div");
  bubble.className = message.out ? "message out" : "message";
  bubble.dataset.id = message.id;
  if (!message.out && message.from_id && !open.startsWith("user:")) {
    const from = document.createElement("span");
    from.className = "from";
    from.textContent = peers.get(keyOf(message.from_id))?.name ?? "";
    bubble.append(from);
  }
  bubble.append(message.message);
  $("history").append(bubble);
  bubble.scrollIntoView({ block: "end" });
}

/** A new message, from the stream or just sent: into its chat, and its dialog to the top. */
function arrived(message) {
  const key = keyOf(message.peer_id);
  if (key === open) show(message);
  $("dialogs").querySelector(`[data-peer="${key}"]`)?.remove();
  $("dialogs").prepend(dialogItem(key, message.message));
}

/**
 * The account's updates as Server-Sent Events: each event's id is its cursor, so the browser
 * resumes after a drop by Last-Event-ID by itself, missing nothing and repeating nothing.
 */
function listen() {
  const events = new EventSource(`${api()}/v1/updates`, { withCredentials: true });
  events.addEventListener("synced", () => {
    $("status").textContent = "live";
    $("status").className = "live";
  });
  events.onerror = () => {
    $("status").textContent = "reconnecting";
    $("status").className = "";
  };
  events.onmessage = (event) => {
    const line = JSON.parse(event.data);
    const updates = line.message ?? {};
    learn(updates);
    for (const update of updates.updates ?? []) {
      if (update._cons === "updateNewMessage" || update._cons === "updateNewChannelMessage") {
        arrived(update.message);
      }
    }
  };
}

async function send(event) {
  event.preventDefault();
  const text = $("text").value;
  if (!open || text === "") return;
  $("text").value = "";
  const randomId = crypto.getRandomValues(new BigInt64Array(1))[0].toString();
  try {
    const sent = await call("messages.sendMessage", {
      peer: peers.get(open).input,
      message: text,
      random_id: randomId,
    });
    // A private chat answers updateShortSentMessage (the id only); others send full updates,
    // which the stream brings as well.
    if (sent._cons === "updateShortSentMessage") {
      arrived({ _cons: "message", id: sent.id, out: true, peer_id: peerOf(open), message: text });
    }
  } catch (error) {
    $("text").value = text;
    showError(error);
  }
}

function peerOf(key) {
  const [type, id] = key.split(":");
  return type === "user"
    ? { _cons: "peerUser", user_id: id }
    : type === "chat"
    ? { _cons: "peerChat", chat_id: id }
    : { _cons: "peerChannel", channel_id: id };
}

$("signin").onsubmit = signIn;
$("compose").onsubmit = send;

// A handle cookie from an earlier visit signs the page in again.
if (params.has("api")) {
  setOptions()
    .then((answer) => answer.ok ? call("users.getUsers", { id: [{ _cons: "inputUserSelf" }] }) : [])
    .then(([me]) => me && start(me))
    .catch(() => {});
}
