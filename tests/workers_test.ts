/**
 * Channels between kernels in different realms: the main thread and a Worker (Deno) or a
 * `worker_threads` thread (Node), each with its own kernel (tests/support/channel_worker.ts).
 * Bytes and endpoints cross on both backends; native VMOs arrive as the same VMO (koid, rights,
 * memory); a terminated Worker is PEER_CLOSED and leaves no memfd behind in the survivor.
 *
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Channel,
  type ChannelMessage,
  Kernel,
  Rights,
  Signals,
  type Vmo,
  VmoOptions,
  ZxError,
  ZxStatus,
  ZxVmOption as O,
} from "../mod.ts";
import { isDeno, nativeSkipReason } from "./support/kernels.ts";
import { fdsOnInode, inodeWithMarker } from "./support/leak_probe.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const P = 4096;

/** The parts of the Web Worker API used here (typed by hand: the npm build uses Node's types). */
type WebWorkerClass = new (url: URL, o: { type: "module" }) => {
  onerror: ((e: { message: string }) => void) | null;
  postMessage(m: unknown, transfer: unknown[]): void;
  terminate(): void;
};

interface Peer {
  k: Kernel;
  ch: Channel;
  terminate(): Promise<void>;
  errors: string[];
}

async function spawn(backend: "native" | "emulated"): Promise<Peer> {
  const k = Kernel.open({ backend });
  const [ch, theirs] = k.createChannel();
  const token = theirs.export();
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const url = new URL(`./support/channel_worker${ext}`, import.meta.url);
  const errors: string[] = [];
  if (isDeno) {
    const W = (globalThis as unknown as { Worker: WebWorkerClass }).Worker;
    const w = new W(url, { type: "module" });
    w.onerror = (e) => void errors.push(e.message);
    w.postMessage({ token, backend }, [token.port]);
    return {
      k,
      ch,
      errors,
      terminate: () => {
        w.terminate();
        return Promise.resolve();
      },
    };
  }
  const wt = await import("node:worker_threads");
  const { fileURLToPath } = await import("node:url");
  const w = new wt.Worker(fileURLToPath(url));
  w.on("error", (e: Error) => void errors.push(e.message));
  w.postMessage({ token, backend }, [token.port as never]);
  return {
    k,
    ch,
    errors,
    terminate: async () => {
      await w.terminate();
    },
  };
}

/** Send a command; wait for the reply. */
async function call(
  ch: Channel,
  cmd: Record<string, unknown>,
  handles: Array<Vmo | Channel> = [],
): Promise<{ reply: Record<string, unknown>; msg: ChannelMessage }> {
  ch.write(enc.encode(JSON.stringify(cmd)), handles);
  await ch.waitOne(Signals.ChannelReadable | Signals.ChannelPeerClosed, {
    deadline: Date.now() + 20_000,
  });
  const msg = ch.read();
  return { reply: JSON.parse(dec.decode(msg.bytes)), msg };
}

async function done(p: Peer): Promise<void> {
  try {
    await call(p.ch, { op: "bye" }).catch(() => {});
  } finally {
    p.ch.close();
    await p.terminate();
    p.k.close();
  }
  assert.deepEqual(p.errors, []);
}

function status(f: () => unknown): number {
  try {
    f();
    return 0;
  } catch (e) {
    if (!(e instanceof ZxError)) throw e;
    return e.status;
  }
}

