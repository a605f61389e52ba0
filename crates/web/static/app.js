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
