/**
 * Channels between kernels of one JS realm (two `Kernel.open()`s: two Zircon processes), the
 * lifetime of what travels in them, `waitOne` on channel signals and the async iterator.
 *
 * A VMO written in one kernel and read in another is the same VMO (same koid, same state,
 * same memory: mapping it in both kernels maps the same pages); it lives as long as any kernel
 * references it — also after the kernel that created it closed. Closing an endpoint closes the
 * handles queued for it; on the native backend the test also follows the VMO's memfd in
 * `/proc/self/fd` (it is closed exactly when nothing references the VMO any more).
 *
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Channel,
  ChannelOptions,
  Kernel,
  Rights,
  Signals,
  type Vmo,
  VmoOptions,
  ZxError,
  ZxStatus,
} from "../../mod.ts";
import { fdsOnInode, inodeWithMarker } from "../support/leak_probe.ts";
import { expectStatus, expectTypeError, O, P, RW, type SuiteContext } from "./helpers.ts";

const S = ZxStatus;
const R = Signals.ChannelReadable;
const W = Signals.ChannelWritable;
const PC = Signals.ChannelPeerClosed;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Run `fn` with two fresh kernels of the backend, both closed afterwards. */
function withTwo(t: SuiteContext, fn: (a: Kernel, b: Kernel) => void): void {
  const a = t.open();
  const b = t.open();
  try {
    fn(a, b);
  } finally {
    a.close();
    b.close();
  }
}

/** The async form of {@link withTwo}. */
async function withTwoAsync(
  t: SuiteContext,
  fn: (a: Kernel, b: Kernel) => Promise<void>,
): Promise<void> {
  const a = t.open();
  const b = t.open();
  try {
    await fn(a, b);
  } finally {
    a.close();
    b.close();
  }
}

/** A VMO of `k` holding a fresh random marker at offset 0, and the marker. */
function markedVmo(k: Kernel, size = 2 * P): { vmo: Vmo; marker: Uint8Array } {
  const vmo = k.createVmo(size);
  const marker = new Uint8Array(16);
  crypto.getRandomValues(marker);
  marker[0] = 0x7a;
  vmo.write(marker, 0);
  return { vmo, marker };
}

