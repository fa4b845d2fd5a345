/**
 * The Worker of the lying-values suite (tests/support/lying.ts): rewrites a SharedArrayBuffer
 * over and over (alternating 0x5A and 0xA5 in every byte) — and, when asked, grows it — until
 * the main thread sets the stop flag, while the main thread copies the buffer into and out of
 * zxvm. Runs under Deno (a Web Worker) and Node (worker_threads). No zxvm imports.
 *
 * @module
 */

/** What the main thread sends. */
interface Job {
  /** The buffer to rewrite (growable when `grow`). */
  data: SharedArrayBuffer;
  /** Int32 [0]: stop flag (main sets 1); [1]: rewrites done. */
  ctl: SharedArrayBuffer;
  /** Also grow `data` (by 64 bytes per round, up to its maximum). */
  grow: boolean;
}

function work(job: Job, post: (m: unknown) => void): void {
  const ctl = new Int32Array(job.ctl);
  const g = job.data as unknown as { grow(n: number): void; maxByteLength: number };
  let v = 0xa5;
  let first = true;
  while (Atomics.load(ctl, 0) === 0) {
    new Uint8Array(job.data).fill(v);
    v ^= 0xff;
    if (job.grow && job.data.byteLength + 64 <= g.maxByteLength) g.grow(job.data.byteLength + 64);
    Atomics.add(ctl, 1, 1);
    if (first) {
      first = false;
      post("ready");
    }
  }
  post("done");
}

if (typeof Deno !== "undefined") {
  const scope = globalThis as unknown as {
    onmessage: ((e: MessageEvent) => void) | null;
    postMessage(m: unknown): void;
  };
  scope.onmessage = (e: MessageEvent): void => work(e.data as Job, (m) => scope.postMessage(m));
} else {
  const wt = await import("node:worker_threads");
  work(wt.workerData as Job, (m) => wt.parentPort?.postMessage(m));
}
