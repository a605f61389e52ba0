// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Ask before destructive actions.
  document.querySelectorAll("button.danger").forEach((b) => {
    b.addEventListener("click", (e) => {
      if (!window.confirm("确定要执行“" + b.textContent.trim() + "”吗？")) e.preventDefault();
    });
  });
  // Filters submit on change of a select.
  document.querySelectorAll("form.filters select").forEach((s) => {
    s.addEventListener("change", () => s.form.requestSubmit());
  });
});

// Industry code fields show the name of the code typed (GB/T 4754-2017), from the API.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-industry]").forEach((input) => {
    const hint = input.parentElement.querySelector("[data-industry-name]");
    if (!hint) return;
    let timer;
    const lookup = () => {
      const code = input.value.trim().toUpperCase();
      if (!code) { hint.textContent = ""; return; }
      fetch("/api/v1/industries?q=" + encodeURIComponent(code), { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : []))
        .then((list) => {
          const hit = list.find((c) => c.code === code || c.code.slice(1) === code);
          hint.textContent = hit ? hit.level + "：" + hit.path : "未找到该代码";
        })
        .catch(() => {});
    };
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(lookup, 250); });
    lookup();
  });
});

// Print buttons (the statement prints on A4 with the print stylesheet).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));
});

// The live gas monitor: apply the alarm engine's server-sent events to the table as they arrive; a
// new 二级 alarm sounds a short tone and blinks the title until the page is looked at.
document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("monitor");
  if (!table || !window.EventSource) return;
  const status = document.getElementById("live-status");
  const list = document.getElementById("live-events");
  const labels = { level2: "二级报警", level1: "一级报警", offline: "离线", fault: "故障", normal: "正常" };
  const title = document.title;
  let blink = null;
  const alert2 = () => {
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const osc = ctx.createOscillator();
      osc.frequency.value = 880;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.6);
    } catch (e) { /* no audio: the title still blinks */ }
    if (blink) return;
    let on = false;
    blink = setInterval(() => { on = !on; document.title = on ? "【二级报警】" + title : title; }, 700);
  };
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && blink) { clearInterval(blink); blink = null; document.title = title; }
  });
  const stateOf = (ev) => {
    switch (ev.event) {
      case "raised": case "repeated": return ev.kind === "offline" ? "offline" : ev.kind === "fault" ? "fault" : (ev.level === "2" ? "level2" : "level1");
      case "level_raised": return ev.to === "2" ? "level2" : "level1";
      case "offline": return "offline";
      case "fault": return ev.code === 0 ? "normal" : "fault";
      case "cleared": case "online": case "closed": return "normal";
      default: return null;
    }
  };
  const source = new EventSource("/gas/monitor/events");
  source.onopen = () => { status.textContent = "实时推送已连接"; };
  source.onerror = () => { status.textContent = "实时推送中断，正在重连…"; };
  source.addEventListener("lagged", () => window.location.reload());
  // Latest values, at most one per detector per second: "12.345 ppm" and the reading's Beijing time.
  const beijing = (ms) => new Date(ms + 8 * 3600e3).toISOString().slice(0, 19).replace("T", " ");
  source.addEventListener("values", (m) => {
    JSON.parse(m.data).forEach((v) => {
      const row = table.querySelector(`tr[data-detector="${v.detector_id}"]`);
      if (!row) return;
      const value = row.querySelector('[data-role="value"]');
      const ts = row.querySelector('[data-role="ts"]');
      if (value) value.textContent = `${Number(v.value.toFixed(3))} ${row.dataset.unit || ""}`.trim();
      if (ts) ts.textContent = beijing(v.ts);
    });
  });
  source.addEventListener("gas", (m) => {
    const msg = JSON.parse(m.data);
    const row = table.querySelector(`tr[data-detector="${msg.detector_id}"]`);
    const next = stateOf(msg.event);
    if (row && next) {
      row.dataset.state = next;
      row.className = "state-" + next + " flash";
      const tag = row.querySelector('[data-role="state"]');
      tag.className = "tag state-" + next;
      tag.textContent = labels[next];
    }
    document.querySelectorAll(`circle[data-detector="${msg.detector_id}"]`).forEach((dot) => {
      if (next) dot.setAttribute("class", "dot state-" + next);
    });
    document.querySelectorAll("[data-count]").forEach((c) => {
      c.querySelector("strong").textContent = table.querySelectorAll(`tr[data-state="${c.dataset.count}"]`).length;
    });
    if (next === "level2" && ["raised", "level_raised"].includes(msg.event.event)) alert2();
    const li = document.createElement("li");
    li.textContent = `${new Date(msg.at).toLocaleTimeString("zh-CN")} ${msg.tag} ${labels[next] || msg.event.event}`;
    if (list.firstElementChild && list.firstElementChild.classList.contains("muted")) list.innerHTML = "";
    list.prepend(li);
    while (list.children.length > 20) list.lastElementChild.remove();
  });
});

