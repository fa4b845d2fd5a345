/**
 * Channel endpoints across realms (Workers, `worker_threads`): each realm runs its own kernels,
 * like Zircon processes, and a `MessagePort` pump joins an endpoint here to one there.
 *
 * Exporting endpoint `E` (whose peer `P` stays here) moves `E` out of its handle table into a
 * {@link Link}: what `P` writes to `E` is sent over the port, and what arrives over the port is
 * queued for `P` as if `E` had written it. Importing a token in another realm makes a new pair
 * there: the caller's endpoint (with `E`'s koid and rights) and a linked endpoint (with `P`'s
 * koid) that does the same on that side.
 *
 * Wire messages (structured clones): `msg` (bytes, and handles: VMOs as a duplicated memfd
 * number — fds are process-wide — with koid, rights, size, content size and name; endpoints as
 * a nested port), `close` (the endpoint on that side closed), `rel` (the receiver closed a
 * memfd it got from us), `nak` (the receiver could not take a memfd: the sender closes it),
 * `hb` (heartbeat).
 *
 * Lifetime and leaks: the sender remembers each memfd it duplicated for the other side until
 * that side reports it closed (`rel`). When the other side goes away without closing — its
 * Worker terminated — the survivor's endpoint sees PEER_CLOSED and the survivor closes the
 * memfds the dead side still held. Node reports a port whose other side went away (its `close`
 * event, also for a terminated Worker); Deno's `MessagePort` does the same once its Node
 * compatibility layer (`node:worker_threads`) is loaded, which this module does. Only as a
 * fallback (a Deno realm without `process.getBuiltinModule`) does each side send a heartbeat
 * every {@link HEARTBEAT_MS} ms, and a side silent for {@link SILENCE_MS} ms is taken as
 * terminated (a realm whose event loop is blocked that long is then cut off). A link ends (its port closes)
 * once its endpoint closed and no memfd is held across it either way.
 *
 * @module
 */
import { Rights } from "../abi/rights.ts";
import {
  ChannelObject,
  destroyMessages,
  type EndpointLink,
  type Message,
  type MessageHandle,
  releaseObjects,
} from "./channel.ts";
import type { KObject } from "./handles.ts";
import type { KernelCore } from "./kernel.ts";
import { join, memberOfKind } from "./realm.ts";
import { VmoObject } from "./vm_object.ts";

/** Heartbeat period (Deno, which does not report a port whose other side is gone). */
export const HEARTBEAT_MS = 250;
/** Silence after which the other side is taken as terminated (Deno). */
export const SILENCE_MS = 30_000;

/**
 * A `MessagePort` (Web or Node `worker_threads`), as far as the type of a token goes (Node's
 * types have no global `MessagePort` type).
 */
export interface PortLike {
  /** Post a structured clone. */
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  /** Disentangle the port. */
  close(): void;
}

/** The parts of a port the link uses. */
interface Port extends PortLike {
  onmessage: ((e: { data: unknown }) => void) | null;
  addEventListener?(type: string, f: () => void): void;
}

/** What an exported endpoint becomes: structured-cloneable, with `port` in the transfer list. */
export interface EndpointToken {
  /** The port of the link (transfer it). */
  port: PortLike;
  /** The endpoint's koid. */
  koid: number;
  /** Its peer's koid. */
  peerKoid: number;
  /** The rights of the exported handle (the imported one gets exactly these). */
  rights: number;
}

interface WireVmo {
  t: "vmo";
  /** Native: the memfd duplicated for the receiver (-1 for emulated memory). */
  fd: number;
  /** Emulated: the shared storage (null for native memory). */
  sab: SharedArrayBuffer | null;
  koid: number;
  rights: number;
  size: number;
  contentSize: number;
  immutable: boolean;
  name: string;
}
interface WireChannel {
  t: "ch";
  token: EndpointToken;
}
type Wire =
  | { t: "msg"; bytes: Uint8Array; handles: Array<WireVmo | WireChannel> }
  | { t: "close" }
  | { t: "rel"; fd: number }
  | { t: "nak"; fd: number }
  | { t: "hb" };

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/**
 * Whether ports report a gone peer (`close`): always on Node; on Deno once its Node layer is
 * loaded, which this does. Only without it do links fall back to the heartbeat (a false
 * "terminated" after a long-blocked event loop would close memfds the other side still uses).
 */
