// Live updates for pages whose <body> has data-poll-s: re-fetch the page, replace the regions
// marked data-live whose content changed. Regions holding the keyboard focus or a half-filled
// form are left alone until the user is done with them. No third-party code.
"use strict";

(function () {
  const seconds = Number(document.body && document.body.dataset.pollS);
  if (!seconds) {
    return;
  }
  let etag = null;
  let timer = null;
  const status = document.getElementById("live-status");

  function busy(region) {
    if (region.contains(document.activeElement) && document.activeElement !== document.body) {
      return true;
    }
    return Array.from(region.querySelectorAll("input[type=text], textarea")).some(
      (field) => field.value !== ""
    );
  }

  function apply(html) {
    const next = new DOMParser().parseFromString(html, "text/html");
    next.querySelectorAll("[data-live]").forEach((fresh) => {
      const name = fresh.dataset.live;
      const current = document.querySelector('[data-live="' + CSS.escape(name) + '"]');
      if (current && current.innerHTML !== fresh.innerHTML && !busy(current)) {
        current.innerHTML = fresh.innerHTML;
        current.dispatchEvent(new CustomEvent("live:updated", { bubbles: true }));
      }
    });
  }

  async function poll() {
    try {
      const headers = etag ? { "If-None-Match": etag } : {};
      const response = await fetch(window.location.href, {
        headers: headers,
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.redirected || response.status === 401) {
        window.location.reload();
        return;
      }
      if (status) {
        status.hidden = response.ok || response.status === 304;
      }
      if (response.status === 200) {
        etag = response.headers.get("ETag");
        apply(await response.text());
      }
    } catch (error) {
      if (status) {
        status.hidden = false;
      }
    }
    schedule();
  }

  function schedule() {
    window.clearTimeout(timer);
    if (!document.hidden) {
      timer = window.setTimeout(poll, seconds * 1000);
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      poll();
    }
  });
  schedule();
})();
