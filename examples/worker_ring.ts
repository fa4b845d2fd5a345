/**
 * A producer/consumer ring buffer in one VMO shared with a Worker, synchronised with futexes.
 *
 * - The main thread (producer) owns the ring VMO and maps it read-write. It sends the Worker a
 *   **read-only** duplicate (READ | MAP | TRANSFER | GET_PROPERTY): the Worker can map and read
 *   the ring, and cannot write it (it tries, and prints the `ACCESS_DENIED`).
 * - The Worker (consumer) owns a one-page "tail" VMO, which it maps read-write and sends back
 *   read-only: each side writes only its own counter.
 * - Word 0 of the ring is `head` (messages produced), word 0 of the tail VMO is `tail`
 *   (messages consumed). The producer waits (without blocking its event loop) while the ring
 *   is full; the consumer blocks in `futexWait` while it is empty. Each changes its counter,
 *   then wakes the other: the futex protocol, so no wake is ever lost.
 *
 * ```sh
 * deno run --allow-ffi --allow-read --allow-env examples/worker_ring.ts          # native
 * ZXVM_BACKEND=emulated deno run --allow-read --allow-env examples/worker_ring.ts # pure TS
 * npm run ring                                                                   # the same
 * ```
 *
 * Prints what it did and exits non-zero if any message arrived wrong.
 *
 * @module
 */
import {
  type Channel,
  type ChannelToken,
  Kernel,
  Rights,
  Signals,
  type Vmo,
  type ZxError,
  ZxStatus,
  ZxVmOption as O,
} from "../mod.ts";

const P = 4096;
const SLOT = 64; // bytes per message slot: a 4-byte length, then the text
const SLOTS = 32; // slots in the ring (one page of data after the header page)
const COUNT = 2000; // messages to send
const enc = new TextEncoder();
const dec = new TextDecoder();

function getWord(m: { read(off: number, n: number): Uint8Array }, off: number): number {
  return new DataView(m.read(off, 4).buffer).getInt32(0, true);
}

function setWord(m: { write(off: number, b: Uint8Array): void }, off: number, v: number): void {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  m.write(off, b); // an aligned 4-byte write is one atomic word
}

/** Wait until `ch` has a message and read it. */
async function receive(ch: Channel): Promise<{ text: string; handles: Vmo[] }> {
  await ch.waitOne(Signals.ChannelReadable | Signals.ChannelPeerClosed);
  const m = ch.read();
  return { text: dec.decode(m.bytes), handles: m.handles as Vmo[] };
}

// ------------------------------------------------------------------------- the consumer

async function consumer({ token, backend }: Start): Promise<void> {
  const k = Kernel.open({ backend });
  const ch = k.importChannel(token);
  const { handles: [ring] } = await receive(ch);
  const r = k.rootVmar.map(O.VmPermRead, 0, ring, 0, 2 * P);
  let refused = "";
  try {
    k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, ring, 0, P);
  } catch (e) {
    refused = (e as ZxError).message;
  }
  const tailVmo = k.createVmo(P);
  const t = k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, tailVmo, 0, P);
  ch.write(enc.encode("tail"), [tailVmo.duplicate(Rights.Read | Rights.Map | Rights.Transfer)]);
  let tail = 0;
  let bytes = 0;
  while (tail < COUNT) {
    let head = getWord(r, 0);
    while (head === tail) {
      try {
        k.futexWait(r.addr, head); // a Worker may block: the main thread's loop runs on
      } catch (e) {
        if ((e as ZxError).status !== ZxStatus.ErrBadState) throw e; // ErrBadState: head moved meanwhile
      }
      head = getWord(r, 0);
    }
    for (; tail < head; tail++) {
      const at = P + (tail % SLOTS) * SLOT;
      const len = getWord(r, at);
      const text = dec.decode(r.read(at + 4, len));
      if (text !== `message ${tail}`) throw new Error(`slot ${tail % SLOTS}: got "${text}"`);
      bytes += len;
      setWord(t, 0, tail + 1); // hand the slot back, then wake the producer
      k.futexWake(t.addr);
    }
  }
  ch.write(enc.encode(JSON.stringify({ consumed: tail, bytes, refused })));
  ch.close();
  k.close();
}

