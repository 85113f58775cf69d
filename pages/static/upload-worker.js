// Sends upload chunks for the report page. It runs in a Worker because Chromium keeps
// fetch() request bodies in memory for as long as the context that sent them lives; the
// page ends this worker every few tens of MiB, which frees them, so a 2 GiB document
// never needs 2 GiB of memory. The chunks are ciphertext: nothing here sees plaintext.

async function progress(mailbox, n) {
  const res = await fetch(`/api/v1/uploads/${n}`, {
    headers: { "Meldpunt-Mailbox": mailbox },
    credentials: "omit",
    cache: "no-store",
  });
  if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status });
  return res.json();
}

// Sends `bytes` at `offset`, resuming after a dropped connection: the server says how
// much arrived, and only the rest of this chunk is sent again.
async function sendChunk(mailbox, n, offset, bytes, admission) {
  let sent = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      const headers = {
        "Meldpunt-Mailbox": mailbox,
        "Meldpunt-Offset": String(offset + sent),
        "Content-Type": "application/octet-stream",
      };
      // A solved puzzle is good for one request: a retry after a drop asks again.
      if (admission && attempt === 0) headers["Meldpunt-Admission"] = admission;
      const res = await fetch(`/api/v1/uploads/${n}`, {
        method: "PUT",
        body: bytes.subarray(sent),
        headers,
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
      if (res.ok) return;
      if (res.status === 429) {
        // Under load the drop box asks for a puzzle: the page solves it (it has the
        // crypto module) and sends this chunk again.
        let body = null;
        try { body = await res.json(); } catch (_) { body = null; }
        throw Object.assign(new Error("busy"), { status: 429, admission: body && body.admission });
      }
      if (res.status !== 409) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status });
    } catch (e) {
      if (e.status) throw e;
    }
    await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
    const state = await progress(mailbox, n);
    sent = Math.max(0, Math.min(bytes.length, state.received - offset));
    if (sent === bytes.length) return;
  }
  throw new Error("upload failed");
}

onmessage = async (e) => {
  const { mailbox, n, offset, bytes, admission } = e.data;
  try {
    await sendChunk(mailbox, n, offset, bytes, admission);
    postMessage({ ok: true });
  } catch (err) {
    postMessage({ ok: false, status: err.status || 0, message: String(err.message || err), admission: err.admission || null });
  }
};
