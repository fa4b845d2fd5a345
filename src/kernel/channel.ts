/**
 * Channels (Zircon's `object/channel_dispatcher.cc` and `message_packet.cc`): two endpoints,
 * each with a FIFO of the messages its peer wrote; a message carries bytes and handles.
 *
 * A handle in a message belongs to no handle table but is still a handle of its object (it
 * counts in `handleCount`, so a VMO whose only handle is in flight stays alive). Endpoints and
 * what travels in them are shared by the kernels of one JS realm: an endpoint moves from one
 * kernel to another inside a message, and `owner` says which kernel holds it now.
 *
 * An endpoint closes when its last handle goes (it has at most one: channel handles lack
 * DUPLICATE): its peer sees PEER_CLOSED and loses WRITABLE, and the messages still queued for it
 * are destroyed, which closes the handles they carry — possibly more endpoints, whose queues
 * go the same way ({@link releaseObjects} walks that as a loop, not a recursion).
 *
 * @module
 */
import { Signals } from "../abi/signals.ts";
import { KObject, ObjType } from "./handles.ts";
import type { KernelCore } from "./kernel.ts";
import { VmoObject, type Waiter } from "./vm_object.ts";

/** What a channel endpoint exported to another realm forwards to (see `channel_link.ts`). */
export interface EndpointLink {
  /** The peer wrote `m` to this endpoint: send it to the other realm. */
  forward(m: Message): void;
  /** The peer closed. */
  peerClosed(): void;
  /** Why a handle cannot travel through the link, or null. */
  refuse(obj: KObject): string | null;
}

/** A handle inside a message: the object and the rights the handle had when it was written. */
export interface MessageHandle {
  /** The object. */
  readonly obj: KObject;
  /** The handle's rights (a read installs exactly these). */
  readonly rights: number;
}

/** One queued message. */
export interface Message {
  /** A private copy of the bytes written. */
  readonly bytes: Uint8Array;
  /** The handles, in the order written. */
  readonly handles: MessageHandle[];
}

/** One endpoint of a channel. */
export class ChannelObject extends KObject {
  /** The other endpoint; null once it closed. */
  peer: ChannelObject | null = null;
  /** The other endpoint's koid (`related_koid`; kept after the peer closes, as in Zircon). */
  readonly peerKoid: number;
  /** The kernel whose handle table holds this endpoint; null while it travels or once closed. */
  owner: KernelCore | null;
  /** Pending waits. */
  readonly waiters: Set<Waiter> = new Set();
  /** True once its last handle went. */
  closed = false;
  /**
   * Set while this endpoint was exported to another realm (`channel_link.ts`): what its peer
   * writes goes out through the link instead of into the queue.
   */
  link: EndpointLink | null = null;
  #queue: Message[] = [];
  #head = 0;

  /** @internal Use {@link ChannelObject.pair}. */
  constructor(koid: number, peerKoid: number, owner: KernelCore) {
    super(koid);
    this.peerKoid = peerKoid;
    this.owner = owner;
  }

  /** Two connected endpoints held by `owner`. */
  static pair(koid0: number, koid1: number, owner: KernelCore): [ChannelObject, ChannelObject] {
    const a = new ChannelObject(koid0, koid1, owner);
    const b = new ChannelObject(koid1, koid0, owner);
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  /** `"channel"`. */
  get type(): "channel" {
    return "channel";
  }
  /** `ZX_OBJ_TYPE_CHANNEL`. */
  get zxType(): number {
    return ObjType.Channel;
  }

  /** Messages queued for this endpoint. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** The first queued message, if any. */
  front(): Message | undefined {
    return this.queued > 0 ? this.#queue[this.#head] : undefined;
  }

  /** Remove the first queued message (there is one). */
  dequeue(): Message {
    const m = this.#queue[this.#head];
    this.#queue[this.#head++] = undefined as unknown as Message;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return m;
  }

  /** Take every queued message (the endpoint is being exported: they go through its link). */
  drain(): Message[] {
    const left = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    return left;
  }

  /** Queue `m` for this endpoint (its peer wrote it). */
  enqueue(m: Message): void {
    if (this.link !== null) {
      this.link.forward(m);
      return;
    }
    this.#queue.push(m);
    this.notify();
  }

  /** `ZX_CHANNEL_READABLE` while a message is queued; WRITABLE until the peer closes, then PEER_CLOSED. */
  signals(): number {
    const S = Signals;
    return (this.queued > 0 ? S.ChannelReadable : 0) |
      (this.peer === null ? S.ChannelPeerClosed : S.ChannelWritable);
  }

  /** Settle the waits the current signals satisfy. */
  notify(): void {
    if (this.link !== null && this.peer === null) this.link.peerClosed();
    if (this.waiters.size === 0) return;
    const s = this.signals();
    for (const w of [...this.waiters]) if ((s & w.mask) !== 0) w.resolve(s);
  }

  /**
   * The last handle went: tell the peer, and hand back the messages queued here (the caller
   * destroys them).
   */
  close(): Message[] {
    this.closed = true;
    this.owner = null;
    const p = this.peer;
    this.peer = null;
    if (p !== null) {
      p.peer = null;
      p.notify();
    }
    const left = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    return left;
  }
}

/**
 * Objects that each lost a handle (a table entry deleted, or a message holding it destroyed;
 * `handleCount` already decremented): destroy the VMOs nothing references any more and close
 * the endpoints without handles, destroying their queued messages in turn.
 */
export function releaseObjects(objs: KObject[]): void {
  const work = objs;
  while (work.length > 0) {
    const o = work.pop() as KObject;
    if (o instanceof VmoObject) {
      o.maybeDestroy();
    } else if (o instanceof ChannelObject && o.handleCount === 0 && !o.closed) {
      for (const m of o.close()) dropMessageHandles(m.handles, work);
    }
  }
}

/** Destroy messages: every handle they carry is closed. */
export function destroyMessages(msgs: Message[]): void {
  const work: KObject[] = [];
  for (const m of msgs) dropMessageHandles(m.handles, work);
  releaseObjects(work);
}

function dropMessageHandles(hs: MessageHandle[], work: KObject[]): void {
  for (const h of hs) {
    h.obj.handleCount--;
    work.push(h.obj);
  }
}