function suite(backend: "native" | "emulated"): void {
  it("bytes cross both ways, in order, up to 64 KiB", async () => {
    const p = await spawn(backend);
    try {
      for (const n of [0, 10, 60_000]) {
        const cmd = { op: "echo", pad: "x".repeat(n) };
        const { reply, msg } = await call(p.ch, cmd);
        assert.deepEqual(reply, cmd);
        assert.equal(msg.handles.length, 0);
      }
    } finally {
      await done(p);
    }
  });

  it("an endpoint crosses inside a message, and serves there", async () => {
    const p = await spawn(backend);
    try {
      const { msg } = await call(p.ch, { op: "endpoint" });
      const sub = msg.handles[0] as Channel;
      assert.equal(sub.type, "channel");
      assert.equal(sub.kernel, p.k);
      const { reply } = await call(sub, { op: "echo", n: 7 });
      assert.deepEqual(reply, { op: "echo", n: 7 });
      // One of ours crosses the other way, and comes back through the Worker's echo.
      const [a, b] = p.k.createChannel();
      const koid = b.koid;
      const back = await call(p.ch, { op: "echo" }, [b]);
      const b2 = back.msg.handles[0] as Channel;
      assert.equal(b2.koid, koid, "the koid travels with the endpoint");
      a.write(enc.encode("ping"));
      await b2.waitOne(Signals.ChannelReadable, { deadline: Date.now() + 20_000 });
      assert.equal(dec.decode(b2.read().bytes), "ping");
      a.close();
      b2.close();
      sub.close();
    } finally {
      await done(p);
    }
  });

  it("the Worker closing its endpoint is PEER_CLOSED here", async () => {
    const p = await spawn(backend);
    p.ch.write(enc.encode(JSON.stringify({ op: "bye" })));
    await p.ch.waitOne(Signals.ChannelPeerClosed, { deadline: Date.now() + 20_000 });
    assert.equal(status(() => p.ch.read()), ZxStatus.ErrPeerClosed);
    assert.equal(status(() => p.ch.write(new Uint8Array(1))), ZxStatus.ErrPeerClosed);
    p.ch.close();
    await p.terminate();
    p.k.close();
  });

  it("a terminated Worker is PEER_CLOSED here", async () => {
    const p = await spawn(backend);
    await call(p.ch, { op: "echo" });
    await p.terminate();
    await p.ch.waitOne(Signals.ChannelPeerClosed, { deadline: Date.now() + 20_000 });
    assert.equal(p.ch.signals & Signals.ChannelPeerClosed, Signals.ChannelPeerClosed);
    p.ch.close();
    p.k.close();
  });

  it("a VMO crosses with its koid and rights, and maps the same memory both ways", async () => {
    const p = await spawn(backend);
    try {
      const vmo = p.k.createVmo(P);
      const koid = vmo.koid;
      const rights = vmo.rights;
      using m = p.k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, P);
      const dup = vmo.duplicate();
      const { reply } = await call(p.ch, { op: "keep" }, [dup]);
      assert.deepEqual(reply, { koid, rights });
      await call(p.ch, { op: "mapWrite", text: "from the worker" });
      assert.equal(dec.decode(m.read(0, 15)), "from the worker");
      assert.equal(dec.decode(vmo.read(15, 0)), "from the worker");
      m.write(0, enc.encode("from main"));
      const r = await call(p.ch, { op: "read", n: 9 });
      assert.deepEqual(r.reply, { text: "from main" });
      vmo.close();
    } finally {
      await done(p);
    }
  });

  it("futex: a wake in the Worker ends a wait here, and ours ends its (read-only) wait", async () => {
    const p = await spawn(backend);
    try {
      const vmo = p.k.createVmo(P);
      using m = p.k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, P);
      const ro = vmo.duplicate(Rights.Read | Rights.Map | Rights.Transfer | Rights.GetProperty);
      await call(p.ch, { op: "keep" }, [ro]);
      // The Worker blocks in futexWait on word 4 through a read-only mapping.
      p.ch.write(enc.encode(JSON.stringify({ op: "wait", off: 4, value: 0, ms: 20_000 })));
      // Wake (the word unchanged) until one wakes: the Worker really was blocked there.
      const until = Date.now() + 20_000;
      while (p.k.futexWake(m.addr + 4) === 0 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 1));
      }
      m.write(4, new Uint8Array([1, 0, 0, 0]));
      await p.ch.waitOne(Signals.ChannelReadable, { deadline: until });
      assert.deepEqual(JSON.parse(dec.decode(p.ch.read().bytes)), { status: 0 });
      // Mismatch and timeout are answered there too.
      const bad = await call(p.ch, { op: "wait", off: 4, value: 0, ms: 10 });
      assert.deepEqual(bad.reply, { status: ZxStatus.ErrBadState });
      const late = await call(p.ch, { op: "wait", off: 4, value: 1, ms: 10 });
      assert.deepEqual(late.reply, { status: ZxStatus.ErrTimedOut });
      vmo.close();
    } finally {
      await done(p);
    }
    const q = await spawn(backend);
    try {
      const vmo = q.k.createVmo(P);
      using m = q.k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, P);
      await call(q.ch, { op: "keep" }, [vmo.duplicate()]);
      // Here a promise waits on word 8; the Worker adds 1 and wakes until it is woken.
      const woken = q.k.futexWaitAsync(m.addr + 8, 0, { deadline: Date.now() + 20_000 });
      let woke = 0;
      for (let i = 0; woke === 0 && i < 10_000; i++) {
        woke = (await call(q.ch, { op: "bump", off: 8 })).reply.woke as number;
      }
      assert.equal(woke, 1);
      await woken;
      vmo.close();
    } finally {
      await done(q);
    }
  });

  it("a read-only duplicate that crosses can be neither mapped RW nor written", async () => {
    const p = await spawn(backend);
    try {
      const vmo = p.k.createVmo(P);
      const ro = vmo.duplicate(Rights.Read | Rights.Map | Rights.Transfer | Rights.GetProperty);
      const { reply } = await call(p.ch, { op: "tryRW" }, [ro]);
      assert.deepEqual(reply, {
        mapStatus: ZxStatus.ErrAccessDenied,
        writeStatus: ZxStatus.ErrAccessDenied,
        koid: vmo.koid,
        rights: Rights.Read | Rights.Map | Rights.Transfer | Rights.GetProperty,
      });
      vmo.close();
    } finally {
      await done(p);
    }
  });

  it("a VMO the Worker made arrives with its koid (from the Worker's own range)", async () => {
    const p = await spawn(backend);
    try {
      const { reply, msg } = await call(p.ch, { op: "make", text: "made there" });
      const v = msg.handles[0] as Vmo;
      assert.equal(v.koid, reply.koid);
      assert.ok(v.koid >= 2 ** 52, `a Worker's koids come from its own range (${v.koid})`);
      assert.notEqual(v.koid, p.k.createVmo(P).koid);
      assert.equal(dec.decode(v.read(10, 0)), "made there");
      using m = p.k.rootVmar.map(O.VmPermRead, 0, v, 0, P);
      assert.equal(dec.decode(m.read(0, 10)), "made there");
      v.close();
    } finally {
      await done(p);
    }
  });

  it("a resizable VMO cannot cross (its size is not shared): ErrNotSupported", async () => {
    const p = await spawn(backend);
    try {
      const v = p.k.createVmo(P, VmoOptions.Resizable);
      assert.equal(status(() => p.ch.write(new Uint8Array(1), [v])), ZxStatus.ErrNotSupported);
      assert.equal(v.valid, false);
    } finally {
      await done(p);
    }
  });

  if (backend === "emulated") {
    it("emulated: a VMO with a live bytes() view cannot cross; a shared one gives no views", async () => {
      const p = await spawn(backend);
      try {
        const v = p.k.createVmo(P);
        const m = p.k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, v, 0, P);
        m.bytes()[0] = 1;
        const d = v.duplicate();
        assert.equal(status(() => p.ch.write(new Uint8Array(1), [d])), ZxStatus.ErrNotSupported);
        assert.equal(d.valid, false, "consumed");
        m.unmap(); // the view is revoked: now it can cross
        await call(p.ch, { op: "keep" }, [v.duplicate()]);
        using m2 = p.k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, v, 0, P);
        assert.equal(status(() => m2.bytes()), ZxStatus.ErrNotSupported);
        assert.equal(m2.read(0, 1)[0], 1, "the contents moved to the shared storage");
        await call(p.ch, { op: "mapWrite", text: "zz" });
        assert.equal(dec.decode(m2.read(0, 2)), "zz");
        v.close();
      } finally {
        await done(p);
      }
    });
    return;
  }

  it("a terminated Worker's memfds are released here (fds back to baseline)", async () => {
    const p = await spawn(backend);
    const vmo = p.k.createVmo(2 * P);
    const marker = new Uint8Array(16);
    crypto.getRandomValues(marker);
    marker[0] = 0x7b;
    vmo.write(marker, 0);
    const ino = inodeWithMarker(marker);
    assert.equal(fdsOnInode(ino), 1);
    await call(p.ch, { op: "keep" }, [vmo.duplicate()]);
    await call(p.ch, { op: "mapWrite", text: "x" });
    assert.equal(fdsOnInode(ino), 2, "the Worker holds its own fd");
    // One more in flight, never read: the Worker dies with it queued.
    p.ch.write(enc.encode(JSON.stringify({ op: "keep" })), [vmo.duplicate()]);
    await p.terminate();
    await p.ch.waitOne(Signals.ChannelPeerClosed, { deadline: Date.now() + 20_000 });
    assert.equal(fdsOnInode(ino), 1, "only this kernel's own fd is left");
    vmo.close();
    assert.equal(fdsOnInode(ino), 0);
    p.ch.close();
    p.k.close();
    assert.deepEqual(p.errors, []);
  });
}

