// Dashboard page: camera tiles and shot history, kept live by the /events stream.
//
// Every string that comes from a camera or the server is put into the page with textContent
// or a DOM property, never parsed as markup.
"use strict";

const svgNamespace = "http://www.w3.org/2000/svg";
const lowBatteryRatio = 0.2;
const lowStorageRatio = 0.1;
const shownShots = 20;

let lastShotId = null;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined && text !== null) {
    node.textContent = String(text);
  }
  return node;
}

function svgElement(tag, attributes, text) {
  const node = document.createElementNS(svgNamespace, tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, String(value));
  }
  if (text !== undefined) {
    node.textContent = String(text);
  }
  return node;
}

function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) {
    return "unknown";
  }
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return (unit === 0 ? value.toFixed(0) : value.toFixed(1)) + " " + units[unit];
}

// Formats a time given in seconds in µs, ms or s, whichever suits its magnitude.
function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) {
    return "unknown";
  }
  const magnitude = Math.abs(seconds);
  if (magnitude < 1e-3) {
    return (seconds * 1e6).toFixed(0) + " µs";
  }
  if (magnitude < 1) {
    return (seconds * 1e3).toFixed(magnitude < 0.01 ? 2 : 1) + " ms";
  }
  return seconds.toFixed(3) + " s";
}

function formatMicroseconds(us) {
  return us === null || us === undefined ? "unknown" : formatSeconds(us / 1e6);
}

function formatWallTime(us) {
  if (!us) {
    return "";
  }
  return new Date(us / 1000).toLocaleString();
}

function fact(list, term, value) {
  list.append(element("dt", null, term));
  const definition = element("dd", "numeric");
  if (value instanceof Node) {
    definition.append(value);
  } else {
    definition.textContent = value;
  }
  list.append(definition);
  return definition;
}

function meter(ratio, low, kind) {
  const outer = element("div", "meter" + (kind ? " " + kind : "") + (low ? " low" : ""));
  const inner = element("div");
  inner.style.width = Math.max(0, Math.min(1, ratio)) * 100 + "%";
  outer.append(inner);
  return outer;
}

// ---- camera tiles ----

function batteryFact(camera) {
  const box = element("span");
  if (camera.battery_ratio === null) {
    box.textContent = "unknown";
    return box;
  }
  const low = camera.battery_ratio < lowBatteryRatio;
  box.append(element("span", low ? "low" : null, Math.round(camera.battery_ratio * 100) + " %"));
  if (camera.charging) {
    const mark = element("span", "charging", "⚡ charging");
    mark.title = "charging";
    box.append(mark);
  }
  box.append(meter(camera.battery_ratio, low));
  return box;
}

function storageFact(camera) {
  const box = element("span");
  if (camera.remaining_bytes === null || camera.total_bytes === null || !camera.total_bytes) {
    box.textContent = formatBytes(camera.remaining_bytes) + " free";
    return box;
  }
  const freeRatio = camera.remaining_bytes / camera.total_bytes;
  const low = freeRatio < lowStorageRatio;
  box.append(element("span", low ? "low" : null,
                     formatBytes(camera.remaining_bytes) + " free of " +
                     formatBytes(camera.total_bytes)));
  // The bar shows the used share, so a full card reads as a full bar.
  box.append(meter(1 - freeRatio, low, "usage"));
  return box;
}

function clockFact(camera) {
  if (camera.clock_offset_seconds === null) {
    return "unknown";
  }
  let text = formatSeconds(camera.clock_offset_seconds);
  if (camera.clock_uncertainty_seconds !== null) {
    text += " ± " + formatSeconds(camera.clock_uncertainty_seconds);
  }
  return text;
}

function thumbnail(camera, previous) {
  const box = element("div", "thumbnail");
  const data = camera.thumbnail_jpeg_base64 || "";
  // Only base64 text goes into the data: URL, so nothing else can be injected there.
  if (data && /^[A-Za-z0-9+/=]+$/.test(data)) {
    const image = previous && previous.dataset.thumbnail === data ? previous.querySelector("img")
                                                                  : null;
    const img = image || element("img");
    img.alt = "last picture of " + camera.name;
    if (!image) {
      img.src = "data:image/jpeg;base64," + data;
    }
    box.dataset.thumbnail = data;
    box.append(img);
  } else {
    box.textContent = "no picture yet";
  }
  return box;
}