// ------------------------------------------------------------------------- the producer

type WorkerLike = { postMessage(m: unknown, t: unknown[]): void; terminate(): unknown };

/** What the Worker gets first: its end of the channel, and the backend to use. */
interface Start {
  token: ChannelToken;
  backend: "native" | "emulated";
}

/** `ZXVM_BACKEND` (when readable), else "auto". */
function backendFromEnv(): "auto" | "native" | "emulated" {
  let v: string | undefined;
  try {
    v = typeof Deno !== "undefined" ? Deno.env.get("ZXVM_BACKEND") : process.env.ZXVM_BACKEND;
  } catch {
    v = undefined; // no --allow-env
  }
  return v === "native" || v === "emulated" ? v : "auto";
}

async function startWorker(start: Start): Promise<WorkerLike> {
  const { token } = start;
  const url = new URL(import.meta.url);
  if (typeof Deno !== "undefined") {
    const W = (globalThis as unknown as { Worker: new (u: URL, o: object) => WorkerLike }).Worker;
    const w = new W(url, { type: "module" });
    w.postMessage(start, [token.port]);
    return w;
  }
  const wt = await import("node:worker_threads");
  const { fileURLToPath } = await import("node:url");
  const w = new wt.Worker(fileURLToPath(url));
  w.postMessage(start, [token.port as never]);
  return w as unknown as WorkerLike;
}

async function producer(): Promise<void> {
  using k = Kernel.open({ backend: backendFromEnv() });
  console.log(`zxvm worker ring: ${k.backend} backend (${k.backendReason})`);
  const [ch, theirs] = k.createChannel();
  const worker = await startWorker({ token: theirs.export(), backend: k.backend });
  using ring = k.createVmo(2 * P);
  using m = k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, ring, 0, 2 * P);
  ch.write(enc.encode("ring"), [ring.duplicate(Rights.Read | Rights.Map | Rights.Transfer)]);
  const { handles: [tailVmo] } = await receive(ch);
  using t = k.rootVmar.map(O.VmPermRead, 0, tailVmo, 0, P);
  const t0 = performance.now();
  let fullWaits = 0;
  for (let head = 0; head < COUNT; head++) {
    let tail = getWord(t, 0);
    while (head - tail >= SLOTS) {
      fullWaits++;
      await k.futexWaitAsync(t.addr, tail).catch((e: ZxError) => {
        if (e.status !== ZxStatus.ErrBadState) throw e; // ErrBadState: the tail moved meanwhile
      });
      tail = getWord(t, 0);
    }
    const at = P + (head % SLOTS) * SLOT;
    const text = enc.encode(`message ${head}`);
    m.write(at + 4, text);
    setWord(m, at, text.length);
    setWord(m, 0, head + 1); // publish, then wake the consumer
    k.futexWake(m.addr);
  }
  const summary = JSON.parse((await receive(ch)).text);
  const ms = performance.now() - t0;
  console.log(`  the Worker's read-only handle cannot map the ring RW: ${summary.refused}`);
  console.log(
    `  ${summary.consumed} messages (${summary.bytes} bytes) through ${SLOTS} slots in ` +
      `${ms.toFixed(1)} ms; the producer waited for room ${fullWaits} times`,
  );
  ch.close();
  tailVmo.close();
  await worker.terminate();
  if (summary.consumed !== COUNT || !summary.refused.includes("ACCESS_DENIED")) {
    console.log("  !! unexpected result");
    process.exitCode = 1;
  }
}

// One file, two roles: a Worker gets the token as its first message.
const isWorker = typeof Deno !== "undefined"
  ? typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined"
  : !(await import("node:worker_threads")).isMainThread;
if (isWorker) {
  if (typeof Deno !== "undefined") {
    const scope = globalThis as unknown as { onmessage: ((e: MessageEvent) => void) | null };
    scope.onmessage = (e) => void consumer(e.data as Start);
  } else {
    const wt = await import("node:worker_threads");
    wt.parentPort?.once("message", (start: Start) => void consumer(start));
  }
} else {
  await producer();
}