/** A kernel of the other backend kind than `k`'s, or null when it cannot be opened here. */
function otherKind(k: Kernel): Kernel | null {
  try {
    return Kernel.open({ backend: k.backend === "native" ? "emulated" : "native", seed: 3 });
  } catch (e) {
    if (e instanceof ZxError) return null;
    throw e;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Register the tests of channels between kernels. */
export function channelTransferTests(t: SuiteContext): void {
  describe("Channel between two kernels", () => {
    betweenKernels(t);
    lifetime(t);
    backends(t);
  });
  describe("Channel: waitOne and the async iterator", () => {
    waits(t);
    iterator(t);
  });
}

function betweenKernels(t: SuiteContext): void {
  it("createChannel(0, peer): one endpoint in each kernel; bytes flow both ways", () => {
    withTwo(t, (a, b) => {
      const [inA, inB] = a.createChannel(0, b);
      assert.equal(inA.kernel, a);
      assert.equal(inB.kernel, b);
      assert.deepEqual([a.handleCount, b.handleCount], [1, 1]);
      assert.equal(inA.basicInfo().relatedKoid, inB.koid);
      inA.write(enc.encode("to b"));
      inB.write(enc.encode("to a"));
      assert.equal(dec.decode(inB.read().bytes), "to b");
      assert.equal(dec.decode(inA.read().bytes), "to a");
      // Handles stay per kernel: b's VMO is ErrBadHandle in a write through a's endpoint.
      using foreign = b.createVmo(P);
      expectStatus(() => inA.write(new Uint8Array(0), [foreign]), S.ErrBadHandle);
      assert.ok(foreign.valid);
      inA.close();
      assert.equal(inB.signals, PC);
      inB.close();
    });
  });

  it("createChannel: a closed peer kernel is ErrBadState; a non-kernel peer a TypeError", () => {
    withTwo(t, (a, b) => {
      b.close();
      expectStatus(() => a.createChannel(0, b), S.ErrBadState, "zx_channel_create");
      for (const bad of [{}, null, a.rootVmar, Object.create(Kernel.prototype)]) {
        expectTypeError(() => a.createChannel(0, bad as unknown as Kernel));
      }
      assert.equal(a.handleCount, 0);
    });
  });

  it("a VMO sent to another kernel: same koid and rights, and it maps the same memory", () => {
    withTwo(t, (a, b) => {
      const [inA, inB] = a.createChannel(0, b);
      const { vmo, marker } = markedVmo(a);
      const koid = vmo.koid;
      using mapA = a.rootVmar.map(RW, 0, vmo, 0, 2 * P);
      inA.write(enc.encode("vmo"), [vmo]);
      assert.equal(vmo.valid, false);
      const got = inB.read().handles[0] as Vmo;
      assert.equal(got.kernel, b);
      assert.equal(got.koid, koid);
      assert.equal(got.rights, Rights.DefaultVmo);
      assert.deepEqual(got.read(16, 0), marker);
      using mapB = b.rootVmar.map(RW, 0, got, 0, 2 * P);
      mapB.write(P + 5, enc.encode("from b"));
      assert.equal(dec.decode(mapA.read(P + 5, 6)), "from b", "B's writes reach A's mapping");
      mapA.bytes()[100] = 42;
      assert.equal(mapB.read(100, 1)[0], 42, "A's writes reach B's mapping");
      assert.equal(got.info().numMappings, 2, "one VMO, mapped in two kernels");
      // Koids stay unique: objects made in b never take the travelling VMO's koid.
      using own = b.createVmo(P);
      assert.notEqual(own.koid, koid);
      got.close();
      inA.close();
      inB.close();
    });
  });

  it("the VMO's state is shared: a resize in one kernel is seen (and detaches views) in the other", () => {
    withTwo(t, (a, b) => {
      const [inA, inB] = a.createChannel(0, b);
      const vmo = a.createVmo(4 * P, VmoOptions.Resizable);
      using keep = vmo.duplicate();
      using mapA = a.rootVmar.map(RW, 0, keep, 0, 4 * P);
      const view = mapA.bytes();
      assert.equal(view.byteLength, 4 * P);
      inA.write(new Uint8Array(0), [vmo]);
      const got = inB.read().handles[0] as Vmo;
      got.setSize(P);
      assert.equal(keep.size, P);
      assert.equal(view.byteLength, 0, "A's view over the cut pages was detached");
      expectStatus(() => mapA.read(2 * P, 1), S.ErrOutOfRange, "page_fault");
      got.setSize(2 * P);
      assert.equal(keep.size, 2 * P);
      got.close();
      inA.close();
      inB.close();
    });
  });

  it("an endpoint travels too: its messages then arrive in the other kernel", () => {
    withTwo(t, (a, b) => {
      const [inA, inB] = a.createChannel(0, b);
      const [x, y] = a.createChannel();
      inA.write(new Uint8Array(0), [y]);
      const y2 = inB.read().handles[0] as Channel;
      assert.ok(y2 instanceof Channel && y2.kernel === b);
      assert.equal(y2.basicInfo().relatedKoid, x.koid);
      assert.equal(y2.rights, Rights.DefaultChannel);
      x.write(enc.encode("x to y"));
      assert.equal(dec.decode(y2.read().bytes), "x to y");
      const v = b.createVmo(P);
      v.write(enc.encode("b's"), 0);
      y2.write(new Uint8Array(0), [v]);
      const back = x.read().handles[0] as Vmo;
      assert.equal(back.kernel, a);
      assert.equal(dec.decode(back.read(3, 0)), "b's");
      back.close();
      for (const h of [inA, inB, x, y2]) h.close();
      assert.deepEqual([a.handleCount, b.handleCount], [0, 0]);
    });
  });
}

function lifetime(t: SuiteContext): void {
  it("closing a kernel closes its endpoints: the peer elsewhere sees PEER_CLOSED", async () => {
    await withTwoAsync(t, async (a, b) => {
      const [inA, inB] = a.createChannel(0, b);
      inA.write(enc.encode("last words"));
      const wait = inB.waitOne(PC);
      a.close();
      assert.ok((await wait) & PC, "b's wait was not canceled by a's close");
      assert.equal(inB.signals, R | PC);
      assert.equal(dec.decode(inB.read().bytes), "last words");
      expectStatus(() => inB.read(), S.ErrPeerClosed);
      expectStatus(() => inB.write(new Uint8Array(0)), S.ErrPeerClosed);
      inB.close();
    });
  });

  it("a VMO in flight outlives the kernel that made it", () => {
    withTwo(t, (a, b) => {
      const [inA, inB] = a.createChannel(0, b);
      const { vmo, marker } = markedVmo(a);
      const koid = vmo.koid;
      inA.write(new Uint8Array(0), [vmo]);
      a.close();
      const got = inB.read().handles[0] as Vmo;
      assert.equal(got.koid, koid);
      assert.deepEqual(got.read(16, 0), marker);
      using m = b.rootVmar.map(RW, 0, got, 0, 2 * P);
      m.write(P, marker);
      assert.deepEqual(got.read(16, P), marker);
      got.close();
      inB.close();
    });
  });

  it("a VMO mapped in two kernels keeps working in one after the other closes", () => {
    withTwo(t, (a, b) => {
      const [inA, inB] = a.createChannel(0, b);
      const { vmo, marker } = markedVmo(a);
      const mapA = a.rootVmar.map(RW, 0, vmo, 0, 2 * P);
      const viewA = mapA.bytes();
      inA.write(new Uint8Array(0), [vmo]);
      const got = inB.read().handles[0] as Vmo;
      using mapB = b.rootVmar.map(RW, 0, got, 0, 2 * P);
      a.close();
      assert.equal(viewA.byteLength, 0, "a's views went with a");
      assert.deepEqual(mapB.read(0, 16), marker);
      mapB.write(P, marker);
      assert.deepEqual(got.read(16, P), marker);
      assert.equal(got.info().numMappings, 1, "a's mapping went with a");
      got.close();
      inB.close();
    });
  });

  it("closing an endpoint releases the VMOs queued for it; a closed kernel releases its queues", () => {
    withTwo(t, (a, b) => {
      const native = a.backend === "native";
      const [c1, c2] = a.createChannel();
      const one = markedVmo(a);
      const ino = native ? inodeWithMarker(one.marker) : -1;
      c1.write(new Uint8Array(0), [one.vmo]);
      if (native) assert.equal(fdsOnInode(ino), 1, "the in-flight VMO keeps its memfd");
      c2.close();
      if (native) assert.equal(fdsOnInode(ino), 0, "closing the endpoint closed the memfd");
      c1.close();
      // A kernel that closes with messages queued in its own channels releases them too.
      const [d1, d2] = b.createChannel();
      const two = markedVmo(b);
      const ino2 = native ? inodeWithMarker(two.marker) : -1;
      d1.write(new Uint8Array(0), [two.vmo]);
      void d2;
      b.close();
      if (native) assert.equal(fdsOnInode(ino2), 0, "the kernel's close closed the memfd");
    });
  });

  it("the memfd of a VMO shared by two kernels closes only when neither uses it", () => {
    withTwo(t, (a, b) => {
      const [inA, inB] = a.createChannel(0, b);
      const { vmo, marker } = markedVmo(a);
      const native = a.backend === "native";
      const ino = native ? inodeWithMarker(marker) : -1;
      inA.write(new Uint8Array(0), [vmo]);
      const got = inB.read().handles[0] as Vmo;
      const m = b.rootVmar.map(O.VmPermRead, 0, got, 0, P);
      a.close();
      if (native) assert.equal(fdsOnInode(ino), 1, "b still uses it: a did not close it");
      got.close();
      if (native) assert.equal(fdsOnInode(ino), 1, "b's mapping still uses it");
      assert.deepEqual(m.read(0, 16), marker);
      m.unmap();
      if (native) assert.equal(fdsOnInode(ino), 0, "nothing references the VMO any more");
      inB.close();
    });
  });

  it("the receiving kernel's close leaves the sender's VMO (and its memfd) alone", () => {
    withTwo(t, (a, b) => {
      const [inA, inB] = a.createChannel(0, b);
      const { vmo, marker } = markedVmo(a);
      const native = a.backend === "native";
      const ino = native ? inodeWithMarker(marker) : -1;
      using keep = vmo.duplicate();
      using mapA = a.rootVmar.map(RW, 0, keep, 0, 2 * P);
      inA.write(new Uint8Array(0), [vmo]);
      const got = inB.read().handles[0] as Vmo;
      b.rootVmar.map(RW, 0, got, 0, 2 * P).write(P, marker); // left mapped in b
      b.close();
      assert.equal(got.valid, false);
      if (native) assert.equal(fdsOnInode(ino), 1, "b's close did not close a's memfd");
      assert.deepEqual(mapA.read(P, 16), marker, "what b wrote is there");
      assert.equal(keep.info().numMappings, 1, "b's mapping went with b");
      mapA.write(0, marker);
      assert.deepEqual(keep.read(16, 0), marker);
      assert.equal(inA.signals, PC);
      inA.close();
    });
  });

  it("a handle moved away does not count in either kernel's handleCount while in flight", () => {
    withTwo(t, (a, b) => {
      const [inA, inB] = a.createChannel(0, b);
      inA.write(new Uint8Array(0), [a.createVmo(P), a.createVmo(P)]);
      assert.deepEqual([a.handleCount, b.handleCount], [1, 1]);
      const got = inB.read().handles;
      assert.deepEqual([a.handleCount, b.handleCount], [1, 3]);
      for (const h of got) h.close();
      inA.close();
      inB.close();
    });
  });
}

function backends(t: SuiteContext): void {
  it("a VMO cannot move to a kernel of the other backend (ErrNotSupported); bytes can", () => {
    const a = t.open();
    const other = otherKind(a);
    try {
      if (other === null) return; // the other backend is not available here
      const [inA, inO] = a.createChannel(0, other);
      inA.write(enc.encode("bytes only"));
      assert.equal(dec.decode(inO.read().bytes), "bytes only");
      const vmo = a.createVmo(P);
      const e = expectStatus(() => inA.write(new Uint8Array(0), [vmo]), S.ErrNotSupported);
      assert.match(e.message, /backend/);
      assert.equal(vmo.valid, false, "consumed like any refused handle");
      const back = other.createVmo(P);
      expectStatus(() => inO.write(new Uint8Array(0), [back]), S.ErrNotSupported);
      inA.close();
      inO.close();
    } finally {
      a.close();
      other?.close();
    }
  });

  it("a read refuses a message with a VMO of the other backend kind; it stays queued", () => {
    const a = t.open();
    const other = otherKind(a);
    try {
      if (other === null) return;
      const [inA, inO] = a.createChannel(0, other);
      const [x, y] = a.createChannel();
      x.write(new Uint8Array([1]), [a.createVmo(P)]); // queued for y, which is still a's
      inA.write(new Uint8Array(0), [y]); // y moves to the other kernel with its queue
      const y2 = inO.read().handles[0] as Channel;
      expectStatus(() => y2.read(), S.ErrNotSupported, "zx_channel_read");
      expectStatus(() => y2.read(ChannelOptions.ReadMayDiscard), S.ErrNotSupported);
      assert.equal(y2.signals, W | R, "the message stays queued");
      y2.close(); // closing the endpoint releases the message and its VMO
      for (const h of [inA, inO, x]) h.close();
    } finally {
      a.close();
      other?.close();
    }
  });
}

function waits(t: SuiteContext): void {
  it("waitOne: READABLE when a message arrives, PEER_CLOSED when the peer closes", async () => {
    await withTwoAsync(t, async (a, b) => {
      const [inA, inB] = a.createChannel(0, b);
      assert.equal(await inB.waitOne(W, { deadline: 0 }), W, "asserted: resolves at once");
      await assert.rejects(
        inB.waitOne(R, { deadline: Date.now() + 5 }),
        (e: unknown) => e instanceof ZxError && e.status === S.ErrTimedOut,
      );
      const readable = inB.waitOne(R);
      setTimeout(() => inA.write(enc.encode("later")), 5);
      assert.equal(await readable, W | R);
      const closed = inB.waitOne(PC);
      await sleep(1);
      inA.close();
      assert.equal(await closed, R | PC);
      inB.close();
    });
  });

  it("waitOne needs WAIT; closing the waiting handle cancels the wait", async () => {
    await withTwoAsync(t, async (a, _b) => {
      const [x, y] = a.createChannel();
      const noWait = y.replace(Rights.DefaultChannel & ~Rights.Wait);
      expectStatus(() => noWait.waitOne(R), S.ErrAccessDenied, "zx_object_wait_one");
      expectStatus(() => noWait.signals, S.ErrAccessDenied);
      const wait = x.waitOne(R);
      x.close();
      await assert.rejects(
        wait,
        (e: unknown) => e instanceof ZxError && e.status === S.ErrCanceled,
      );
      noWait.close();
    });
  });
}

function iterator(t: SuiteContext): void {
  it("for await: queued messages, then later ones, until the peer closes", async () => {
    await withTwoAsync(t, async (a, b) => {
      const [inA, inB] = a.createChannel(0, b);
      inA.write(new Uint8Array([1]));
      inA.write(new Uint8Array([2]), [a.createVmo(P)]);
      setTimeout(() => {
        inA.write(new Uint8Array([3]));
        setTimeout(() => inA.close(), 2);
      }, 2);
      const seen: number[] = [];
      for await (const msg of inB) {
        seen.push(msg.bytes[0]);
        for (const h of msg.handles) {
          assert.equal(h.kernel, b);
          h.close();
        }
      }
      assert.deepEqual(seen, [1, 2, 3]);
      assert.equal(inB.valid, true, "the iterator does not close the endpoint");
      inB.close();
    });
  });

  it("for await: break leaves the rest queued; other failures are thrown", async () => {
    await withTwoAsync(t, async (a, _b) => {
      const [x, y] = a.createChannel();
      for (let i = 0; i < 3; i++) x.write(new Uint8Array([i]));
      for await (const msg of y) {
        assert.equal(msg.bytes[0], 0);
        break;
      }
      assert.equal(y.read().bytes[0], 1, "break consumed one message only");
      y.read();
      const loop = (async () => {
        for await (const _ of y) { /* waits: nothing is queued */ }
      })();
      await sleep(2);
      y.close(); // closing the handle cancels the iterator's wait
      await assert.rejects(
        loop,
        (e: unknown) => e instanceof ZxError && e.status === S.ErrCanceled,
      );
      const noRead = x.replace(Rights.DefaultChannel & ~Rights.Read);
      const it = noRead[Symbol.asyncIterator]();
      await assert.rejects(
        it.next(),
        (e: unknown) => e instanceof ZxError && e.status === S.ErrAccessDenied,
      );
      noRead.close();
      expectTypeError(() => Reflect.apply(Channel.prototype[Symbol.asyncIterator], {}, []));
      using vmo = a.createVmo(P);
      expectTypeError(() => Reflect.apply(Channel.prototype[Symbol.asyncIterator], vmo, []));
    });
  });
}