function cameraTile(camera, previous) {
  const tile = element("article", "tile");
  tile.dataset.camera = camera.name;
  tile.dataset.state = camera.state;

  const head = element("div", "tile-head");
  head.append(element("span", "tile-name", camera.name));
  head.append(element("span", "state " + camera.state, camera.state.replace("_", " ")));
  tile.append(head);
  if (camera.reason) {
    tile.append(element("div", "reason", camera.reason));
  }
  tile.append(thumbnail(camera, previous ? previous.querySelector(".thumbnail") : null));

  const facts = element("dl", "facts");
  fact(facts, "Battery", batteryFact(camera));
  const card = camera.card_state || "unknown";
  fact(facts, "Card", card).classList.toggle("low", card !== "pass" && card !== "unknown");
  fact(facts, "Storage", storageFact(camera));
  fact(facts, "Clock offset", clockFact(camera));
  fact(facts, "Round trip", formatSeconds(camera.round_trip_seconds));
  const model = [camera.manufacturer, camera.model].filter(Boolean).join(" ") || "unknown";
  fact(facts, "Model", model);
  fact(facts, "Firmware", camera.firmware_version || "unknown");
  fact(facts, "Address", camera.host + ":" + camera.port +
                         (camera.interface ? " via " + camera.interface : ""));
  tile.append(facts);
  return tile;
}

function renderCameras(cameras) {
  const container = document.getElementById("cameras");
  const previous = new Map();
  for (const tile of container.children) {
    previous.set(tile.dataset.camera, tile);
  }
  const tiles = cameras.map((camera) => cameraTile(camera, previous.get(camera.name)));
  container.replaceChildren(...tiles);

  const counts = {};
  for (const camera of cameras) {
    counts[camera.state] = (counts[camera.state] || 0) + 1;
  }
  const parts = Object.entries(counts).map(([state, count]) => count + " " +
                                                               state.replace("_", " "));
  document.getElementById("summary").textContent =
      cameras.length + " cameras" + (parts.length ? ": " + parts.join(", ") : "");
}

// ---- shot timeline ----

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// Picks a tick step of 1, 2 or 5 times a power of ten that gives about five ticks over `span`.
function tickStep(span) {
  const rough = span / 5;
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  for (const factor of [1, 2, 5, 10]) {
    if (factor * power >= rough) {
      return factor * power;
    }
  }
  return 10 * power;
}