describe("channels across Workers (emulated)", () => suite("emulated"));

const reason = nativeSkipReason();
if (reason === null) {
  describe("channels across Workers (native)", () => suite("native"));
} else {
  describe("channels across Workers (native)", () => {
    it("native backend unavailable", { skip: reason }, () => {});
  });
}

describe("examples/worker_ring.ts", () => {
  for (const backend of ["emulated", "native"] as const) {
    const skip = !isDeno
      ? "runs the example's .ts under Deno only"
      : backend === "native"
      ? nativeSkipReason() ?? undefined
      : undefined;
    it(`runs to the end on the ${backend} backend`, { skip }, async () => {
      const url = new URL("../examples/worker_ring.ts", import.meta.url);
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", url.pathname],
        env: { ZXVM_BACKEND: backend, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = dec.decode(r.stdout) + dec.decode(r.stderr);
      assert.equal(r.code, 0, out);
      assert.match(out, new RegExp(`${backend} backend`));
      assert.match(out, /2000 messages \(22890 bytes\)/);
      assert.match(out, /cannot map the ring RW: ZX_ERR_ACCESS_DENIED/);
    });
  }
});

describe("export and import (one realm)", () => {
  it("a token is good for one import; a closed kernel cannot import", () => {
    const [a, b] = Channel.create();
    const t = b.export();
    assert.equal(b.valid, false);
    using k = Kernel.open({ backend: "emulated" });
    const c = k.importChannel(t);
    assert.equal(c.koid, t.koid);
    assert.equal(c.rights, t.rights);
    assert.equal(status(() => k.importChannel(t)), ZxStatus.ErrBadState);
    const k2 = Kernel.open({ backend: "emulated" });
    k2.close();
    const [x, y] = Channel.create();
    const t2 = y.export();
    assert.equal(status(() => k2.importChannel(t2)), ZxStatus.ErrBadState);
    t2.port.close();
    x.close();
    a.close();
    c.close();
  });

  it("export needs TRANSFER (ErrAccessDenied, not consumed); a closed endpoint is BAD_HANDLE", () => {
    const [a, b] = Channel.create();
    const r = b.replace(Rights.Read | Rights.Write);
    assert.equal(status(() => r.export()), ZxStatus.ErrAccessDenied);
    assert.equal(r.valid, true);
    r.close();
    assert.equal(status(() => r.export()), ZxStatus.ErrBadHandle);
    a.close();
  });
});
