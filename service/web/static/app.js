// Live updates for pages whose <body> has data-poll-s: re-fetch the page, replace the regions
// marked data-live whose content changed. Regions holding the keyboard focus or a half-filled
// form are left alone until the user is done with them. The polls tell the service whether the
// user did anything since the last one (only activity renews the session), warn before the
// session ends, and never reload the page: what was typed stays. No third-party code.
"use strict";

(function () {
  // A form kept across an expired session is sent on as soon as its page has loaded.
  const kept = document.querySelector("form[data-autosubmit]");
  if (kept) {
    kept.submit();
    return;
  }

  const seconds = Number(document.body && document.body.dataset.pollS);
  if (!seconds) {
    return;
  }
  // Tunable default: warn two minutes before the session ends.
  const WARN_S = 120;
  let etag = null;
  let timer = null;
  let active = false;
  let expired = false;
  const status = document.getElementById("live-status");
  const session = document.getElementById("session-status");

  ["keydown", "pointerdown", "input", "wheel", "touchstart"].forEach((name) => {
    document.addEventListener(name, () => {
      active = true;
    }, { passive: true, capture: true });
  });

  function busy(region) {
    if (region.contains(document.activeElement) && document.activeElement !== document.body) {
      return true;
    }
    return Array.from(
      region.querySelectorAll("input[type=text], input[type=number], textarea")
    ).some((field) => field.value !== "" && field.value !== field.defaultValue);
  }

  function showSession(text, canRenew) {
    if (!session) {
      return;
    }
    session.querySelector(".session-text").textContent = text;
    session.querySelector("[data-session-renew]").hidden = !canRenew;
    session.querySelector("a").hidden = canRenew;
    session.hidden = false;
  }

  function sessionLeft(response) {
    const left = Number(response.headers.get("X-Rehab-Session-Left-S"));
    if (!session || !response.headers.has("X-Rehab-Session-Left-S")) {
      return;
    }
    if (left <= WARN_S) {
      const minutes = Math.max(1, Math.round(left / 60));
      showSession(
        "Your session ends in about " + minutes + " minute" + (minutes === 1 ? "" : "s") +
          ". Anything you have typed stays on this page.",
        true
      );
    } else {
      session.hidden = true;
    }
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
    // After logging in again (in another tab) the forms here need the new session's token.
    const token = next.querySelector("input[name=csrf]");
    if (token) {
      document.querySelectorAll("input[name=csrf]").forEach((field) => {
        field.value = token.value;
      });
    }
  }

  async function poll() {
    const wasActive = active;
    active = false;
    try {
      const headers = { "X-Rehab-Poll": wasActive ? "active" : "idle" };
      if (etag && !expired) {
        headers["If-None-Match"] = etag;
      }
      const response = await fetch(window.location.href, {
        headers: headers,
        credentials: "same-origin",
        cache: "no-store",
        redirect: "manual",
      });
      if (status) {
        status.hidden = response.ok || response.status === 304 || response.status === 401;
      }
      if (response.status === 401 || response.type === "opaqueredirect") {
        expired = true;
        showSession(
          "Your session has expired. What you typed is still here: send it and you will be " +
            "asked to log in, then it goes through. Or log in again in a new tab.",
          false
        );
      } else {
        if (expired) {
          expired = false;
          session.hidden = true;
        }
        sessionLeft(response);
        if (response.status === 200) {
          etag = response.headers.get("ETag");
          apply(await response.text());
        }
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

  if (session) {
    session.querySelector("[data-session-renew]").addEventListener("click", () => {
      active = true;
      poll();
    });
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      poll();
    }
  });
  schedule();
})();
