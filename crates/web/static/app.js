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