const closeEvents: boolean = (() => {
  if (!isDeno) return true;
  try {
    return (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
      ?.getBuiltinModule?.("node:worker_threads") !== undefined;
  } catch {
    return false;
  }
})();

function unref(id: unknown): void {
  const d = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (d?.unrefTimer !== undefined) d.unrefTimer(id as number);
  else (id as { unref?: () => void }).unref?.();
}

/** Ports already imported in this realm (a token is good for one import). */
const imported = new WeakSet<object>();

/** Why `obj` cannot travel to another realm, or null. */
export function crossRealmRefusal(obj: KObject): string | null {
  if (obj instanceof VmoObject) {
    if (obj.kind === "slice") return "a slice VMO cannot cross to another Worker's kernel";
    if (obj.resizable) {
      return "a resizable VMO cannot cross to another Worker's kernel (its size is not shared)";
    }
    const be = obj.memoryBackend;
    if (be.share === undefined) return "this backend shares no memory with other Workers";
    return be.shareable?.(obj.mem) ?? null;
  }
  return null;
}

/** The pump between one endpoint here and its counterpart in another realm. */
export class Link implements EndpointLink {
  readonly #ep: ChannelObject;
  readonly #port: Port;
  #kernel: KernelCore;
  /** memfds we duplicated for the other side that it has not reported closed. */
  readonly #sent = new Set<number>();
  /** memfds we got from the other side and still hold. */
  readonly #held = new Set<number>();
  #epClosed = false;
  #ended = false;
  #lastSeen = Date.now();
  #timer: unknown = null;

  /** Link `ep` (held by the link: one of its `handleCount`) to `port`. */
  constructor(ep: ChannelObject, port: PortLike, kernel: KernelCore) {
    this.#ep = ep;
    this.#port = port as Port;
    this.#kernel = kernel;
    ep.link = this;
    ep.owner = null;
    this.#port.onmessage = (e) => this.#receive(e.data as Wire);
    this.#port.addEventListener?.("close", () => this.#died());
    if (!closeEvents) {
      this.#timer = setInterval(() => this.#beat(), HEARTBEAT_MS);
      unref(this.#timer);
    }
    for (const m of ep.drain()) this.forward(m);
    if (ep.peer === null) this.peerClosed();
  }

  #beat(): void {
    if (Date.now() - this.#lastSeen > SILENCE_MS) {
      this.#died();
      return;
    }
    this.#post({ t: "hb" });
  }

  #post(w: Wire, transfer: unknown[] = []): void {
    if (this.#ended) return;
    try {
      this.#port.postMessage(w, transfer);
    } catch {
      this.#died();
    }
  }

  /** A kernel of this realm to host what arrives (the link's, or another of its kind). */
  #host(): KernelCore | null {
    if (!this.#kernel.closed) return this.#kernel;
    const k = memberOfKind(this.#kernel.kind, this.#kernel);
    if (k !== null) this.#kernel = k;
    return k;
  }

  /** See {@link EndpointLink.refuse}. */
  refuse(obj: KObject): string | null {
    return crossRealmRefusal(obj);
  }

  /** The peer wrote `m`: send it. Handles that cannot cross are closed. */
  forward(m: Message): void {
    if (this.#epClosed || this.#ended) {
      destroyMessages([m]);
      return;
    }
    const handles: Array<WireVmo | WireChannel> = [];
    const transfer: unknown[] = [];
    const dropped: KObject[] = [];
    for (const h of m.handles) {
      const w = this.#wire(h, transfer);
      if (w !== null) handles.push(w);
      if (!(h.obj instanceof ChannelObject) || w === null) {
        h.obj.handleCount--;
        dropped.push(h.obj);
      }
    }
    transfer.push(m.bytes.buffer as ArrayBuffer);
    this.#post({ t: "msg", bytes: m.bytes, handles }, transfer);
    releaseObjects(dropped);
  }

  #wire(h: MessageHandle, transfer: unknown[]): WireVmo | WireChannel | null {
    const o = h.obj;
    if (o instanceof ChannelObject) {
      const token = exportObject(o, h.rights, this.#kernel);
      transfer.push(token.port);
      return { t: "ch", token };
    }
    if (!(o instanceof VmoObject) || crossRealmRefusal(o) !== null) return null;
    const be = o.memoryBackend;
    let got: number | SharedArrayBuffer | string;
    try {
      got = be.share === undefined ? "no sharing" : be.share(o.mem);
    } catch {
      return null;
    }
    if (typeof got === "string") return null;
    const fd = typeof got === "number" ? got : -1;
    if (fd >= 0) this.#sent.add(fd);
    return {
      t: "vmo",
      fd,
      sab: typeof got === "number" ? null : got,
      koid: o.koid,
      rights: h.rights,
      size: o.size,
      contentSize: o.contentSize,
      immutable: o.immutable,
      name: o.name,
    };
  }

  /** See {@link EndpointLink.peerClosed}: the endpoint here lost its peer. */
  peerClosed(): void {
    if (this.#epClosed) return;
    this.#post({ t: "close" });
    this.#closeEndpoint();
  }

  #closeEndpoint(): void {
    if (this.#epClosed) return;
    this.#epClosed = true;
    this.#ep.handleCount--;
    releaseObjects([this.#ep]);
    this.#maybeEnd();
  }

  #maybeEnd(): void {
    if (this.#ended || !this.#epClosed || this.#sent.size > 0 || this.#held.size > 0) return;
    this.#end();
  }

  #end(): void {
    this.#ended = true;
    if (this.#timer !== null) clearInterval(this.#timer as number);
    this.#timer = null;
    this.#port.onmessage = null;
    this.#port.close();
  }

  /** The other side went away without a word (its Worker terminated). */
  #died(): void {
    if (this.#ended) return;
    const fds = [...this.#sent];
    this.#sent.clear();
    this.#closeEndpoint();
    this.#closeFds(fds); // what the dead side held
    if (!this.#ended) this.#end();
  }

  /** Close memfds we duplicated for the other side (through a native kernel of this realm). */
  #closeFds(fds: number[]): void {
    const k = this.#kernel.kind === "native" && !this.#kernel.closed
      ? this.#kernel
      : memberOfKind("native", this.#kernel);
    if (k === null || k.backend.receive === undefined) return;
    for (const fd of fds) {
      try {
        k.backend.receive(fd, () => {}).close();
      } catch { /* not a memfd any more */ }
    }
  }

  #receive(w: Wire): void {
    this.#lastSeen = Date.now();
    if (this.#ended || w === null || typeof w !== "object") return;
    switch (w.t) {
      case "msg":
        this.#arrive(w.bytes, w.handles);
        return;
      case "close":
        this.#closeEndpoint();
        return;
      case "rel":
        this.#sent.delete(w.fd);
        this.#maybeEnd();
        return;
      case "nak": // the other side could not take it: the fd is still open
        if (this.#sent.delete(w.fd)) this.#closeFds([w.fd]);
        this.#maybeEnd();
        return;
    }
  }

  #released(fd: number): void {
    this.#held.delete(fd);
    this.#post({ t: "rel", fd });
    this.#maybeEnd();
  }

  #arrive(bytes: Uint8Array, wire: Array<WireVmo | WireChannel>): void {
    const k = this.#host();
    const handles: MessageHandle[] = [];
    for (const w of wire) {
      if (w.t === "ch") {
        if (k === null) {
          w.token.port.close();
          continue;
        }
        const [mine] = importObjects(k, w.token);
        mine.owner = null; // in a message
        mine.handleCount = 1; // the message's handle
        handles.push({ obj: mine, rights: w.token.rights });
        continue;
      }
      const be = k?.backend;
      const fd = w.fd;
      let obj: VmoObject;
      try {
        if (k === null || be?.receive === undefined) throw new Error("nothing can host it");
        // A VMO of another backend kind than the hosting kernel's cannot arrive: dropped.
        const mem = be.receive(w.sab ?? fd, () => this.#released(fd));
        if (fd >= 0) this.#held.add(fd);
        k.ctx.pool.host(mem);
        obj = VmoObject.received(w.koid, k.ctx.pool, mem, w);
      } catch {
        if (fd >= 0) this.#post({ t: "nak", fd });
        continue;
      }
      obj.handleCount = 1;
      handles.push({ obj, rights: w.rights });
    }
    if (handles.length > 0 && k !== null) join(k);
    const msg: Message = { bytes, handles };
    const p = this.#ep.peer;
    if (p === null || this.#epClosed) destroyMessages([msg]);
    else p.enqueue(msg);
  }
}

/**
 * Export `ep` (already out of every handle table, its handle counted in `handleCount`, now the
 * link's) with `rights`: the token for another realm.
 */
export function exportObject(ep: ChannelObject, rights: number, k: KernelCore): EndpointToken {
  const { port1, port2 } = new MessageChannel();
  join(k);
  new Link(ep, port1, k);
  return {
    port: port2,
    koid: ep.koid,
    peerKoid: ep.peerKoid,
    rights: rights & Rights.DefaultChannel,
  };
}

/**
 * Import a token in kernel `k`: the caller's endpoint (not yet in a table, `handleCount` 0) and
 * the linked one.
 */
export function importObjects(k: KernelCore, t: EndpointToken): [ChannelObject, ChannelObject] {
  imported.add(t.port);
  const [mine, linked] = ChannelObject.pair(t.koid, t.peerKoid, k);
  linked.handleCount = 1;
  join(k);
  new Link(linked, t.port, k);
  return [mine, linked];
}

/** Whether `port` was imported in this realm already. */
export function wasImported(port: object): boolean {
  return imported.has(port);
}