// The gas map: zoom with the wheel or the buttons, pan by dragging, a click on a detector opens it;
// dots keep their size on screen whatever the zoom.
document.addEventListener("DOMContentLoaded", () => {
  const svg = document.querySelector("svg.gas-map");
  if (!svg) return;
  const home = svg.viewBox.baseVal;
  const start = { x: home.x, y: home.y, w: home.width, h: home.height };
  let view = { ...start };
  const apply = () => {
    svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
    const r = 7 * (view.w / start.w);
    svg.querySelectorAll("circle.dot").forEach((c) => c.setAttribute("r", r.toFixed(2)));
    svg.querySelectorAll("text.area-label").forEach((t) => t.style.fontSize = (14 * view.w / start.w).toFixed(2) + "px");
    svg.dataset.zoom = (start.w / view.w).toFixed(2);
  };
  const point = (ev) => {
    const box = svg.getBoundingClientRect();
    return { x: view.x + (ev.clientX - box.left) / box.width * view.w, y: view.y + (ev.clientY - box.top) / box.height * view.h };
  };
  const zoom = (factor, at) => {
    const w = Math.min(start.w, Math.max(start.w / 40, view.w / factor));
    const f = view.w / w;
    const c = at || { x: view.x + view.w / 2, y: view.y + view.h / 2 };
    view = { x: c.x - (c.x - view.x) / f, y: c.y - (c.y - view.y) / f, w, h: w * start.h / start.w };
    apply();
  };
  svg.addEventListener("wheel", (ev) => { ev.preventDefault(); zoom(ev.deltaY < 0 ? 1.25 : 0.8, point(ev)); }, { passive: false });
  let drag = null;
  svg.addEventListener("pointerdown", (ev) => { drag = { x: ev.clientX, y: ev.clientY, view: { ...view }, moved: false }; });
  svg.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const box = svg.getBoundingClientRect();
    const dx = (ev.clientX - drag.x) / box.width * view.w, dy = (ev.clientY - drag.y) / box.height * view.h;
    if (Math.abs(ev.clientX - drag.x) + Math.abs(ev.clientY - drag.y) > 3) drag.moved = true;
    if (drag.moved) { view = { ...view, x: drag.view.x - dx, y: drag.view.y - dy }; apply(); }
  });
  svg.addEventListener("pointerup", (ev) => {
    const d = drag; drag = null;
    const dot = ev.target.closest && ev.target.closest("circle.dot");
    if (d && !d.moved && dot) window.location.href = "/gas/detectors/" + dot.dataset.detector;
  });
  svg.addEventListener("pointerleave", () => { drag = null; });
  document.querySelectorAll("[data-map-zoom]").forEach((b) => b.addEventListener("click", () => {
    const how = b.dataset.mapZoom;
    if (how === "reset") { view = { ...start }; apply(); } else zoom(how === "in" ? 1.5 : 1 / 1.5);
  }));
  apply();
});