// Draws one row per camera: the estimated arrival of `command` relative to the median arrival
// as a dot, and its uncertainty as a bar. A camera whose arrival lies beyond the median by more
// than both uncertainties (and by at least 100 µs) is drawn in red.
function timeline(shot, command) {
  const rows = shot.cameras.map((camera) => {
    const trigger = camera.triggers.find((t) => t.command === command) || null;
    return { name: camera.name, trigger };
  });
  const estimated = rows.filter((row) => row.trigger &&
                                         row.trigger.estimated_arrival_host_us !== null);
  const reference = estimated.length ? median(estimated.map((row) =>
                                                  row.trigger.estimated_arrival_host_us)) : 0;
  const referenceUncertainty = estimated.length ? median(estimated.map((row) =>
                                                  row.trigger.arrival_uncertainty_us || 0)) : 0;

  let low = -50;
  let high = 50;
  for (const row of estimated) {
    const offset = row.trigger.estimated_arrival_host_us - reference;
    const uncertainty = row.trigger.arrival_uncertainty_us || 0;
    low = Math.min(low, offset - uncertainty);
    high = Math.max(high, offset + uncertainty);
  }
  const padding = (high - low) * 0.08;
  low -= padding;
  high += padding;

  const labelWidth = 110;
  const plotWidth = 440;
  const rowHeight = 22;
  const top = 8;
  const axisHeight = 40;
  const height = top + rows.length * rowHeight + axisHeight;
  const x = (offset) => labelWidth + ((offset - low) / (high - low)) * plotWidth;

  const svg = svgElement("svg", {
    class: "timeline",
    viewBox: "0 0 " + (labelWidth + plotWidth + 10) + " " + height,
    role: "img",
  });
  svg.append(svgElement("title", {}, command + ": estimated arrival per camera, relative to " +
                                     "the median, with its uncertainty"));

  const step = tickStep(high - low);
  const axisY = top + rows.length * rowHeight + 4;
  for (let tick = Math.ceil(low / step) * step; tick <= high; tick += step) {
    svg.append(svgElement("line", { class: "grid", x1: x(tick), x2: x(tick), y1: top,
                                    y2: axisY }));
    svg.append(svgElement("text", { class: "tick", x: x(tick), y: axisY + 14,
                                    "text-anchor": "middle" },
                          (tick > 0 ? "+" : "") + formatMicroseconds(tick)));
  }
  svg.append(svgElement("line", { class: "axis", x1: labelWidth, x2: labelWidth + plotWidth,
                                  y1: axisY, y2: axisY }));
  svg.append(svgElement("text", { class: "caption", x: labelWidth + plotWidth / 2, y: axisY + 30,
                                  "text-anchor": "middle" },
                        "estimated arrival relative to the median; bar: uncertainty"));

  rows.forEach((row, index) => {
    const y = top + index * rowHeight + rowHeight / 2;
    const label = svgElement("text", { class: "label", x: labelWidth - 8, y: y + 4,
                                       "text-anchor": "end" }, row.name);
    svg.append(label);
    const trigger = row.trigger;
    if (!trigger || trigger.estimated_arrival_host_us === null) {
      const missingText = trigger && trigger.missed ? "missed the release" : "no estimate";
      svg.append(svgElement("text", { class: "missing", x: labelWidth + 4, y: y + 4 },
                            missingText));
      return;
    }
    const offset = trigger.estimated_arrival_host_us - reference;
    const uncertainty = trigger.arrival_uncertainty_us || 0;
    const late = trigger.missed ||
                 offset > Math.max(100, uncertainty + referenceUncertainty);
    const lateClass = late ? " late" : "";
    svg.append(svgElement("rect", {
      class: "bar" + lateClass,
      x: x(offset - uncertainty),
      y: y - 5,
      width: Math.max(1, x(offset + uncertainty) - x(offset - uncertainty)),
      height: 10,
      rx: 3,
    }));
    const mark = svgElement("circle", { class: "mark" + lateClass, cx: x(offset), cy: y, r: 4 });
    mark.append(svgElement("title", {}, row.name + ": " + (offset >= 0 ? "+" : "") +
                                        formatMicroseconds(offset) + " ± " +
                                        formatMicroseconds(uncertainty)));
    svg.append(mark);
  });
  return svg;
}

// ---- shot history ----

function fileLinks(camera) {
  const box = element("span", "files");
  for (const file of camera.files) {
    if (file.href && file.href.startsWith("/files/")) {
      const link = element("a", null, file.name);
      link.href = file.href;
      link.title = formatBytes(file.bytes);
      box.append(link);
    } else if (file.error) {
      box.append(element("span", "error", file.name + ": " + file.error));
    }
  }
  return box;
}

function shotCamera(camera) {
  const item = element("li", "shot-camera");
  item.dataset.camera = camera.name;
  item.append(element("span", "shot-camera-name", camera.name));
  if (camera.files.length) {
    item.append(fileLinks(camera));
  } else if (camera.delivered) {
    item.append(element("span", "muted", "no files"));
  }
  if (!camera.delivered && camera.error) {
    item.append(element("div", "error", camera.error));
  }
  for (const warning of camera.warnings) {
    item.append(element("div", "warning", warning));
  }
  return item;
}

function spreadText(shot) {
  const parts = shot.sync_summaries
      .filter((summary) => summary.arrival_spread_us !== null)
      .map((summary) => {
        let text = summary.command + " spread " + formatMicroseconds(summary.arrival_spread_us);
        if (summary.spread_bound_us !== null) {
          text += " (at most " + formatMicroseconds(summary.spread_bound_us) + ")";
        }
        return text;
      });
  return parts.length ? parts.join(", ") : "no arrival estimates";
}

