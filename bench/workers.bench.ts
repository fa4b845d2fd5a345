/**
 * Memory shared with a Worker (issue 12's benchmarks), each group with its anchor measured in
 * the same run:
 * - futex ping-pong, main <-> Worker, over word 0 of a shared VMO (the main thread waits with
 *   `futexWaitAsync`, the Worker blocks in `futexWait`) vs the same over a `SharedArrayBuffer`
 *   with `Atomics.waitAsync` / `Atomics.wait` / `notify` (target <= 1.5x);
 * - handing a VMO to a Worker (a duplicate written into a channel, the Worker's echo of it
 *   back) at 64 KiB and 64 MiB vs `postMessage` of a 64 MiB `ArrayBuffer`, copied and
 *   transferred (target: zxvm's time does not grow with size, 64 MiB within 2x of 64 KiB);
 * - a channel write + read of 64 bytes and one handle, same kernel and across a Worker.
 *
 * Workers close themselves after 3 s without work, so the process can exit.
 *
 * @module
 */
import {
  type Channel,
  Kernel,
  Signals,
  type Vmo,
  ZxError,
  ZxStatus,
  ZxVmOption as O,
} from "../mod.ts";
import { BACKENDS, MiB, opts } from "./_common.ts";

const WORKER = new URL("./_worker.ts", import.meta.url);

function worker(job: Record<string, unknown>, transfer: Transferable[] = []): Worker {
  const w = new Worker(WORKER, { type: "module" });
  w.postMessage(job, transfer);
  return w;
}

async function reply(ch: Channel): Promise<{ bytes: Uint8Array; handles: unknown[] }> {
  await ch.waitOne(Signals.ChannelReadable | Signals.ChannelPeerClosed);
  return ch.read();
}

// ----------------------------------------------------------------- ping-pong

let sabWords: Int32Array | null = null;
async function sabRound(): Promise<void> {
  if (sabWords === null) {
    sabWords = new Int32Array(new SharedArrayBuffer(4));
    worker({ mode: "sab", sab: sabWords.buffer });
  }
  const w = sabWords;
  const v = Atomics.load(w, 0) + 1; // odd: the Worker's turn
  Atomics.store(w, 0, v);
  Atomics.notify(w, 0);
  while (Atomics.load(w, 0) === v) {
    const r = Atomics.waitAsync(w, 0, v);
    if (r.async) await r.value;
  }
}

Deno.bench("js: SharedArrayBuffer + Atomics ping-pong", opts("ping-pong", true), sabRound);

interface FutexSide {
  k: Kernel;
  vmo: Vmo;
  m: ReturnType<Kernel["rootVmar"]["map"]>;
}
const futexSides = new Map<string, Promise<FutexSide>>();

function futexSide(backend: "native" | "emulated"): Promise<FutexSide> {
  let p = futexSides.get(backend);
  if (p === undefined) {
    p = (async () => {
      const k = Kernel.open({ backend });
      const [ch, theirs] = k.createChannel();
      const token = theirs.export();
      worker({ mode: "futex", token, backend }, [token.port as unknown as Transferable]);
      const vmo = k.createVmo(4096);
      const m = k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, 4096);
      ch.write(new Uint8Array(0), [vmo.duplicate()]);
      await reply(ch);
      ch.waitOne(Signals.ChannelPeerClosed).then(() => ch.close(), () => {});
      return { k, vmo, m };
    })();
    futexSides.set(backend, p);
  }
  return p;
}

const le = new Uint8Array(4);
const leView = new DataView(le.buffer);
function word(m: FutexSide["m"]): number {
  return new DataView(m.read(0, 4).buffer).getInt32(0, true);
}

for (const be of BACKENDS) {
  Deno.bench(
    `${be}: futex ping-pong (futexWaitAsync <-> futexWait)`,
    opts("ping-pong"),
    async () => {
      const { k, m } = await futexSide(be);
      const v = word(m) + 1;
      leView.setInt32(0, v, true);
      m.write(0, le);
      k.futexWake(m.addr);
      while (word(m) === v) {
        await k.futexWaitAsync(m.addr, v).catch((e) => {
          if (!(e instanceof ZxError && e.status === ZxStatus.ErrBadState)) throw e;
        });
      }
    },
  );
}

