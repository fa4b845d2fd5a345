/**
 * The Worker of `bench/workers.bench.ts`. It serves one job, given in its first message, and
 * closes itself after 3 s without work (so the bench process can exit):
 * - `sab { sab }`: ping-pong over an `Int32Array` with `Atomics.wait` / `notify` (the anchor);
 * - `futex { token, backend }`: the same over word 0 of the VMO that arrives on the channel,
 *   with `futexWait` / `futexWake`;
 * - `echo { token, backend }`: write every channel message back, handles included;
 * - `ack`: answer every `postMessage` with an empty one (the ArrayBuffer baselines).
 *
 * @module
 */
import {
  type Channel,
  type ChannelToken,
  Kernel,
  type Vmo,
  ZxError,
  ZxStatus,
  ZxVmOption as O,
} from "../mod.ts";

interface Job {
  mode: "sab" | "futex" | "echo" | "ack";
  sab?: SharedArrayBuffer;
  token?: ChannelToken;
  backend?: "native" | "emulated";
}

const IDLE = 3000;
const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(m: unknown): void;
  close(): void;
};

function pingPongSab(sab: SharedArrayBuffer): void {
  const w = new Int32Array(sab);
  for (;;) {
    const v = Atomics.load(w, 0);
    if ((v & 1) === 0) {
      if (Atomics.wait(w, 0, v, IDLE) === "timed-out") return scope.close();
      continue;
    }
    Atomics.store(w, 0, v + 1);
    Atomics.notify(w, 0);
  }
}

async function nextMessage(ch: Channel): Promise<{ bytes: Uint8Array; handles: unknown[] } | null> {
  try {
    const { Signals } = await import("../mod.ts");
    await ch.waitOne(Signals.ChannelReadable | Signals.ChannelPeerClosed, {
      deadline: Date.now() + IDLE,
    });
    return ch.read();
  } catch {
    return null;
  }
}

async function pingPongFutex(k: Kernel, ch: Channel): Promise<void> {
  const msg = await nextMessage(ch);
  if (msg === null) return;
  const vmo = msg.handles[0] as Vmo;
  const m = k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, 4096);
  const b = new Uint8Array(4);
  const dv = new DataView(b.buffer);
  ch.write(new Uint8Array(0)); // ready
  for (;;) {
    const v = new DataView(m.read(0, 4).buffer).getInt32(0, true);
    if ((v & 1) === 0) {
      try {
        k.futexWait(m.addr, v, { deadline: Date.now() + IDLE });
      } catch (e) {
        if (e instanceof ZxError && e.status === ZxStatus.ErrTimedOut) break;
        if (!(e instanceof ZxError && e.status === ZxStatus.ErrBadState)) throw e;
      }
      continue;
    }
    dv.setInt32(0, v + 1, true);
    m.write(0, b);
    k.futexWake(m.addr);
  }
  m.unmap();
  vmo.close();
}

async function echo(ch: Channel): Promise<void> {
  for (;;) {
    const msg = await nextMessage(ch);
    if (msg === null) return;
    ch.write(msg.bytes, msg.handles as Vmo[]);
  }
}

function ack(): void {
  let timer = setTimeout(() => scope.close(), IDLE);
  scope.onmessage = () => {
    clearTimeout(timer);
    timer = setTimeout(() => scope.close(), IDLE);
    scope.postMessage(0);
  };
}

scope.onmessage = async (e: MessageEvent) => {
  const job = e.data as Job;
  if (job.mode === "sab") return pingPongSab(job.sab!);
  if (job.mode === "ack") return ack();
  const k = Kernel.open({ backend: job.backend });
  const ch = k.importChannel(job.token!);
  if (job.mode === "futex") await pingPongFutex(k, ch);
  else await echo(ch);
  ch.close();
  k.close();
  scope.close();
};