function shotCard(shot, running) {
  const card = element("article", shot.all_delivered || running ? "shot" : "shot failed");
  card.dataset.shotId = shot.shot_id;

  const head = element("div", "shot-head");
  head.append(element("span", "shot-id", shot.shot_id));
  head.append(element("span", null, shot.mode));
  head.append(element("span", "muted", formatWallTime(shot.started_us)));
  head.append(element("span", "numeric", spreadText(shot)));
  const delivered = shot.cameras.filter((camera) => camera.delivered).length;
  const result = running ? "running"
                         : delivered + " of " + shot.cameras.length + " cameras delivered";
  head.append(element("span", "shot-result", result));
  card.append(head);

  const body = element("div", "shot-body");
  const charts = element("div");
  const commands = [];
  for (const camera of shot.cameras) {
    for (const trigger of camera.triggers) {
      if (!commands.includes(trigger.command)) {
        commands.push(trigger.command);
      }
    }
  }
  for (const command of commands) {
    if (commands.length > 1) {
      charts.append(element("div", "muted", command));
    }
    charts.append(timeline(shot, command));
  }
  body.append(charts);
  const cameras = element("ul", "shot-cameras");
  cameras.append(...shot.cameras.map(shotCamera));
  body.append(cameras);
  card.append(body);
  return card;
}

function renderShots(shots) {
  const newest = [...shots].reverse().slice(0, shownShots);
  document.getElementById("shots").replaceChildren(...newest.map((shot) => shotCard(shot, false)));
  document.getElementById("no-shots").hidden = shots.length > 0;
}

function renderCurrentShot(shot) {
  const box = document.getElementById("current-shot");
  box.hidden = !shot;
  if (shot) {
    box.replaceChildren(shotCard(shot, true));
  } else {
    box.replaceChildren();
  }
  const recording = shot && shot.mode !== "photo";
  document.getElementById("take-photo").disabled = Boolean(shot);
  document.getElementById("start-video").disabled = Boolean(shot);
  document.getElementById("stop-video").disabled = !recording;
}

async function loadShots() {
  const response = await fetch("/api/shots", { cache: "no-store" });
  if (response.ok) {
    renderShots((await response.json()).shots);
  }
}

// ---- controls ----

function setStatus(text, failed) {
  const status = document.getElementById("control-status");
  status.textContent = text;
  status.classList.toggle("failed", Boolean(failed));
}

async function post(path, body, verb) {
  const headers = { "Content-Type": "application/json" };
  const token = document.getElementById("token").value.trim();
  if (token) {
    headers.Authorization = "Bearer " + token;
  }
  setStatus("sending…", false);
  try {
    const response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
    const reply = await response.json().catch(() => ({}));
    if (!response.ok) {
      setStatus(reply.error || "request failed with HTTP " + response.status, true);
      return;
    }
    setStatus(reply.shot_id ? verb + " " + reply.shot_id : "done", false);
  } catch (error) {
    setStatus("request failed: " + error.message, true);
  }
}

function setUpControls() {
  const token = document.getElementById("token");
  token.value = sessionStorage.getItem("oscrig-token") || "";
  token.addEventListener("change", () => sessionStorage.setItem("oscrig-token", token.value));

  const photo = () => post("/api/shots", { mode: "photo" }, "started");
  const video = () => post("/api/shots", { mode: "video" }, "started");
  const stop = () => post("/api/recording/stop", {}, "stopping");
  document.getElementById("take-photo").addEventListener("click", photo);
  document.getElementById("start-video").addEventListener("click", video);
  document.getElementById("stop-video").addEventListener("click", stop);
}

// ---- live updates ----

function applyUpdate(update) {
  document.getElementById("rig-name").textContent = update.rig;
  document.title = update.rig ? "oscrig: " + update.rig : "oscrig";
  renderCameras(update.cameras);
  renderCurrentShot(update.current_shot);
  if (update.last_shot_id !== lastShotId) {
    lastShotId = update.last_shot_id;
    loadShots();
  }
}

function connect() {
  const connection = document.getElementById("connection");
  const events = new EventSource("/events");
  events.addEventListener("open", () => {
    connection.textContent = "live";
    connection.className = "connection live";
  });
  events.addEventListener("error", () => {
    // EventSource reconnects by itself after the retry interval the server sent.
    connection.textContent = "reconnecting";
    connection.className = "connection offline";
  });
  events.addEventListener("update", (event) => applyUpdate(JSON.parse(event.data)));
}

setUpControls();
renderCurrentShot(null);
connect();