// ----------------------------------------------------------------- handing memory over

let ackWorker: Worker | null = null;
function ackRound(msg: unknown, transfer: Transferable[]): Promise<void> {
  if (ackWorker === null) ackWorker = worker({ mode: "ack" });
  const w = ackWorker;
  return new Promise((resolve) => {
    w.onmessage = () => resolve();
    w.postMessage(msg, transfer);
  });
}

const copied = new ArrayBuffer(64 * MiB);
new Uint8Array(copied).fill(1);
Deno.bench(
  "js: postMessage 64 MiB ArrayBuffer (copy)",
  opts("hand 64 MiB to a Worker", true),
  () => ackRound(copied, []),
);
Deno.bench(
  "js: postMessage 64 MiB ArrayBuffer (transfer)",
  opts("hand 64 MiB to a Worker"),
  async (b) => {
    const ab = new ArrayBuffer(64 * MiB); // a fresh one each time: a transferred one is gone
    new Uint8Array(ab)[0] = 1;
    b.start();
    await ackRound(ab, [ab]);
    b.end();
  },
);

const echoes = new Map<string, Promise<Channel>>();
function echoChannel(backend: "native" | "emulated"): Promise<Channel> {
  let p = echoes.get(backend);
  if (p === undefined) {
    p = Promise.resolve().then(() => {
      const k = Kernel.open({ backend });
      const [ch, theirs] = k.createChannel();
      const token = theirs.export();
      worker({ mode: "echo", token, backend }, [token.port as unknown as Transferable]);
      ch.waitOne(Signals.ChannelPeerClosed).then(() => ch.close(), () => {});
      return ch;
    });
    echoes.set(backend, p);
  }
  return p;
}

const vmos = new Map<string, Vmo>();
/** A VMO of `size` bytes (written, so it has pages) in the kernel of `ch`. */
function vmoOf(ch: Channel, size: number): Vmo {
  const key = `${ch.kernel.backend}/${size}`;
  let v = vmos.get(key);
  if (v === undefined) {
    v = ch.kernel.createVmo(size);
    v.write(new Uint8Array(size).fill(1), 0);
    vmos.set(key, v);
  }
  return v;
}

for (const be of BACKENDS) {
  for (const [tag, size] of [["64 KiB", 64 * 1024], ["64 MiB", 64 * MiB]] as const) {
    Deno.bench(
      `${be}: hand a ${tag} VMO to a Worker and back`,
      opts("hand 64 MiB to a Worker"),
      async () => {
        const ch = await echoChannel(be);
        const src = vmoOf(ch, size);
        ch.write(new Uint8Array(8), [src.duplicate()]);
        const back = await reply(ch);
        for (const h of back.handles as Vmo[]) h.close();
      },
    );
  }
}

// ----------------------------------------------------------------- channel messages

const payload = new Uint8Array(64);
for (const be of BACKENDS) {
  let pair: [Channel, Channel, Kernel] | null = null;
  Deno.bench(
    `${be}: channel write+read 64 B + 1 handle (same kernel)`,
    opts(`channel ${be}`, true),
    () => {
      if (pair === null) {
        const k = Kernel.open({ backend: be });
        pair = [...k.createChannel(), k];
      }
      const [a, b, k] = pair;
      a.write(payload, [k.createVmo(4096)]);
      const m = b.read();
      (m.handles[0] as Vmo).close();
    },
  );
  Deno.bench(
    `${be}: channel write+read 64 B + 1 handle (round trip to a Worker)`,
    opts(`channel ${be}`),
    async () => {
      const ch = await echoChannel(be);
      ch.write(payload, [ch.kernel.createVmo(4096)]);
      const m = await reply(ch);
      for (const h of m.handles as Vmo[]) h.close();
    },
  );
}
