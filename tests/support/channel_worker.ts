/**
 * The Worker of tests/workers_test.ts: its own kernel (a Zircon process of its own) imports the
 * channel endpoint the main thread exported, then serves JSON commands that arrive on that
 * channel. Runs under Deno (a Web Worker) and Node (worker_threads).
 *
 * Commands (`{ op, ... }`, the handles in the same message):
 * - `echo`: write back the same bytes and handles;
 * - `keep`: keep `handles[0]` (a VMO); reply its koid and rights;
 * - `mapWrite { text }`: map the kept VMO read-write (once) and write `text` at 0 through it;
 * - `read { n }`: reply the first `n` bytes of the kept VMO's mapping as text;
 * - `tryRW`: try to map `handles[0]` read-write and to write it; reply both statuses;
 * - `make { text }`: create a VMO holding `text` and send it back (with its koid);
 * - `bump { off }`: map the kept VMO read-write (once), add 1 to the word at `off`, wake its
 *   waiters; reply how many woke;
 * - `wait { off, value, ms }`: map the kept VMO (read-only unless mapped already), block in
 *   `futexWait` on the word at `off` for up to `ms`; reply the status (0 when woken);
 * - `bye`: close the endpoint (the main thread sees PEER_CLOSED);
 * - `endpoint`: reply with one end of a new channel; serve commands on it too.
 *
 * @module
 */
import {
  type Channel,
  type ChannelToken,
  Kernel,
  type Mapping,
  type Vmo,
  ZxError,
  ZxVmOption as O,
} from "../../mod.ts";

/** What the main thread posts. */
interface Start {
  token: ChannelToken;
  backend: "native" | "emulated";
}

const enc = new TextEncoder();

function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}
const dec = new TextDecoder();

function status(f: () => unknown): number {
  try {
    f();
    return 0;
  } catch (e) {
    return e instanceof ZxError ? e.status : -1;
  }
}

async function serve(k: Kernel, ch: Channel): Promise<void> {
  let kept: Vmo | null = null;
  let map: Mapping | null = null;
  const reply = (o: unknown, hs: Array<Vmo | Channel> = []): void =>
    ch.write(enc.encode(JSON.stringify(o)), hs);
  for await (const msg of ch) {
    const cmd = JSON.parse(dec.decode(msg.bytes)) as {
      op: string;
      text?: string;
      n?: number;
      off?: number;
      value?: number;
      ms?: number;
    };
    switch (cmd.op) {
      case "echo":
        ch.write(msg.bytes, msg.handles);
        break;
      case "keep":
        kept = msg.handles[0] as Vmo;
        reply({ koid: kept.koid, rights: kept.rights });
        break;
      case "mapWrite":
        map ??= k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, kept as Vmo, 0, 4096);
        map.write(0, enc.encode(cmd.text ?? ""));
        reply({ ok: true });
        break;
      case "read":
        map ??= k.rootVmar.map(O.VmPermRead, 0, kept as Vmo, 0, 4096);
        reply({ text: dec.decode(map.read(0, cmd.n ?? 0)) });
        break;
      case "tryRW": {
        const v = msg.handles[0] as Vmo;
        const mapStatus = status(() =>
          k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, v, 0, 4096).unmap()
        );
        const writeStatus = status(() => v.write(new Uint8Array([1]), 0));
        reply({ mapStatus, writeStatus, koid: v.koid, rights: v.rights });
        v.close();
        break;
      }
      case "make": {
        const v = k.createVmo(4096);
        v.write(enc.encode(cmd.text ?? ""), 0);
        reply({ koid: v.koid }, [v]);
        break;
      }
      case "bump": {
        map ??= k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, kept as Vmo, 0, 4096);
        const off = cmd.off ?? 0;
        const w = new DataView(map.read(off, 4).buffer);
        map.write(off, le32(w.getUint32(0, true) + 1));
        reply({ woke: k.futexWake(map.addr + off) });
        break;
      }
      case "wait": {
        map ??= k.rootVmar.map(O.VmPermRead, 0, kept as Vmo, 0, 4096);
        const m = map;
        const deadline = Date.now() + (cmd.ms ?? 0);
        reply({
          status: status(() => k.futexWait(m.addr + (cmd.off ?? 0), cmd.value ?? 0, { deadline })),
        });
        break;
      }
      case "bye":
        ch.close();
        map?.unmap();
        kept?.close();
        return;
      case "endpoint": {
        const [mine, theirs] = k.createChannel();
        reply({}, [theirs]);
        void serve(k, mine);
        break;
      }
    }
    for (const h of msg.handles) if (h !== kept && cmd.op !== "echo") h.close();
  }
  ch.close();
  map?.unmap();
  kept?.close();
}

function start(s: Start): void {
  const k = Kernel.open({ backend: s.backend });
  void serve(k, k.importChannel(s.token));
}

if (typeof Deno !== "undefined") {
  const scope = globalThis as unknown as { onmessage: ((e: MessageEvent) => void) | null };
  scope.onmessage = (e: MessageEvent): void => start(e.data as Start);
} else {
  const wt = await import("node:worker_threads");
  wt.parentPort?.once("message", (m: Start) => start(m));
}
