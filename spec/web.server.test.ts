/**
 * `blinkd web` over HTTP, without a browser (these run where Chromium is absent too): the
 * token and host checks, GET only, the history and live records as server-sent events, the
 * limit on pages, a taken port, and the history kept after the daemon has gone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { namespace } from "./helpers/namespace.js";
import { cli } from "./helpers/daemon.js";
import { get, openStream, startWeb, type Web } from "./helpers/web.js";

const ns = namespace();
let web: Web;
let token = "";

beforeAll(async () => {
  web = await startWeb(["--socket", ns.daemon.socket]);
  token = new URL(web.url).searchParams.get("token")!;
}, 30_000);

afterAll(async () => {
  await web?.stop();
});

describe("blinkd web over HTTP", () => {
  it("prints a URL on 127.0.0.1 with a fresh token; refuses every request without it, with a page that says what to open", async () => {
    expect(web.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
    for (const p of ["/", "/app.js", "/model.js", "/api/stream", "/api/snapshot", "/api/check", "/vendor/d3-hierarchy.mjs", "/nothing"]) {
      const r = await get(web.origin + p);
      expect(r.status, p).toBe(403);
      expect(r.body, p).toContain("403: this page needs its token");
      expect(r.body, p).toContain("?token=");
    }
    expect((await get(`${web.origin}/?token=${"0".repeat(48)}`)).status).toBe(403);
    expect((await get(`${web.origin}/?token=${token.slice(0, 10)}`)).status).toBe(403);
    expect((await get(`${web.origin}/api/snapshot`, { Authorization: `token ${token.slice(0, -1)}x` })).status).toBe(403);
    expect((await get(`${web.origin}/api/snapshot`, { Cookie: `blinkd-web-${new URL(web.url).port}=${"f".repeat(48)}` })).status).toBe(403);
    // Another host name pointed at this address (DNS rebinding) is refused, even with the token.
    const foreign = await get(`${web.origin}/api/snapshot`, { Host: `evil.example:${new URL(web.url).port}`, Authorization: `token ${token}` });
    expect([foreign.status, foreign.body]).toEqual([403, expect.stringContaining("refused a request for host")]);
  });

  it("with the token: the URL sets a cookie and drops the token; the page and its modules are served with a strict policy; only GET and HEAD", async () => {
    const first = await get(web.url);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe("/");
    const cookie = String(first.headers["set-cookie"]).split(";")[0]!;
    expect(String(first.headers["set-cookie"])).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await get(`${web.origin}/`, { Cookie: cookie });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script type="module" src="/app.js">');
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    for (const m of ["/app.js", "/model.js", "/tree.js", "/vendor/d3-hierarchy.mjs"]) {
      const r = await get(web.origin + m, { Cookie: cookie });
      expect([m, r.status, r.headers["content-type"]]).toEqual([m, 200, "text/javascript; charset=utf-8"]);
    }
    expect((await get(`${web.origin}/model.d.ts`, { Cookie: cookie })).status).toBe(404);
    expect((await get(`${web.origin}/../package.json`, { Cookie: cookie })).status).toBe(404);
    for (const method of ["POST", "PUT", "DELETE"]) expect((await get(`${web.origin}/api/snapshot`, { Cookie: cookie }, method)).status, method).toBe(405);
    const snap = await get(`${web.origin}/api/snapshot`, { Authorization: `token ${token}` });
    const actors = JSON.parse(snap.body) as { id: string; seq?: number }[];
    expect(actors.map((a) => a.id)).toEqual(["namespace", "proc:1", "thread:1"]);
    expect(actors[0]!.seq).toBeGreaterThan(0);
    expect(JSON.parse((await get(`${web.origin}/api/check`, { Authorization: `token ${token}` })).body)).toMatchObject({ ok: true });
  });

  it("streams the history (a snapshot and every record), then each new record as it happens", async () => {
    const s = await openStream(web);
    expect(s.status).toBe(200);
    await s.next((e) => e.event === "live", "the end of the history");
    const kinds = s.events.map((e) => e.event);
    expect(kinds[0]).toBe("hello");
    expect(kinds).toContain("snapshot");
    const records = s.events.filter((e) => e.event === "record").map((e) => JSON.parse(e.data) as { seq: number });
    expect(records[0]!.seq).toBe(1);
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
    const child = await ns.track(ns.init.fork());
    const spawn = await s.next((e) => e.event === "record" && /"actor":"proc:2","pid":2,"event":"spawn"/.test(e.data), "the fork's spawn record");
    expect(JSON.parse(spawn.data)).toMatchObject({ kind: "spawn", to: "embryo", changes: { pid: 2, ppid: 1 } });
    // A snapshot follows the records that arrived.
    const snap = await s.next((e) => e.event === "snapshot" && (JSON.parse(e.data) as { seq: number }).seq >= JSON.parse(spawn.data).seq, "a snapshot after the fork");
    expect((JSON.parse(snap.data) as { actors: { id: string }[] }).actors.map((a) => a.id)).toContain("proc:2");
    await child.exit(0);
    await ns.init.ok("wait4", { pid: child.pid, options: 0 });
    await s.next((e) => e.event === "record" && /"actor":"proc:2".*"to":"reaped"/.test(e.data), "the reaping");
    s.close();
  });

  it("at most 16 pages stream at once: one more gets 503 saying so", async () => {
    const streams = await Promise.all(Array.from({ length: 16 }, () => openStream(web)));
    expect(streams.map((s) => s.status)).toEqual(new Array(16).fill(200));
    await web.waitLine(/16 pages watching/);
    const more = await get(`${web.origin}/api/stream`, { Authorization: `token ${token}` });
    expect([more.status, more.body]).toEqual([503, expect.stringContaining("16 pages are watching already")]);
    for (const s of streams) s.close();
    await web.waitLine(/0 pages watching/);
  });

  it("a port that is taken is an error that says so", async () => {
    const r = await cli(["web", "--socket", ns.daemon.socket, "--port", new URL(web.url).port]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`port ${new URL(web.url).port} on 127.0.0.1 is taken`);
  });

  it("keeps the history after the daemon has gone: a page opened then still gets it, and is told why", async () => {
    const s = await openStream(web);
    await s.next((e) => e.event === "live", "the end of the history");
    const before = s.events.filter((e) => e.event === "record").length;
    await ns.daemon.stop();
    const gone = await s.next((e) => e.event === "gone", "word that the daemon is gone");
    expect(JSON.parse(gone.data).reason).toMatch(/daemon/);
    await web.waitLine(/the daemon is gone/);
    s.close();
    const late = await openStream(web);
    await late.next((e) => e.event === "live", "the end of the history");
    expect(late.events.filter((e) => e.event === "record").length).toBeGreaterThanOrEqual(before);
    expect(late.events.some((e) => e.event === "gone")).toBe(true);
    expect(JSON.parse(late.events[0]!.data).gone).toMatch(/daemon/);
    late.close();
  });
});
